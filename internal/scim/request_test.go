package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// headerRecorder is a plain HTTP server on loopback that stores the headers
// of each request and responds with a fixed user.
type headerRecorder struct {
	mu      sync.Mutex
	headers []http.Header
}

func startHeaderRecorder(t *testing.T) (*headerRecorder, *httptest.Server) {
	t.Helper()
	rec := &headerRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.headers = append(rec.headers, r.Header.Clone())
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprint(w, `{"id":"u1","userName":"alex@contoso.com"}`)
	}))
	t.Cleanup(srv.Close)
	return rec, srv
}

func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name          string
		userAgent     string
		wantUserAgent string
	}{
		{"default user agent", "", "entrabridge"},
		{"custom user agent", "entrabridge/1.2 (ops@contoso.com)", "entrabridge/1.2 (ops@contoso.com)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, srv := startHeaderRecorder(t)
			c, err := scim.New(srv.URL+"/scim/directory/d1", "key-123", scim.Options{UserAgent: tt.userAgent})
			if err != nil {
				t.Fatalf("scim.New: %v", err)
			}
			if _, err := c.GetUser(context.Background(), "u1"); err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if _, err := c.PatchUser(context.Background(), "u1", []scim.Operation{scim.ReplaceUserName("x")}); err != nil {
				t.Fatalf("PatchUser: %v", err)
			}

			get, patch := rec.headers[0], rec.headers[1]
			for _, h := range []http.Header{get, patch} {
				assertHeader(t, h, "Authorization", "Bearer key-123")
				assertHeader(t, h, "Accept", "application/scim+json")
				assertHeader(t, h, "User-Agent", tt.wantUserAgent)
			}
			assertHeader(t, get, "Content-Type", "")
			assertHeader(t, patch, "Content-Type", "application/scim+json")
		})
	}
}

func assertHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	if got := h.Get(name); got != want {
		t.Errorf("got %s %q, want %q", name, got, want)
	}
}

func TestTokenStaysOutOfErrors(t *testing.T) {
	const token = "secret-directory-key-91b2"
	// The server echoes the Authorization header, as a misconfigured proxy
	// might.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"denied for %s"}`,
			r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)

	c, err := scim.New(srv.URL, token, scim.Options{})
	if err != nil {
		t.Fatalf("scim.New: %v", err)
	}
	_, err = c.GetUser(context.Background(), "u1")
	if err == nil {
		t.Fatal("got nil error, want 403")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q contains the token", err)
	}
	if want := "denied for Bearer [REDACTED]"; asFailure(t, err).Detail != want {
		t.Errorf("got detail %q, want %q", asFailure(t, err).Detail, want)
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, token) {
			t.Errorf("Sprintf(%q, client) contains the token: %s", verb, s)
		}
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		token   string
		wantErr string // empty for success
	}{
		{"https", "https://api.atlassian.com/scim/directory/d1", "tok-5e1", ""},
		{"trailing slash", "https://api.atlassian.com/scim/directory/d1/", "tok-5e1", ""},
		{"loopback http", "http://127.0.0.1:8080/scim", "tok-5e1", ""},
		{"relative", "/scim/directory/d1", "tok-5e1", "scheme must be http or https"},
		{"ftp", "ftp://api.atlassian.com/scim", "tok-5e1", "scheme must be http or https"},
		{"no host", "https:///scim", "tok-5e1", "host is missing"},
		{"query", "https://api.atlassian.com/scim?x=1", "tok-5e1", "remove the query"},
		{"user info", "https://admin:hunter2@api.atlassian.com/scim", "tok-5e1", "remove the user info"},
		{"empty token", "https://api.atlassian.com/scim", "", "token is empty"},
		{"blank token", "https://api.atlassian.com/scim", "  ", "token is empty"},
		{"token with newline", "https://api.atlassian.com/scim", "tok-5e1\nX-Injected: 1", "whitespace or control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scim.New(tt.baseURL, tt.token, scim.Options{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q contains the URL password", err)
			}
			if tt.token != "" && strings.TrimSpace(tt.token) != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestTrailingSlashJoinsPaths(t *testing.T) {
	srv := startFake(t)
	c, err := scim.New(srv.BaseURL()+"/", testToken, scim.Options{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatalf("scim.New: %v", err)
	}
	if err := c.ServiceProviderConfig(context.Background()); err != nil {
		t.Fatalf("ServiceProviderConfig: %v", err)
	}
}
