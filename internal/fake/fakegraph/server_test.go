package fakegraph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const validToken = "valid-token"

var (
	alex = User{
		ID:                "2b3c1f7a-0000-4000-8000-000000000001",
		UserPrincipalName: "alex.doe@contoso.com",
		Mail:              "alex.doe@contoso.com",
		DisplayName:       "Alex Doe",
		AccountEnabled:    true,
	}
	guest = User{
		ID:                "2b3c1f7a-0000-4000-8000-000000000002",
		UserPrincipalName: "o'brien_contoso.com#EXT#@fabrikam.onmicrosoft.com",
		DisplayName:       "Pat O'Brien",
	}
	dollar = User{
		ID:                "2b3c1f7a-0000-4000-8000-000000000003",
		UserPrincipalName: "$adele@contoso.com",
		AccountEnabled:    true,
	}
)

func TestGetUser(t *testing.T) {
	s := startServer(t)
	for _, u := range []User{alex, guest, dollar} {
		s.PutUser(u)
	}
	base := s.BaseURL()
	selectAll := "?$select=id,userPrincipalName,mail,displayName,accountEnabled"

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   map[string]any
		wantCode   string
	}{
		{
			name:       "by id with select",
			path:       "/users/" + alex.ID + selectAll,
			wantStatus: http.StatusOK,
			wantBody: map[string]any{
				"@odata.context":    base + "/$metadata#users(id,userPrincipalName,mail,displayName,accountEnabled)/$entity",
				"id":                alex.ID,
				"userPrincipalName": alex.UserPrincipalName,
				"mail":              alex.Mail,
				"displayName":       alex.DisplayName,
				"accountEnabled":    true,
			},
		},
		{
			name:       "select subset",
			path:       "/users/" + alex.ID + "?$select=id,mail",
			wantStatus: http.StatusOK,
			wantBody: map[string]any{
				"@odata.context": base + "/$metadata#users(id,mail)/$entity",
				"id":             alex.ID,
				"mail":           alex.Mail,
			},
		},
		{
			name:       "default properties",
			path:       "/users/" + alex.ID,
			wantStatus: http.StatusOK,
			wantBody: map[string]any{
				"@odata.context":    base + "/$metadata#users/$entity",
				"businessPhones":    []any{},
				"displayName":       alex.DisplayName,
				"givenName":         nil,
				"id":                alex.ID,
				"jobTitle":          nil,
				"mail":              alex.Mail,
				"mobilePhone":       nil,
				"officeLocation":    nil,
				"preferredLanguage": nil,
				"surname":           nil,
				"userPrincipalName": alex.UserPrincipalName,
			},
		},
		{
			name:       "id in upper case",
			path:       "/users/2B3C1F7A-0000-4000-8000-000000000001?$select=id",
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"@odata.context": base + "/$metadata#users(id)/$entity", "id": alex.ID},
		},
		{
			name:       "escaped guest upn",
			path:       "/users/" + url.PathEscape(guest.UserPrincipalName) + selectAll,
			wantStatus: http.StatusOK,
			wantBody: map[string]any{
				"@odata.context":    base + "/$metadata#users(id,userPrincipalName,mail,displayName,accountEnabled)/$entity",
				"id":                guest.ID,
				"userPrincipalName": guest.UserPrincipalName,
				"mail":              nil,
				"displayName":       guest.DisplayName,
				"accountEnabled":    false,
			},
		},
		{
			name:       "guest upn in parentheses",
			path:       "/users('" + url.PathEscape("o''brien_contoso.com#EXT#@fabrikam.onmicrosoft.com") + "')?$select=id",
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"@odata.context": base + "/$metadata#users(id)/$entity", "id": guest.ID},
		},
		{
			name:       "dollar upn in parentheses",
			path:       "/users('" + url.PathEscape(dollar.UserPrincipalName) + "')?$select=id",
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"@odata.context": base + "/$metadata#users(id)/$entity", "id": dollar.ID},
		},
		{
			name:       "dollar upn as segment",
			path:       "/users/" + url.PathEscape(dollar.UserPrincipalName),
			wantStatus: http.StatusBadRequest,
			wantCode:   "BadRequest",
		},
		{
			name:       "unknown user",
			path:       "/users/11111111-2222-3333-4444-555555555555",
			wantStatus: http.StatusNotFound,
			wantCode:   "Request_ResourceNotFound",
		},
		{
			name:       "unknown select property",
			path:       "/users/" + alex.ID + "?$select=id,nickname",
			wantStatus: http.StatusBadRequest,
			wantCode:   "BadRequest",
		},
		{
			name:       "unknown resource",
			path:       "/groups/" + alex.ID,
			wantStatus: http.StatusBadRequest,
			wantCode:   "BadRequest",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := get(t, s, tt.path, validToken)
			if status != tt.wantStatus {
				t.Fatalf("got status %d, want %d; body %v", status, tt.wantStatus, body)
			}
			if got := header.Get("Content-Type"); got != jsonContentType {
				t.Errorf("got Content-Type %q, want %q", got, jsonContentType)
			}
			if tt.wantCode != "" {
				if got := errorCode(body); got != tt.wantCode {
					t.Errorf("got error code %q, want %q; body %v", got, tt.wantCode, body)
				}
				return
			}
			if diff := cmp.Diff(tt.wantBody, body); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthorization(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)

	tests := []struct {
		name       string
		token      string
		wantStatus int
	}{
		{name: "valid token", token: validToken, wantStatus: http.StatusOK},
		{name: "no token", token: "", wantStatus: http.StatusUnauthorized},
		{name: "unknown token", token: "forged", wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := get(t, s, "/users/"+alex.ID, tt.token)
			if status != tt.wantStatus {
				t.Fatalf("got status %d, want %d; body %v", status, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				if got := errorCode(body); got != "InvalidAuthenticationToken" {
					t.Errorf("got error code %q, want InvalidAuthenticationToken", got)
				}
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)
	s.FailNext(2, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}})
	s.FailNext(1, http.StatusServiceUnavailable, nil)

	want := []struct {
		status     int
		retryAfter string
		code       string
	}{
		{http.StatusTooManyRequests, "7", "TooManyRequests"},
		{http.StatusTooManyRequests, "7", "TooManyRequests"},
		{http.StatusServiceUnavailable, "", "ServiceUnavailable"},
		{http.StatusOK, "", ""},
	}
	for i, w := range want {
		status, header, body := get(t, s, "/users/"+alex.ID, validToken)
		if status != w.status {
			t.Errorf("request %d: got status %d, want %d", i, status, w.status)
		}
		if got := header.Get("Retry-After"); got != w.retryAfter {
			t.Errorf("request %d: got Retry-After %q, want %q", i, got, w.retryAfter)
		}
		if got := errorCode(body); got != w.code {
			t.Errorf("request %d: got error code %q, want %q", i, got, w.code)
		}
	}
}

func TestFailNextGatewayBody(t *testing.T) {
	s := startServer(t)
	s.FailNext(1, http.StatusBadGateway, http.Header{"Content-Type": {"text/html"}})

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.BaseURL()+"/users/"+alex.ID, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("got status %d, want %d", resp.StatusCode, http.StatusBadGateway)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/html" {
		t.Errorf("got Content-Type %q, want text/html", got)
	}
	if got, want := string(body), "Bad Gateway"; got != want {
		t.Errorf("got body %q, want %q", got, want)
	}
}

