package fakescim_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/scim"
)

func TestStartRequiresToken(t *testing.T) {
	srv, err := fakescim.Start(fakescim.Options{})
	if err == nil {
		srv.Close()
		t.Fatal("got nil error, want one for the missing token")
	}
}

func TestBaseURLAndCertPool(t *testing.T) {
	srv := start(t)
	if !strings.HasPrefix(srv.BaseURL(), "https://127.0.0.1:") {
		t.Errorf("got base URL %q, want https on 127.0.0.1", srv.BaseURL())
	}
	if !strings.HasSuffix(srv.BaseURL(), "/scim/directory/dir-1") {
		t.Errorf("got base URL %q, want it to end in /scim/directory/dir-1", srv.BaseURL())
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool()}}}
	req, err := http.NewRequest(http.MethodGet, srv.BaseURL()+"/ServiceProviderConfig", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET with the cert pool: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("got status %d, want 200", resp.StatusCode)
	}
}

func TestRandomDirectoryID(t *testing.T) {
	srv, err := fakescim.Start(fakescim.Options{Token: testToken})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Close()
	id := srv.BaseURL()[strings.LastIndex(srv.BaseURL(), "/")+1:]
	if len(id) != 32 {
		t.Errorf("got directory ID %q, want 32 hex characters", id)
	}
}

func TestUnauthorized(t *testing.T) {
	tests := []struct {
		name          string
		authorization []string
	}{
		{"missing", nil},
		{"wrong token", []string{"Bearer wrong"}},
		{"basic scheme", []string{"Basic " + testToken}},
		{"token without scheme", []string{testToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			resp := send(t, srv, http.MethodGet, "/Users", "", http.Header{"Authorization": tt.authorization})
			if resp.status != http.StatusUnauthorized {
				t.Fatalf("got status %d, want 401", resp.status)
			}
			resp.scimError(t)
			if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("got WWW-Authenticate %q, want a Bearer challenge", got)
			}
		})
	}
}

