package fakescim_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// patchBody wraps operations, written as JSON, in a PatchOp request.
func patchBody(operations string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + operations + `]}`
}

func TestPatchOperations(t *testing.T) {
	twoEmails := scim.User{
		UserName: "alex@contoso.com",
		Emails: []scim.Email{
			{Value: "alex@contoso.com", Type: "work", Primary: true},
			{Value: "alex@home.example", Type: "home"},
		},
		Active: boolPtr(true),
	}
	homeOnly := scim.User{
		UserName: "alex@home.example",
		Emails:   []scim.Email{{Value: "alex@home.example", Type: "home", Primary: true}},
	}

	tests := []struct {
		name  string
		start scim.User
		body  string
		// want is the stored user afterwards; on an error it must equal start.
		want         func(u scim.User) scim.User
		wantStatus   int
		wantScimType string
	}{
		{
			name:  "replace userName",
			start: twoEmails,
			body:  patchBody(`{"op":"replace","path":"userName","value":"alex.smith@contoso.com"}`),
			want: func(u scim.User) scim.User {
				u.UserName = "alex.smith@contoso.com"
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "op name ignores case",
			start: twoEmails,
			body:  patchBody(`{"op":"Replace","path":"externalId","value":"ext-9"}`),
			want: func(u scim.User) scim.User {
				u.ExternalID = "ext-9"
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "lower-case operations key",
			start: twoEmails,
			body:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"op":"replace","path":"active","value":false}]}`,
			want: func(u scim.User) scim.User {
				u.Active = boolPtr(false)
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "path-less replace",
			start: twoEmails,
			body:  patchBody(`{"op":"replace","value":{"userName":"new@contoso.com","active":false}}`),
			want: func(u scim.User) scim.User {
				u.UserName = "new@contoso.com"
				u.Active = boolPtr(false)
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "replace work email value",
			start: twoEmails,
			body:  patchBody(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"alex.smith@contoso.com"}`),
			want: func(u scim.User) scim.User {
				u.Emails[0].Value = "alex.smith@contoso.com"
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "filter with and",
			start: twoEmails,
			body:  patchBody(`{"op":"replace","path":"emails[type eq \"work\" and primary eq true].value","value":"x@contoso.com"}`),
			want: func(u scim.User) scim.User {
				u.Emails[0].Value = "x@contoso.com"
				return u
			},
			wantStatus: 200,
		},
		{
			name:         "no work email",
			start:        homeOnly,
			body:         patchBody(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"alex@contoso.com"}`),
			wantStatus:   400,
			wantScimType: "noTarget",
		},
		{
			name:  "replace emails",
			start: homeOnly,
			body:  patchBody(`{"op":"replace","path":"emails","value":[{"value":"alex@contoso.com","type":"work","primary":true}]}`),
			want: func(u scim.User) scim.User {
				u.Emails = []scim.Email{{Value: "alex@contoso.com", Type: "work", Primary: true}}
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "add primary email moves primary",
			start: homeOnly,
			body:  patchBody(`{"op":"add","path":"emails","value":[{"value":"alex@contoso.com","type":"work","primary":true}]}`),
			want: func(u scim.User) scim.User {
				u.Emails = []scim.Email{
					{Value: "alex@home.example", Type: "home"},
					{Value: "alex@contoso.com", Type: "work", Primary: true},
				}
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "set primary by value filter",
			start: twoEmails,
			body:  patchBody(`{"op":"replace","path":"emails[value eq \"ALEX@home.example\"].primary","value":true}`),
			want: func(u scim.User) scim.User {
				u.Emails[0].Primary = false
				u.Emails[1].Primary = true
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "remove filtered email",
			start: twoEmails,
			body:  patchBody(`{"op":"remove","path":"emails[type eq \"home\"]"}`),
			want: func(u scim.User) scim.User {
				u.Emails = u.Emails[:1]
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "replace filtered email object",
			start: twoEmails,
			body:  patchBody(`{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"alex@home2.example"}}`),
			want: func(u scim.User) scim.User {
				u.Emails[1].Value = "alex@home2.example"
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "remove active",
			start: twoEmails,
			body:  patchBody(`{"op":"remove","path":"active"}`),
			want: func(u scim.User) scim.User {
				u.Active = nil
				return u
			},
			wantStatus: 200,
		},
		{
			name:  "URN-prefixed path",
			start: twoEmails,
			body:  patchBody(`{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"u@contoso.com"}`),
			want: func(u scim.User) scim.User {
				u.UserName = "u@contoso.com"
				return u
			},
			wantStatus: 200,
		},
		{
			name:         "remove all emails",
			start:        twoEmails,
			body:         patchBody(`{"op":"remove","path":"emails"}`),
			wantStatus:   400,
			wantScimType: "invalidValue",
		},
		{
			name:         "remove userName",
			start:        twoEmails,
			body:         patchBody(`{"op":"remove","path":"userName"}`),
			wantStatus:   400,
			wantScimType: "invalidValue",
		},
		{
			name:         "two primaries",
			start:        twoEmails,
			body:         patchBody(`{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`),
			wantStatus:   400,
			wantScimType: "invalidValue",
		},
		{
			name:         "remove without path",
			start:        twoEmails,
			body:         patchBody(`{"op":"remove"}`),
			wantStatus:   400,
			wantScimType: "noTarget",
		},
		{
			name:         "unknown op",
			start:        twoEmails,
			body:         patchBody(`{"op":"move","path":"userName","value":"x"}`),
			wantStatus:   400,
			wantScimType: "invalidSyntax",
		},
		{
			name:         "unsupported attribute",
			start:        twoEmails,
			body:         patchBody(`{"op":"replace","path":"name.givenName","value":"Alex"}`),
			wantStatus:   400,
			wantScimType: "invalidPath",
		},
		{
			name:         "malformed path",
			start:        twoEmails,
			body:         patchBody(`{"op":"replace","path":"emails[type eq \"work\".value","value":"x"}`),
			wantStatus:   400,
			wantScimType: "invalidPath",
		},
		{
			name:         "unsupported value filter",
			start:        twoEmails,
			body:         patchBody(`{"op":"replace","path":"emails[value sw \"alex\"].value","value":"x"}`),
			wantStatus:   400,
			wantScimType: "invalidFilter",
		},
		{
			name:         "read-only id",
			start:        twoEmails,
			body:         patchBody(`{"op":"replace","value":{"id":"other"}}`),
			wantStatus:   400,
			wantScimType: "mutability",
		},
		{
			name:         "active not boolean",
			start:        twoEmails,
			body:         patchBody(`{"op":"replace","path":"active","value":"False"}`),
			wantStatus:   400,
			wantScimType: "invalidValue",
		},
		{
			name:  "all or nothing",
			start: twoEmails,
			body: patchBody(`{"op":"replace","path":"userName","value":"changed@contoso.com"},` +
				`{"op":"replace","path":"emails[type eq \"other\"].value","value":"x"}`),
			wantStatus:   400,
			wantScimType: "noTarget",
		},
		{
			name:         "missing PatchOp schema",
			start:        twoEmails,
			body:         `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
			wantStatus:   400,
			wantScimType: "invalidSyntax",
		},
		{
			name:         "no operations",
			start:        twoEmails,
			body:         patchBody(``),
			wantStatus:   400,
			wantScimType: "invalidSyntax",
		},
		{
			name:         "not JSON",
			start:        twoEmails,
			body:         `op=replace`,
			wantStatus:   400,
			wantScimType: "invalidSyntax",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			u := srv.AddUser(tt.start)

			resp := send(t, srv, http.MethodPatch, "/Users/"+u.ID, tt.body, nil)
			if resp.status != tt.wantStatus {
				t.Fatalf("got status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			want := u
			if tt.wantStatus == http.StatusOK {
				want = tt.want(copyUser(u))
				if diff := cmp.Diff(want, resp.user(t)); diff != "" {
					t.Errorf("response user (-want +got):\n%s", diff)
				}
			} else if scimType, _ := resp.scimError(t); scimType != tt.wantScimType {
				t.Errorf("got scimType %q, want %q", scimType, tt.wantScimType)
			}
			stored, _ := srv.User(u.ID)
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored user (-want +got):\n%s", diff)
			}
		})
	}
}

