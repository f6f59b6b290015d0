package fakescim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// invalidFilterBody is Atlassian's 400 for an unsupported filter, with its
// odd schema URN.
const invalidFilterBody = `{"schemas":["urn:ietf:params:scim:b:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"Resource [USER] invalid filter"}`

func TestFilterRejected(t *testing.T) {
	filters := []string{
		`emails.value eq "a@contoso.com"`,
		`emails eq "a@contoso.com"`,
		`displayName eq "Alex"`,
		`userName ne "a"`,
		`userName co "a"`,
		`userName pr`,
		`userName eq "a" and externalId eq "b"`,
		`not (userName eq "a")`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`,
		`userName eq 1`,
		`userName eq true`,
		`userName eq "a`,
		`userName eq "a\q"`,
		`userName eq 'a'`,
	}
	srv := start(t)
	for _, f := range filters {
		t.Run(f, func(t *testing.T) {
			resp := send(t, srv, http.MethodGet, "/Users?filter="+url.QueryEscape(f), "", nil)
			if resp.status != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400", resp.status)
			}
			if string(resp.body) != invalidFilterBody {
				t.Errorf("got body %s, want %s", resp.body, invalidFilterBody)
			}
		})
	}
}

func TestFilterMatches(t *testing.T) {
	srv := start(t)
	alex := workUser("Alex@contoso.com")
	alex.ExternalID = "Ext-1"
	alex = srv.AddUser(alex)
	quoted := srv.AddUser(workUser(`o"b\x@contoso.com`))
	srv.AddUser(workUser("other@contoso.com"))

	tests := []struct {
		name    string
		filter  string
		wantIDs []string
	}{
		{"userName ignores case", `userName eq "alex@CONTOSO.com"`, []string{alex.ID}},
		{"attribute and operator ignore case", `USERNAME EQ "alex@contoso.com"`, []string{alex.ID}},
		{"externalId exact", `externalId eq "Ext-1"`, []string{alex.ID}},
		{"externalId case differs", `externalId eq "ext-1"`, nil},
		{"escaped quote and backslash", `userName eq "o\"b\\x@contoso.com"`, []string{quoted.ID}},
		{"unicode escape", `userName eq "\u0041lex@contoso.com"`, []string{alex.ID}},
		{"no match", `userName eq "nobody"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t, srv, http.MethodGet, "/Users?filter="+url.QueryEscape(tt.filter), "", nil)
			if resp.status != http.StatusOK {
				t.Fatalf("got status %d, want 200: %s", resp.status, resp.body)
			}
			page := decodeList(t, resp.body)
			var ids []string
			for _, u := range page.Resources {
				ids = append(ids, u.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("user IDs (-want +got):\n%s", diff)
			}
			if page.TotalResults != len(tt.wantIDs) {
				t.Errorf("got totalResults %d, want %d", page.TotalResults, len(tt.wantIDs))
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	srv := start(t)
	for i := range 120 {
		srv.AddUser(workUser(fmt.Sprintf("user%03d@contoso.com", i)))
	}

	tests := []struct {
		name      string
		query     string
		wantStart int
		wantItems int
		wantFirst string // userName of the first resource, if any
	}{
		{"defaults", "", 1, 100, "user000@contoso.com"},
		{"second page", "startIndex=101&count=100", 101, 20, "user100@contoso.com"},
		{"count capped", "count=1000", 1, 100, "user000@contoso.com"},
		{"start below one", "startIndex=0&count=5", 1, 5, "user000@contoso.com"},
		{"zero count", "count=0", 1, 0, ""},
		{"negative count", "count=-3", 1, 0, ""},
		{"past the end", "startIndex=500", 500, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t, srv, http.MethodGet, "/Users?"+tt.query, "", nil)
			if resp.status != http.StatusOK {
				t.Fatalf("got status %d, want 200", resp.status)
			}
			page := decodeList(t, resp.body)
			if page.TotalResults != 120 {
				t.Errorf("got totalResults %d, want 120", page.TotalResults)
			}
			if page.StartIndex != tt.wantStart {
				t.Errorf("got startIndex %d, want %d", page.StartIndex, tt.wantStart)
			}
			if page.ItemsPerPage != tt.wantItems || len(page.Resources) != tt.wantItems {
				t.Errorf("got itemsPerPage %d and %d resources, want %d", page.ItemsPerPage, len(page.Resources), tt.wantItems)
			}
			if tt.wantFirst != "" && len(page.Resources) > 0 && page.Resources[0].UserName != tt.wantFirst {
				t.Errorf("got first user %q, want %q", page.Resources[0].UserName, tt.wantFirst)
			}
			if tt.wantItems == 0 && !strings.Contains(string(resp.body), `"Resources":[]`) {
				t.Errorf("got %s, want an empty Resources array, not null", resp.body)
			}
		})
	}
}

func TestListRejectsNonIntegerParameters(t *testing.T) {
	srv := start(t)
	for _, query := range []string{"count=ten", "startIndex=1.5"} {
		t.Run(query, func(t *testing.T) {
			resp := send(t, srv, http.MethodGet, "/Users?"+query, "", nil)
			if resp.status != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400", resp.status)
			}
			if scimType, _ := resp.scimError(t); scimType != "invalidValue" {
				t.Errorf("got scimType %q, want invalidValue", scimType)
			}
		})
	}
}

func TestListResponseSchema(t *testing.T) {
	srv := start(t)
	resp := send(t, srv, http.MethodGet, "/Users", "", nil)
	var page struct {
		Schemas []string `json:"schemas"`
	}
	if err := json.Unmarshal(resp.body, &page); err != nil {
		t.Fatalf("decode: %v", err)
	}
	want := []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}
	if diff := cmp.Diff(want, page.Schemas); diff != "" {
		t.Errorf("schemas (-want +got):\n%s", diff)
	}
}

func decodeList(t *testing.T, body []byte) scim.ListResponse {
	t.Helper()
	var page scim.ListResponse
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("decode list %s: %v", body, err)
	}
	return page
}