func TestBearerSchemeCaseInsensitive(t *testing.T) {
	srv := start(t)
	resp := send(t, srv, http.MethodGet, "/ServiceProviderConfig", "",
		http.Header{"Authorization": {"bearer " + testToken}})
	if resp.status != http.StatusOK {
		t.Errorf("got status %d, want 200", resp.status)
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		ref        string
		wantStatus int
		wantAllow  string
	}{
		{"unknown resource", http.MethodGet, "/Groups", 404, ""},
		{"nested user path", http.MethodGet, "/Users/a/b", 404, ""},
		{"POST users", http.MethodPost, "/Users", 405, "GET"},
		{"POST user", http.MethodPost, "/Users/x", 405, "GET, PATCH, PUT, DELETE"},
		{"PATCH config", http.MethodPatch, "/ServiceProviderConfig", 405, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			resp := send(t, srv, tt.method, tt.ref, "", nil)
			if resp.status != tt.wantStatus {
				t.Fatalf("got status %d, want %d", resp.status, tt.wantStatus)
			}
			resp.scimError(t)
			if got := resp.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("got Allow %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestServiceProviderConfig(t *testing.T) {
	srv := start(t)
	resp := send(t, srv, http.MethodGet, "/ServiceProviderConfig", "", nil)
	if resp.status != http.StatusOK {
		t.Fatalf("got status %d, want 200", resp.status)
	}
	if !strings.Contains(string(resp.body), `"patch":{"supported":true}`) {
		t.Errorf("got %s, want PATCH supported", resp.body)
	}
}

func TestGetUser(t *testing.T) {
	srv := start(t)
	active := srv.AddUser(workUser("alex@contoso.com"))
	inactive := workUser("gone@contoso.com")
	inactive.Active = boolPtr(false)
	inactive = srv.AddUser(inactive)

	tests := []struct {
		name       string
		id         string
		wantStatus int
	}{
		{"active", active.ID, 200},
		{"deactivated", inactive.ID, 404},
		{"unknown", "missing", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t, srv, http.MethodGet, "/Users/"+tt.id, "", nil)
			if resp.status != tt.wantStatus {
				t.Fatalf("got status %d, want %d", resp.status, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				resp.scimError(t)
				return
			}
			if diff := cmp.Diff(active, resp.user(t)); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddUserAssignsIDAndCopies(t *testing.T) {
	srv := start(t)
	first := srv.AddUser(workUser("a@contoso.com"))
	second := srv.AddUser(scim.User{ID: "chosen", UserName: "b"})
	if first.ID == "" {
		t.Error("got empty ID, want one assigned")
	}
	if second.ID != "chosen" {
		t.Errorf("got ID %q, want %q", second.ID, "chosen")
	}

	first.Emails[0].Value = "changed@contoso.com"
	stored, ok := srv.User(first.ID)
	if !ok {
		t.Fatalf("User(%q): not found", first.ID)
	}
	if got := stored.Emails[0].Value; got != "a@contoso.com" {
		t.Errorf("stored email %q changed through a returned copy, want %q", got, "a@contoso.com")
	}

	var ids []string
	for _, u := range srv.Users() {
		ids = append(ids, u.ID)
	}
	if diff := cmp.Diff([]string{first.ID, "chosen"}, ids); diff != "" {
		t.Errorf("Users order (-want +got):\n%s", diff)
	}
}

func TestPutAndDeleteRecordedNotApplied(t *testing.T) {
	srv := start(t)
	u := srv.AddUser(workUser("alex@contoso.com"))

	put := send(t, srv, http.MethodPut, "/Users/"+u.ID, `{"userName":"other"}`, nil)
	if put.status != http.StatusOK {
		t.Errorf("PUT: got status %d, want 200", put.status)
	}
	del := send(t, srv, http.MethodDelete, "/Users/"+u.ID, "", nil)
	if del.status != http.StatusNoContent {
		t.Errorf("DELETE: got status %d, want 204", del.status)
	}

	stored, ok := srv.User(u.ID)
	if !ok {
		t.Fatal("user was deleted, want it kept")
	}
	if diff := cmp.Diff(u, stored); diff != "" {
		t.Errorf("user changed by PUT (-want +got):\n%s", diff)
	}
	var methods []string
	for _, r := range srv.Requests() {
		methods = append(methods, r.Method)
	}
	if diff := cmp.Diff([]string{"PUT", "DELETE"}, methods); diff != "" {
		t.Errorf("recorded methods (-want +got):\n%s", diff)
	}
}

func TestRequestsRecorded(t *testing.T) {
	srv := start(t)
	before := time.Now()
	send(t, srv, http.MethodGet, "/Users?filter=userName%20eq%20%22a%22", "", http.Header{"Authorization": nil})

	requests := srv.Requests()
	if len(requests) != 1 {
		t.Fatalf("got %d requests, want 1", len(requests))
	}
	r := requests[0]
	if r.Method != http.MethodGet || r.Path != "/scim/directory/dir-1/Users" {
		t.Errorf("got %s %s, want GET /scim/directory/dir-1/Users", r.Method, r.Path)
	}
	if r.Query != "filter=userName%20eq%20%22a%22" {
		t.Errorf("got raw query %q, want it as sent", r.Query)
	}
	if r.At.Before(before) {
		t.Errorf("got time %v, want at or after %v", r.At, before)
	}
}

func TestFailNextQueues(t *testing.T) {
	srv := start(t)
	srv.FailNext(2, http.StatusServiceUnavailable, nil, nil)
	srv.FailNext(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}, "Content-Type": {"text/plain"}},
		[]byte("slow down"))
	srv.FailNext(1, http.StatusBadGateway, nil, []byte{})

	tests := []struct {
		wantStatus     int
		wantBody       string
		wantRetryAfter string
	}{
		{503, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"503","detail":"injected failure"}`, ""},
		{503, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"503","detail":"injected failure"}`, ""},
		{429, "slow down", "7"},
		{502, "", ""},
	}
	for i, tt := range tests {
		// Without a token: injected failures come before the token check.
		resp := send(t, srv, http.MethodGet, "/ServiceProviderConfig", "", http.Header{"Authorization": nil})
		if resp.status != tt.wantStatus {
			t.Errorf("request %d: got status %d, want %d", i, resp.status, tt.wantStatus)
		}
		if string(resp.body) != tt.wantBody {
			t.Errorf("request %d: got body %q, want %q", i, resp.body, tt.wantBody)
		}
		if got := resp.header.Get("Retry-After"); got != tt.wantRetryAfter {
			t.Errorf("request %d: got Retry-After %q, want %q", i, got, tt.wantRetryAfter)
		}
	}
	if resp := send(t, srv, http.MethodGet, "/ServiceProviderConfig", "", nil); resp.status != 200 {
		t.Errorf("after the queue: got status %d, want 200", resp.status)
	}
}

func TestLatencyDelaysResponse(t *testing.T) {
	srv := start(t)
	srv.SetLatency(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.BaseURL()+"/ServiceProviderConfig", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want the request to time out", resp.StatusCode)
	}

	srv.SetLatency(0)
	if resp := send(t, srv, http.MethodGet, "/ServiceProviderConfig", "", nil); resp.status != 200 {
		t.Errorf("without latency: got status %d, want 200", resp.status)
	}
}
