package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

// readRound reads a delta round from link and returns its users, the
// delta link that ends it and the number of pages.
func readRound(t *testing.T, c *graph.Client, link string) ([]graph.DeltaUser, string, int) {
	t.Helper()
	var all []graph.DeltaUser
	for pages := 1; pages <= 100; pages++ {
		page, err := c.UsersDelta(t.Context(), link)
		if err != nil {
			t.Fatalf("UsersDelta page %d: %v", pages, err)
		}
		all = append(all, page.Users...)
		if page.DeltaLink != "" {
			if page.NextLink != "" {
				t.Errorf("page %d has both nextLink and deltaLink", pages)
			}
			return all, page.DeltaLink, pages
		}
		if page.NextLink == "" {
			t.Fatalf("page %d has neither nextLink nor deltaLink", pages)
		}
		link = page.NextLink
	}
	t.Fatal("round did not end within 100 pages")
	return nil, "", 0
}

func TestUsersDelta(t *testing.T) {
	f := startFakes(t)
	f.graph.SetDeltaPageSize(2)
	for _, u := range []fakegraph.User{
		{ID: "u1", UserPrincipalName: "alex@contoso.com", Mail: "alex@contoso.com", DisplayName: "Alex"},
		{ID: "u2", UserPrincipalName: "blake@contoso.com"},
		{ID: "u3", UserPrincipalName: "casey@contoso.com", Mail: "casey@contoso.com"},
	} {
		f.graph.PutUser(u)
	}
	client := newClient(t, f.cfg)

	users, deltaLink, pages := readRound(t, client, "")

	if pages != 2 {
		t.Errorf("got %d pages, want 2", pages)
	}
	wantFull := []graph.DeltaUser{
		{ID: "u1", UserPrincipalName: "alex@contoso.com", Mail: "alex@contoso.com"},
		{ID: "u2", UserPrincipalName: "blake@contoso.com"},
		{ID: "u3", UserPrincipalName: "casey@contoso.com", Mail: "casey@contoso.com"},
	}
	if diff := cmp.Diff(wantFull, users); diff != "" {
		t.Errorf("full round mismatch (-want +got):\n%s", diff)
	}
	if got := f.graph.Requests("/v1.0/users/delta()"); got != 2 {
		t.Errorf("got %d requests to /v1.0/users/delta(), want 2", got)
	}

	f.graph.PutUser(fakegraph.User{ID: "u1", UserPrincipalName: "alex.smith@contoso.com", Mail: "alex@contoso.com", DisplayName: "Alex"})
	f.graph.SoftDeleteUser("u2")
	f.graph.DeleteUser("u3")

	users, _, _ = readRound(t, client, deltaLink)

	wantChanges := []graph.DeltaUser{
		{ID: "u1", UserPrincipalName: "alex.smith@contoso.com"},
		{ID: "u2", Removed: "changed"},
		{ID: "u3", Removed: "deleted"},
	}
	if diff := cmp.Diff(wantChanges, users); diff != "" {
		t.Errorf("incremental round mismatch (-want +got):\n%s", diff)
	}
}

func TestUsersDeltaExpiredLink(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		wantStatus int
	}{
		{name: "directory", status: http.StatusBadRequest, wantStatus: http.StatusBadRequest},
		{name: "gone", status: http.StatusGone, wantStatus: http.StatusGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakes(t)
			f.graph.PutUser(fakegraph.User{ID: "u1", UserPrincipalName: "alex@contoso.com"})
			client := newClient(t, f.cfg)
			_, deltaLink, _ := readRound(t, client, "")
			f.graph.ExpireDeltaTokens(tt.status)

			_, err := client.UsersDelta(t.Context(), deltaLink)

			got := asFailure(t, err)
			if got.Status != tt.wantStatus {
				t.Errorf("got Status %d, want %d", got.Status, tt.wantStatus)
			}
			if got.Code != "syncStateNotFound" {
				t.Errorf("got Code %q, want syncStateNotFound", got.Code)
			}
			if !subscription.ResyncRequired(err) {
				t.Errorf("got ResyncRequired false for %v, want true", err)
			}
		})
	}
}

func TestUsersDeltaForeignLink(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)

	_, err := client.UsersDelta(t.Context(), "https://graph.example.com/v1.0/users/delta()?$deltatoken=abc")

	got := asFailure(t, err)
	if got.Class != failure.Permanent {
		t.Errorf("got Class %v, want %v", got.Class, failure.Permanent)
	}
	if !strings.Contains(got.Detail, "graph.example.com") {
		t.Errorf("got detail %q, want it to name the link", got.Detail)
	}
	if n := f.graph.TotalRequests(); n != 0 {
		t.Errorf("got %d requests at the fake Graph, want 0", n)
	}
}
