package mapping_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/mapping"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/scim"
)

const (
	testToken = "mapping-test-key-51f2"
	objectID  = "2b3c1f7a-0000-4000-8000-000000000001"
	otherID   = "2b3c1f7a-0000-4000-8000-000000000002"
)

// env is one resolver wired to a real Redis store on its own key prefix and
// a real SCIM client talking to a fake directory.
type env struct {
	resolver *mapping.Resolver
	store    *redisstore.Store
	srv      *fakescim.Server
}

func newEnv(t *testing.T) env {
	t.Helper()
	srv, err := fakescim.Start(fakescim.Options{Token: testToken})
	if err != nil {
		t.Fatalf("start fake scim: %v", err)
	}
	t.Cleanup(srv.Close)
	client, err := scim.New(srv.BaseURL(), testToken, scim.Options{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatalf("scim.New: %v", err)
	}
	store := redistest.NewStore(t)
	return env{
		resolver: &mapping.Resolver{Store: store, Directory: client},
		store:    store,
		srv:      srv,
	}
}

// addUser stores an active user in the fake directory and returns it with
// its assigned ID.
func (e env) addUser(userName, externalID string) scim.User {
	active := true
	return e.srv.AddUser(scim.User{
		UserName:   userName,
		ExternalID: externalID,
		Emails:     []scim.Email{{Value: userName, Type: "work", Primary: true}},
		Active:     &active,
	})
}

func (e env) setMapping(t *testing.T, objectID, scimID string) {
	t.Helper()
	if err := e.store.SetMapping(context.Background(), objectID, scimID); err != nil {
		t.Fatalf("SetMapping: %v", err)
	}
}

// assertMapping checks the stored mapping of objectID. An empty want means
// no mapping.
func (e env) assertMapping(t *testing.T, objectID, want string) {
	t.Helper()
	got, ok, err := e.store.Mapping(context.Background(), objectID)
	if err != nil {
		t.Fatalf("Mapping: %v", err)
	}
	if want == "" && ok {
		t.Errorf("stored mapping of %s is %q, want none", objectID, got)
	}
	if want != "" && got != want {
		t.Errorf("stored mapping of %s is %q (found %v), want %q", objectID, got, ok, want)
	}
}

// sent returns each request the fake received as "METHOD path" with the
// decoded filter, if any, appended.
func (e env) sent(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range e.srv.Requests() {
		line := r.Method + " " + r.Path
		query, err := url.ParseQuery(r.Query)
		if err != nil {
			t.Fatalf("parse sent query %q: %v", r.Query, err)
		}
		if f := query.Get("filter"); f != "" {
			line += " filter=" + f
		}
		out = append(out, line)
	}
	return out
}

// basePath is the path of the fake's base URL.
func (e env) basePath(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(e.srv.BaseURL())
	if err != nil {
		t.Fatalf("parse base URL: %v", err)
	}
	return u.Path
}

func TestResolveStoredMapping(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alex@contoso.com", objectID)
	e.setMapping(t, objectID, u.ID)

	got, err := e.resolver.Resolve(context.Background(), objectID, "alex@contoso.com")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got.ID != u.ID {
		t.Errorf("got SCIM user %q, want %q", got.ID, u.ID)
	}
	want := []string{"GET " + e.basePath(t) + "/Users/" + u.ID}
	if diff := cmp.Diff(want, e.sent(t)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestResolveStaleMapping(t *testing.T) {
	tests := []struct {
		name string
		// stale sets up the fake so that a GET of the returned ID gets
		// 404.
		stale func(e env) string
	}{
		{"user deleted", func(e env) string { return "deleted-user" }},
		{"user deactivated", func(e env) string {
			inactive := false
			u := e.srv.AddUser(scim.User{UserName: "old@contoso.com", ExternalID: "someone-else", Active: &inactive,
				Emails: []scim.Email{{Value: "old@contoso.com", Type: "work", Primary: true}}})
			return u.ID
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			staleID := tt.stale(e)
			u := e.addUser("alex@contoso.com", objectID)
			e.setMapping(t, objectID, staleID)

			got, err := e.resolver.Resolve(context.Background(), objectID, "")
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got.ID != u.ID {
				t.Errorf("got SCIM user %q, want %q", got.ID, u.ID)
			}
			e.assertMapping(t, objectID, u.ID)
		})
	}
}

func TestResolveStaleMappingNothingFound(t *testing.T) {
	e := newEnv(t)
	e.setMapping(t, objectID, "deleted-user")

	_, err := e.resolver.Resolve(context.Background(), objectID, "")
	if !errors.Is(err, mapping.ErrUnmapped) {
		t.Fatalf("got error %v, want ErrUnmapped", err)
	}
	if want := "stored mapping to SCIM user deleted-user (not found, removed)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	e.assertMapping(t, objectID, "")
}

func TestResolveKeepsMappingOnOtherErrors(t *testing.T) {
	e := newEnv(t)
	u := e.addUser("alex@contoso.com", objectID)
	e.setMapping(t, objectID, u.ID)
	e.srv.FailNext(1, http.StatusServiceUnavailable, nil, nil)

	_, err := e.resolver.Resolve(context.Background(), objectID, "alex@contoso.com")
	if err == nil {
		t.Fatal("got nil error, want the 503")
	}
	if got := failure.ClassOf(err); got != failure.Retryable {
		t.Errorf("got class %v, want %v", got, failure.Retryable)
	}
	e.assertMapping(t, objectID, u.ID)
	if n := len(e.srv.Requests()); n != 1 {
		t.Errorf("got %d requests, want 1: a failed read must not fall through to the filters", n)
	}
}

func TestResolveFilterErrorKeepsClass(t *testing.T) {
	e := newEnv(t)
	e.srv.FailNext(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"12"}}, nil)

	_, err := e.resolver.Resolve(context.Background(), objectID, "alex@contoso.com")
	if got := failure.ClassOf(err); got != failure.Retryable {
		t.Errorf("got class %v, want %v (error %v)", got, failure.Retryable, err)
	}
	if got := failure.RetryAfterOf(err); got.Seconds() != 12 {
		t.Errorf("got RetryAfter %v, want 12s", got)
	}
	if errors.Is(err, mapping.ErrUnmapped) {
		t.Errorf("got ErrUnmapped for a failed filter: %v", err)
	}
	e.assertMapping(t, objectID, "")
}

func TestResolveByExternalIDCached(t *testing.T) {
	e := newEnv(t)
	e.addUser("someone@contoso.com", otherID)
	u := e.addUser("alex@contoso.com", objectID)
	base := e.basePath(t)

	first, err := e.resolver.Resolve(context.Background(), objectID, "alex.old@contoso.com")
	if err != nil {
		t.Fatalf("first Resolve: %v", err)
	}
	if first.ID != u.ID {
		t.Errorf("first Resolve: got SCIM user %q, want %q", first.ID, u.ID)
	}
	e.assertMapping(t, objectID, u.ID)

	second, err := e.resolver.Resolve(context.Background(), objectID, "alex.old@contoso.com")
	if err != nil {
		t.Fatalf("second Resolve: %v", err)
	}
	if second.ID != u.ID {
		t.Errorf("second Resolve: got SCIM user %q, want %q", second.ID, u.ID)
	}

	want := []string{
		"GET " + base + `/Users filter=externalId eq "` + objectID + `"`,
		"GET " + base + "/Users/" + u.ID,
	}
	if diff := cmp.Diff(want, e.sent(t)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestResolveByUserName(t *testing.T) {
	tests := []struct {
		name       string
		externalID string
		wantFound  bool
	}{
		{"externalId empty accepted", "", true},
		{"externalId of another user rejected", otherID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.addUser("alex@contoso.com", tt.externalID)

			got, err := e.resolver.Resolve(context.Background(), objectID, "alex@contoso.com")
			if !tt.wantFound {
				if !errors.Is(err, mapping.ErrUnmapped) {
					t.Fatalf("got user %q, error %v, want ErrUnmapped", got.ID, err)
				}
				e.assertMapping(t, objectID, "")
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got.ID != u.ID {
				t.Errorf("got SCIM user %q, want %q", got.ID, u.ID)
			}
			e.assertMapping(t, objectID, u.ID)
		})
	}
}

func TestResolveUserNameFallbackSkipsOthers(t *testing.T) {
	e := newEnv(t)
	e.addUser("alex@contoso.com", otherID)
	mine := e.addUser("ALEX@contoso.com", "")

	got, err := e.resolver.Resolve(context.Background(), objectID, "alex@contoso.com")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got.ID != mine.ID {
		t.Errorf("got SCIM user %q, want %q, the one without another object ID", got.ID, mine.ID)
	}
}

func TestResolveAmbiguous(t *testing.T) {
	tests := []struct {
		name     string
		userA    [2]string // userName, externalId
		userB    [2]string
		wantAttr string
	}{
		{"by externalId", [2]string{"a@contoso.com", objectID}, [2]string{"b@contoso.com", objectID}, "externalId"},
		{"by userName", [2]string{"alex@contoso.com", ""}, [2]string{"Alex@contoso.com", ""}, "userName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.addUser(tt.userA[0], tt.userA[1])
			b := e.addUser(tt.userB[0], tt.userB[1])

			_, err := e.resolver.Resolve(context.Background(), objectID, "alex@contoso.com")
			if !errors.Is(err, mapping.ErrAmbiguous) {
				t.Fatalf("got error %v, want ErrAmbiguous", err)
			}
			for _, want := range []string{a.ID, b.ID, "by " + tt.wantAttr} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			e.assertMapping(t, objectID, "")
		})
	}
}

func TestResolveUnmapped(t *testing.T) {
	tests := []struct {
		name         string
		lastUserName string
		wantTried    []string
		wantNot      []string
	}{
		{
			name:         "both filters",
			lastUserName: "alex@contoso.com",
			wantTried:    []string{`SCIM externalId eq "` + objectID + `"`, `SCIM userName eq "alex@contoso.com"`},
		},
		{
			name:      "no last userName",
			wantTried: []string{`SCIM externalId eq "` + objectID + `"`},
			wantNot:   []string{"userName"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.addUser("someone@contoso.com", otherID)

			_, err := e.resolver.Resolve(context.Background(), objectID, tt.lastUserName)
			if !errors.Is(err, mapping.ErrUnmapped) {
				t.Fatalf("got error %v, want ErrUnmapped", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, objectID) {
				t.Errorf("error %q does not name object ID %s", msg, objectID)
			}
			for _, want := range tt.wantTried {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not list %s", msg, want)
				}
			}
			for _, notWant := range tt.wantNot {
				if strings.Contains(msg, notWant) {
					t.Errorf("error %q mentions %s, want it left out", msg, notWant)
				}
			}
			if got, want := len(e.srv.Requests()), len(tt.wantTried); got != want {
				t.Errorf("got %d requests, want %d", got, want)
			}
			e.assertMapping(t, objectID, "")
		})
	}
}

func TestResolveFilterValuesIntact(t *testing.T) {
	tests := []struct {
		name         string
		externalID   string
		lastUserName string
		storedName   string
		storedExtID  string
	}{
		{
			name:        "externalId with quote and backslash",
			externalID:  `ext"id\with\"escapes`,
			storedName:  "alex@contoso.com",
			storedExtID: `ext"id\with\"escapes`,
		},
		{
			name:         "userName with quote, backslash and apostrophe",
			externalID:   objectID,
			lastUserName: `o'brien"\@contoso.com`,
			storedName:   `o'brien"\@contoso.com`,
		},
		{
			name:         "guest userName",
			externalID:   objectID,
			lastUserName: "o'brien_fabrikam.com#EXT#@contoso.onmicrosoft.com",
			storedName:   "o'brien_fabrikam.com#EXT#@contoso.onmicrosoft.com",
		},
		{
			name:         "userName with escape lookalike",
			externalID:   objectID,
			lastUserName: `a\"b\u0022c@contoso.com`,
			storedName:   `a\"b\u0022c@contoso.com`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			// A decoy holds the value without its backslashes: resolving to
			// it would mean the escapes were lost on the way.
			decoyName := strings.ReplaceAll(tt.storedName, `\`, "")
			decoyExtID := strings.ReplaceAll(tt.storedExtID, `\`, "")
			if decoyName != tt.storedName || decoyExtID != tt.storedExtID {
				e.addUser(decoyName, decoyExtID)
			}
			u := e.addUser(tt.storedName, tt.storedExtID)

			got, err := e.resolver.Resolve(context.Background(), tt.externalID, tt.lastUserName)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got.ID != u.ID {
				t.Errorf("got SCIM user %q, want %q", got.ID, u.ID)
			}
			e.assertMapping(t, tt.externalID, u.ID)
		})
	}
}

func TestInvalidate(t *testing.T) {
	e := newEnv(t)
	e.setMapping(t, objectID, "scim-1")
	e.setMapping(t, otherID, "scim-2")

	if err := e.resolver.Invalidate(context.Background(), objectID); err != nil {
		t.Fatalf("Invalidate: %v", err)
	}
	e.assertMapping(t, objectID, "")
	e.assertMapping(t, otherID, "scim-2")

	if err := e.resolver.Invalidate(context.Background(), objectID); err != nil {
		t.Errorf("second Invalidate: got %v, want nil for a missing mapping", err)
	}
}

func TestResolveDropsMappingToAnotherPerson(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	other := e.addUser("someone.else@contoso.com", otherID)
	mine := e.addUser("alex@contoso.com", objectID)
	if err := e.store.SetMapping(ctx, objectID, other.ID); err != nil {
		t.Fatalf("SetMapping: %v", err)
	}

	got, err := e.resolver.Resolve(ctx, objectID, "")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got.ID != mine.ID {
		t.Errorf("resolved to SCIM user %s, want %s: the stored mapping pointed at another person", got.ID, mine.ID)
	}
	if id, _, _ := e.store.Mapping(ctx, objectID); id != mine.ID {
		t.Errorf("stored mapping = %s, want it replaced by %s", id, mine.ID)
	}
}
