package fakegraph

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const deltaSelectQuery = "?$select=id,userPrincipalName,mail"

// deltaPage gets one delta page by path or by a link from an earlier page
// and returns its users and links.
func deltaPage(t *testing.T, s *Server, pathOrLink string) (users []any, nextLink, deltaLink string) {
	t.Helper()
	path := strings.TrimPrefix(pathOrLink, s.BaseURL())
	status, _, body := get(t, s, path, validToken)
	if status != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200; body %v", path, status, body)
	}
	users, _ = body["value"].([]any)
	nextLink, _ = body["@odata.nextLink"].(string)
	deltaLink, _ = body["@odata.deltaLink"].(string)
	if (nextLink == "") == (deltaLink == "") {
		t.Fatalf("GET %s: got nextLink %q and deltaLink %q, want exactly one", path, nextLink, deltaLink)
	}
	return users, nextLink, deltaLink
}

// deltaRound reads every page of a round and returns its users and the
// delta link that ends it.
func deltaRound(t *testing.T, s *Server, start string) ([]any, string, int) {
	t.Helper()
	var all []any
	link := start
	for pages := 1; ; pages++ {
		users, next, delta := deltaPage(t, s, link)
		all = append(all, users...)
		if delta != "" {
			return all, delta, pages
		}
		link = next
	}
}

func TestUsersDeltaRounds(t *testing.T) {
	s := startServer(t)
	s.SetDeltaPageSize(2)
	for _, u := range []User{
		{ID: "u1", UserPrincipalName: "alex@contoso.com", Mail: "alex@contoso.com", DisplayName: "Alex"},
		{ID: "u2", UserPrincipalName: "blake@contoso.com", DisplayName: "Blake"},
		{ID: "u3", UserPrincipalName: "casey@contoso.com", Mail: "casey@contoso.com"},
		{ID: "u4", UserPrincipalName: "drew@contoso.com"},
	} {
		s.PutUser(u)
	}

	users, deltaLink, pages := deltaRound(t, s, "/users/delta()"+deltaSelectQuery)

	if pages != 2 {
		t.Errorf("got %d pages for 4 users, want 2", pages)
	}
	wantFull := []any{
		map[string]any{"id": "u1", "userPrincipalName": "alex@contoso.com", "mail": "alex@contoso.com"},
		map[string]any{"id": "u2", "userPrincipalName": "blake@contoso.com", "mail": nil},
		map[string]any{"id": "u3", "userPrincipalName": "casey@contoso.com", "mail": "casey@contoso.com"},
		map[string]any{"id": "u4", "userPrincipalName": "drew@contoso.com", "mail": nil},
	}
	if diff := cmp.Diff(wantFull, users); diff != "" {
		t.Errorf("full round mismatch (-want +got):\n%s", diff)
	}

	// A rename, a change to an unselected property, a soft delete, a
	// permanent delete and a new user.
	s.PutUser(User{ID: "u1", UserPrincipalName: "alex.smith@contoso.com", Mail: "alex@contoso.com", DisplayName: "Alex"})
	s.PutUser(User{ID: "u2", UserPrincipalName: "blake@contoso.com", DisplayName: "Blake Jones"})
	s.SoftDeleteUser("u3")
	s.DeleteUser("u4")
	s.PutUser(User{ID: "u5", UserPrincipalName: "eden@contoso.com", Mail: "eden@contoso.com"})

	users, deltaLink, _ = deltaRound(t, s, deltaLink)

	wantChanges := []any{
		map[string]any{"id": "u1", "userPrincipalName": "alex.smith@contoso.com"},
		map[string]any{"id": "u3", "@removed": map[string]any{"reason": "changed"}},
		map[string]any{"id": "u4", "@removed": map[string]any{"reason": "deleted"}},
		map[string]any{"id": "u5", "userPrincipalName": "eden@contoso.com", "mail": "eden@contoso.com"},
	}
	if diff := cmp.Diff(wantChanges, users); diff != "" {
		t.Errorf("incremental round mismatch (-want +got):\n%s", diff)
	}

	// Restoring a soft-deleted user reports all its selected properties.
	s.PutUser(User{ID: "u3", UserPrincipalName: "casey@contoso.com", Mail: "casey@contoso.com"})
	users, deltaLink, _ = deltaRound(t, s, deltaLink)
	wantRestored := []any{map[string]any{"id": "u3", "userPrincipalName": "casey@contoso.com", "mail": "casey@contoso.com"}}
	if diff := cmp.Diff(wantRestored, users); diff != "" {
		t.Errorf("round after restore mismatch (-want +got):\n%s", diff)
	}

	users, _, _ = deltaRound(t, s, deltaLink)
	if len(users) != 0 {
		t.Errorf("got %d users in a round without changes, want 0: %v", len(users), users)
	}
}