func copyUser(u scim.User) scim.User {
	u.Emails = append([]scim.Email(nil), u.Emails...)
	if u.Active != nil {
		u.Active = boolPtr(*u.Active)
	}
	return u
}

func TestPatchErrors(t *testing.T) {
	tests := []struct {
		name         string
		id           string // empty means the second user
		body         string
		contentType  string
		wantStatus   int
		wantScimType string
		wantDetail   string
	}{
		{
			name:         "userName taken",
			body:         patchBody(`{"op":"replace","path":"userName","value":"FIRST@contoso.com"}`),
			wantStatus:   409,
			wantScimType: "uniqueness",
			wantDetail:   "Resource [USER]: with userName[FIRST@contoso.com] already exists.",
		},
		{
			name:         "email taken",
			body:         patchBody(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"first@contoso.com"}`),
			wantStatus:   409,
			wantScimType: "uniqueness",
			wantDetail:   "Resource [USER]: with email[first@contoso.com] already exists.",
		},
		{
			name:       "unknown user",
			id:         "missing",
			body:       patchBody(`{"op":"replace","path":"active","value":false}`),
			wantStatus: 404,
			wantDetail: "Resource [USER] with id [missing] not found",
		},
		{
			name:        "wrong content type",
			body:        patchBody(`{"op":"replace","path":"active","value":false}`),
			contentType: "text/plain",
			wantStatus:  415,
			wantDetail:  "Content-Type must be application/scim+json or application/json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			srv.AddUser(workUser("first@contoso.com"))
			second := srv.AddUser(workUser("second@contoso.com"))
			id := tt.id
			if id == "" {
				id = second.ID
			}
			var header http.Header
			if tt.contentType != "" {
				header = http.Header{"Content-Type": {tt.contentType}}
			}

			resp := send(t, srv, http.MethodPatch, "/Users/"+id, tt.body, header)
			if resp.status != tt.wantStatus {
				t.Fatalf("got status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			scimType, detail := resp.scimError(t)
			if scimType != tt.wantScimType {
				t.Errorf("got scimType %q, want %q", scimType, tt.wantScimType)
			}
			if detail != tt.wantDetail {
				t.Errorf("got detail %q, want %q", detail, tt.wantDetail)
			}
			if stored, _ := srv.User(second.ID); stored.UserName != "second@contoso.com" {
				t.Errorf("got userName %q after a failed PATCH, want it unchanged", stored.UserName)
			}
		})
	}
}

func TestPatchKeepsExistingDuplicates(t *testing.T) {
	srv := start(t)
	srv.AddUser(workUser("dup@contoso.com"))
	second := srv.AddUser(workUser("dup@contoso.com"))

	resp := send(t, srv, http.MethodPatch, "/Users/"+second.ID,
		patchBody(`{"op":"replace","path":"active","value":false}`), nil)
	if resp.status != http.StatusOK {
		t.Errorf("got status %d, want 200 because the PATCH does not touch the duplicate: %s", resp.status, resp.body)
	}
}

func TestPatchReactivatesUser(t *testing.T) {
	srv := start(t)
	u := workUser("alex@contoso.com")
	u.Active = boolPtr(false)
	u = srv.AddUser(u)

	resp := send(t, srv, http.MethodPatch, "/Users/"+u.ID, patchBody(`{"op":"replace","path":"active","value":true}`), nil)
	if resp.status != http.StatusOK {
		t.Fatalf("PATCH: got status %d, want 200: %s", resp.status, resp.body)
	}
	if resp := send(t, srv, http.MethodGet, "/Users/"+u.ID, "", nil); resp.status != http.StatusOK {
		t.Errorf("GET after reactivation: got status %d, want 200", resp.status)
	}
}

func TestVerifiedDomains(t *testing.T) {
	tests := []struct {
		name          string
		verified      []string
		ops           string
		wantAccountID string
	}{
		{"every domain verified", nil,
			`{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@fabrikam.com"}`, "acc-1"},
		{"verified domain", []string{"Contoso.COM", "fabrikam.com"},
			`{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@FABRIKAM.com"}`, "acc-1"},
		{"unverified domain", []string{"contoso.com"},
			`{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@fabrikam.com"}`, ""},
		{"userName only", []string{"contoso.com"},
			`{"op":"replace","path":"userName","value":"a@fabrikam.com"}`, "acc-1"},
		{"same address in other case", []string{"example.org"},
			`{"op":"replace","path":"emails[type eq \"work\"].value","value":"ALEX@contoso.com"}`, "acc-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			srv.SetVerifiedDomains(tt.verified)
			u := workUser("alex@contoso.com")
			u.AccountID = "acc-1"
			u = srv.AddUser(u)

			resp := send(t, srv, http.MethodPatch, "/Users/"+u.ID, patchBody(tt.ops), nil)
			if resp.status != http.StatusOK {
				t.Fatalf("got status %d, want 200: %s", resp.status, resp.body)
			}
			if got := resp.user(t).AccountID; got != tt.wantAccountID {
				t.Errorf("got account ID %q, want %q", got, tt.wantAccountID)
			}
		})
	}
}

func TestPatchesCounted(t *testing.T) {
	srv := start(t)
	a := srv.AddUser(workUser("a@contoso.com"))
	b := srv.AddUser(workUser("b@contoso.com"))
	body := patchBody(`{"op":"replace","path":"active","value":false}`)

	send(t, srv, http.MethodPatch, "/Users/"+a.ID, body, nil)
	send(t, srv, http.MethodPatch, "/Users/"+a.ID, `not json`, nil)
	send(t, srv, http.MethodPatch, "/Users/"+b.ID, body, nil)
	send(t, srv, http.MethodGet, "/Users/"+a.ID, "", nil)

	if got := srv.Patches(a.ID); got != 2 {
		t.Errorf("got %d PATCHes for a, want 2, failed ones included", got)
	}
	if got := srv.Patches(b.ID); got != 1 {
		t.Errorf("got %d PATCHes for b, want 1", got)
	}
	if got := srv.Overlaps(); got != 0 {
		t.Errorf("got %d overlaps for sequential PATCHes, want 0", got)
	}
}

// TestOverlaps holds PATCHes in flight with a long latency, starts each
// next one only after the fake has recorded the previous one, and then
// cancels them all.
func TestOverlaps(t *testing.T) {
	tests := []struct {
		name         string
		users        []int // index of the target user for each PATCH, in order
		wantOverlaps int
	}{
		{"same user twice", []int{0, 0}, 1},
		{"same user three times", []int{0, 0, 0}, 2},
		{"different users", []int{0, 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			ids := []string{srv.AddUser(workUser("a@contoso.com")).ID, srv.AddUser(workUser("b@contoso.com")).ID}
			srv.SetLatency(time.Hour)

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for i, user := range tt.users {
				wg.Go(func() { patchUntilCanceled(ctx, srv, ids[user]) })
				waitForRequests(t, srv, i+1)
			}
			got := srv.Overlaps()
			cancel()
			wg.Wait()

			if got != tt.wantOverlaps {
				t.Errorf("got %d overlaps, want %d", got, tt.wantOverlaps)
			}
		})
	}
}

func patchUntilCanceled(ctx context.Context, srv *fakescim.Server, id string) {
	body := strings.NewReader(patchBody(`{"op":"replace","path":"active","value":false}`))
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, srv.BaseURL()+"/Users/"+id, body)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/scim+json")
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
	}
}

// waitForRequests polls until the fake has recorded n requests.
func waitForRequests(t *testing.T, srv *fakescim.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Requests()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d requests after 10s, want %d", len(srv.Requests()), n)
		}
		time.Sleep(time.Millisecond)
	}
}