func TestRequestCounts(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)
	s.FailNext(1, http.StatusServiceUnavailable, nil)

	get(t, s, "/users/"+alex.ID, validToken)
	get(t, s, "/users('"+alex.ID+"')", validToken)
	get(t, s, "/users/"+alex.ID, "")
	get(t, s, "/groups/"+alex.ID, validToken)

	if got, want := s.Requests("/v1.0/users/"), 3; got != want {
		t.Errorf("got %d requests under /v1.0/users/, want %d", got, want)
	}
	if got, want := s.Requests("/v1.0/groups/"), 1; got != want {
		t.Errorf("got %d requests under /v1.0/groups/, want %d", got, want)
	}
	if got, want := s.TotalRequests(), 4; got != want {
		t.Errorf("got %d total requests, want %d", got, want)
	}
}

func TestPutAndDeleteUser(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)

	renamed := alex
	renamed.UserPrincipalName = "alex.smith@contoso.com"
	s.PutUser(renamed)
	got, ok := s.User(alex.ID)
	if !ok {
		t.Fatalf("got no user %s after PutUser, want one", alex.ID)
	}
	if got != renamed {
		t.Errorf("got user %+v, want %+v", got, renamed)
	}

	s.DeleteUser(alex.ID)
	if _, ok := s.User(alex.ID); ok {
		t.Errorf("got user %s after DeleteUser, want none", alex.ID)
	}
	if status, _, _ := get(t, s, "/users/"+alex.ID, validToken); status != http.StatusNotFound {
		t.Errorf("got status %d for a deleted user, want %d", status, http.StatusNotFound)
	}
}