func TestUsersDeltaPaths(t *testing.T) {
	s := startServer(t)
	s.PutUser(User{ID: "u1", UserPrincipalName: "alex@contoso.com"})
	for _, path := range []string{"/users/delta()", "/users/delta"} {
		t.Run(path, func(t *testing.T) {
			users, _, deltaLink := deltaPage(t, s, path+deltaSelectQuery)
			if len(users) != 1 {
				t.Errorf("got %d users, want 1", len(users))
			}
			if !strings.HasPrefix(deltaLink, s.BaseURL()+"/users/delta()?$deltatoken=") {
				t.Errorf("got deltaLink %q, want one on %s/users/delta()", deltaLink, s.BaseURL())
			}
		})
	}
	if got := s.Requests("/v1.0/users/delta"); got != 2 {
		t.Errorf("got %d delta requests counted, want 2", got)
	}
}

func TestUsersDeltaExpiredToken(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		wantStatus int
	}{
		{name: "directory status", status: 0, wantStatus: http.StatusBadRequest},
		{name: "gone", status: http.StatusGone, wantStatus: http.StatusGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			s.SetDeltaPageSize(1)
			s.PutUser(User{ID: "u1", UserPrincipalName: "alex@contoso.com"})
			s.PutUser(User{ID: "u2", UserPrincipalName: "blake@contoso.com"})
			_, nextLink, _ := deltaPage(t, s, "/users/delta()"+deltaSelectQuery)
			_, deltaLink, _ := deltaRound(t, s, nextLink)

			s.ExpireDeltaTokens(tt.status)

			for name, link := range map[string]string{"delta link": deltaLink, "next link": nextLink} {
				status, _, body := get(t, s, strings.TrimPrefix(link, s.BaseURL()), validToken)
				if status != tt.wantStatus {
					t.Errorf("%s: got status %d, want %d", name, status, tt.wantStatus)
				}
				if got := errorCode(body); got != "syncStateNotFound" {
					t.Errorf("%s: got error code %q, want syncStateNotFound", name, got)
				}
			}
			// A new full round works again.
			if users, _, _ := deltaRound(t, s, "/users/delta()"+deltaSelectQuery); len(users) != 2 {
				t.Errorf("got %d users in a new full round, want 2", len(users))
			}
		})
	}
}

func TestUsersDeltaLatest(t *testing.T) {
	s := startServer(t)
	s.PutUser(User{ID: "u1", UserPrincipalName: "alex@contoso.com"})

	users, _, deltaLink := deltaPage(t, s, "/users/delta()?$deltatoken=latest&$select=id,userPrincipalName")
	if len(users) != 0 {
		t.Errorf("got %d users for $deltatoken=latest, want 0", len(users))
	}
	s.PutUser(User{ID: "u2", UserPrincipalName: "blake@contoso.com"})
	users, _, _ = deltaRound(t, s, deltaLink)
	want := []any{map[string]any{"id": "u2", "userPrincipalName": "blake@contoso.com"}}
	if diff := cmp.Diff(want, users); diff != "" {
		t.Errorf("round after latest mismatch (-want +got):\n%s", diff)
	}
}

func TestUsersDeltaBadRequests(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{
		"/users/delta()?$select=id,nickname",
		"/users/delta()?$deltatoken=never-issued",
		"/users/delta()?$skiptoken=never-issued",
	} {
		status, _, body := get(t, s, path, validToken)
		if status != http.StatusBadRequest || errorCode(body) != "BadRequest" {
			t.Errorf("GET %s: got status %d, code %q, want 400 BadRequest", path, status, errorCode(body))
		}
	}
}