func TestLatencyEndsWithClient(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)
	s.SetLatency(time.Hour)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.BaseURL()+"/users/"+alex.ID, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+validToken)
	resp, err := s.srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d during a one-hour latency, want a timeout", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want %v", err, context.DeadlineExceeded)
	}
	// Close must not wait out the latency of the abandoned request.
	s.Close()
}

func TestRewriteKeySegments(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		wantPath string
	}{
		{name: "plain key", path: "/v1.0/users('abc')", wantPath: "/v1.0/users/abc"},
		{name: "doubled quote", path: "/v1.0/users('o''brien@contoso.com')", wantPath: "/v1.0/users/o'brien@contoso.com"},
		{name: "escaped key", path: "/v1.0/users('a%23EXT%23@b')", wantPath: "/v1.0/users/a#EXT#@b"},
		{name: "trailing segment", path: "/v1.0/users('abc')/manager", wantPath: "/v1.0/users/abc/manager"},
		{name: "no key", path: "/v1.0/users/abc", wantPath: "/v1.0/users/abc"},
		{name: "unclosed quote", path: "/v1.0/users('abc", wantPath: "/v1.0/users('abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse("https://127.0.0.1" + tt.path)
			if err != nil {
				t.Fatalf("parse %q: %v", tt.path, err)
			}
			rewriteKeySegments(u)
			if u.Path != tt.wantPath {
				t.Errorf("got path %q, want %q", u.Path, tt.wantPath)
			}
		})
	}

	t.Run("slash in key stays in segment", func(t *testing.T) {
		u, err := url.Parse("https://127.0.0.1/v1.0/users('a%2Fb')")
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		rewriteKeySegments(u)
		if got, want := u.EscapedPath(), "/v1.0/users/a%2Fb"; got != want {
			t.Errorf("got escaped path %q, want %q", got, want)
		}
	})
}

func TestCertificateTrusted(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)

	fromPEM := x509.NewCertPool()
	if !fromPEM.AppendCertsFromPEM(s.CertificatePEM()) {
		t.Fatal("got no certificate from CertificatePEM, want one")
	}
	for name, pool := range map[string]*x509.CertPool{"CertificatePEM": fromPEM, "CertPool": s.CertPool()} {
		t.Run(name, func(t *testing.T) {
			transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			defer transport.CloseIdleConnections()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.BaseURL()+"/users/"+alex.ID, nil)
			if err != nil {
				t.Fatalf("new request: %v", err)
			}
			req.Header.Set("Authorization", "Bearer "+validToken)
			resp, err := (&http.Client{Transport: transport}).Do(req)
			if err != nil {
				t.Fatalf("GET with the server's certificate trusted: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("got status %d, want %d", resp.StatusCode, http.StatusOK)
			}
		})
	}
}

func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{Authorize: func(token string) bool { return token == validToken }})
	if err != nil {
		t.Fatalf("start fake graph: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// get sends GET BaseURL()+path with token, if any, and returns the status,
// headers and decoded JSON body.
func get(t *testing.T, s *Server, path, token string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.BaseURL()+path, nil)
	if err != nil {
		t.Fatalf("new request for %s: %v", path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode body of GET %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, body
}

// errorCode returns error.code of a Graph error body, or "".
func errorCode(body map[string]any) string {
	errorObject, _ := body["error"].(map[string]any)
	code, _ := errorObject["code"].(string)
	return code
}
