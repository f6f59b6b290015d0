package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/admin"
)

// clock is a settable time source for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sessionCookieOf returns the session cookie the client holds for base.
func sessionCookieOf(t *testing.T, c *client) *http.Cookie {
	t.Helper()
	u, err := url.Parse(c.base + "/admin")
	if err != nil {
		t.Fatalf("parse URL: %v", err)
	}
	for _, cookie := range c.http.Jar.Cookies(u) {
		if cookie.Name == "entrabridge_admin_session" {
			return cookie
		}
	}
	return nil
}

func TestAdminDisabledWithoutToken(t *testing.T) {
	e := startAdmin(t, admin.Config{}, nil)
	c := newClient(t, e.base)
	tests := []struct {
		name   string
		method string
		path   string
	}{
		{"overview", http.MethodGet, "/admin"},
		{"login form", http.MethodGet, "/admin/login"},
		{"login post", http.MethodPost, "/admin/login"},
		{"stylesheet", http.MethodGet, "/admin/static/admin.css"},
		{"retry", http.MethodPost, "/admin/dead-letters/1-0/retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.do(tt.method, tt.path, url.Values{"token": {""}}, bearer(""))

			if resp.status != http.StatusNotFound {
				t.Errorf("status: got %d, want %d", resp.status, http.StatusNotFound)
			}
		})
	}
	if !strings.Contains(e.logs.String(), "admin page disabled because ADMIN_TOKEN is empty") {
		t.Errorf("log: got %s, want the disabled notice", e.logs.String())
	}
}

func TestAdminAuthRequired(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	tests := []struct {
		name         string
		method       string
		path         string
		header       http.Header
		wantStatus   int
		wantLocation string
	}{
		{"overview redirects to login", http.MethodGet, "/admin", nil, http.StatusFound, "/admin/login"},
		{"retry", http.MethodPost, "/admin/dead-letters/1-0/retry", nil, http.StatusUnauthorized, ""},
		{"drop", http.MethodPost, "/admin/dead-letters/1-0/drop", nil, http.StatusUnauthorized, ""},
		{"logout", http.MethodPost, "/admin/logout", nil, http.StatusUnauthorized, ""},
		{"wrong bearer token", http.MethodGet, "/admin", bearer("not-the-token"), http.StatusUnauthorized, ""},
		{"empty bearer token", http.MethodGet, "/admin", bearer(""), http.StatusUnauthorized, ""},
		{"basic scheme", http.MethodGet, "/admin", http.Header{"Authorization": {"Basic " + testToken}}, http.StatusUnauthorized, ""},
		{"forged session cookie", http.MethodGet, "/admin",
			http.Header{"Cookie": {"entrabridge_admin_session=4102444800.AAAA.forged"}}, http.StatusFound, "/admin/login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, e.base)

			resp := c.do(tt.method, tt.path, url.Values{}, tt.header)

			if resp.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body:\n%s", resp.status, tt.wantStatus, resp.body)
			}
			if got := resp.header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location: got %q, want %q", got, tt.wantLocation)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
					t.Errorf("Content-Type: got %q, want text/html", got)
				}
				if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate: got %q, want a Bearer challenge", got)
				}
			}
		})
	}
}

func TestAdminLoginWrongToken(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, e.base)

	resp := c.post("/admin/login", url.Values{"token": {testToken + "x"}})

	if resp.status != http.StatusUnauthorized {
		t.Fatalf("status: got %d, want %d", resp.status, http.StatusUnauthorized)
	}
	if !strings.Contains(resp.body, "That is not the admin token.") {
		t.Errorf("body: got\n%s\nwant the wrong-token message", resp.body)
	}
	if got := resp.header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie: got %q, want none", got)
	}
	if got := c.get("/admin").status; got != http.StatusFound {
		t.Errorf("GET /admin after the wrong token: got status %d, want %d", got, http.StatusFound)
	}
}

func TestAdminLoginSetsSessionCookie(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	tests := []struct {
		name       string
		header     http.Header
		wantSecure bool
	}{
		{"plain http", nil, false},
		{"forwarded https", http.Header{"X-Forwarded-Proto": {"https"}}, true},
		{"forwarded http", http.Header{"X-Forwarded-Proto": {"http"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, e.base)

			resp := c.do(http.MethodPost, "/admin/login", url.Values{"token": {testToken}}, tt.header)

			if resp.status != http.StatusSeeOther {
				t.Fatalf("status: got %d, want %d", resp.status, http.StatusSeeOther)
			}
			if got := resp.header.Get("Location"); got != "/admin" {
				t.Errorf("Location: got %q, want /admin", got)
			}
			cookies := (&http.Response{Header: resp.header}).Cookies()
			if len(cookies) != 1 {
				t.Fatalf("cookies: got %d, want 1", len(cookies))
			}
			cookie := cookies[0]
			if cookie.Name != "entrabridge_admin_session" {
				t.Errorf("Name: got %q, want entrabridge_admin_session", cookie.Name)
			}
			if strings.Contains(cookie.Value, testToken) {
				t.Errorf("Value: got %q, which contains the token", cookie.Value)
			}
			if !cookie.HttpOnly {
				t.Error("HttpOnly: got false, want true")
			}
			if cookie.SameSite != http.SameSiteStrictMode {
				t.Errorf("SameSite: got %v, want Strict", cookie.SameSite)
			}
			if cookie.Path != "/admin" {
				t.Errorf("Path: got %q, want /admin", cookie.Path)
			}
			if cookie.Secure != tt.wantSecure {
				t.Errorf("Secure: got %v, want %v", cookie.Secure, tt.wantSecure)
			}
			if want := int((12 * time.Hour).Seconds()); cookie.MaxAge != want {
				t.Errorf("MaxAge: got %d, want %d", cookie.MaxAge, want)
			}
		})
	}
}

func TestAdminSessionOpensOverview(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, e.base)
	c.login()

	resp := c.get("/admin")

	if resp.status != http.StatusOK {
		t.Fatalf("status: got %d, want %d", resp.status, http.StatusOK)
	}
	if !strings.Contains(resp.body, "<h1>Overview</h1>") {
		t.Errorf("body: got\n%s\nwant the overview", resp.body)
	}
	if got := c.get("/admin/login"); got.status != http.StatusSeeOther || got.header.Get("Location") != "/admin" {
		t.Errorf("GET /admin/login while logged in: got %d to %q, want 303 to /admin",
			got.status, got.header.Get("Location"))
	}
}

func TestAdminSessionExpires(t *testing.T) {
	clk := newClock()
	cfg := tokenConfig()
	cfg.Now = clk.Now
	e := startAdmin(t, cfg, nil)
	c := newClient(t, e.base)
	c.login()

	clk.Advance(12*time.Hour - time.Second)
	if got := c.get("/admin").status; got != http.StatusOK {
		t.Fatalf("GET /admin a second before expiry: got status %d, want %d", got, http.StatusOK)
	}
	clk.Advance(time.Second)
	if got := c.get("/admin").status; got != http.StatusFound {
		t.Errorf("GET /admin at expiry: got status %d, want %d", got, http.StatusFound)
	}
}

func TestAdminTokenChangeEndsSessions(t *testing.T) {
	old := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, old.base)
	c.login()
	cookie := sessionCookieOf(t, c)
	if cookie == nil {
		t.Fatal("session cookie: got none after login")
	}
	rotated := startAdmin(t, admin.Config{Token: testToken + "-rotated"}, nil)

	resp := newClient(t, rotated.base).do(http.MethodGet, "/admin", nil,
		http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})

	if resp.status != http.StatusFound {
		t.Errorf("status with the old token's session: got %d, want %d", resp.status, http.StatusFound)
	}
}

func TestAdminBearerToken(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, e.base)

	resp := c.do(http.MethodGet, "/admin", nil, bearer(testToken))

	if resp.status != http.StatusOK {
		t.Fatalf("status: got %d, want %d", resp.status, http.StatusOK)
	}
	if !strings.Contains(resp.body, "<h1>Overview</h1>") {
		t.Errorf("body: got\n%s\nwant the overview", resp.body)
	}
	if got := resp.header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie: got %q, want none for a bearer request", got)
	}
}

func TestAdminLogout(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, e.base)
	c.login()
	csrf := c.csrfToken()

	resp := c.post("/admin/logout", url.Values{"csrf_token": {csrf}})

	if resp.status != http.StatusSeeOther {
		t.Fatalf("status: got %d, want %d", resp.status, http.StatusSeeOther)
	}
	if got := resp.header.Get("Location"); got != "/admin/login" {
		t.Errorf("Location: got %q, want /admin/login", got)
	}
	if cookie := sessionCookieOf(t, c); cookie != nil {
		t.Errorf("session cookie after logout: got %q, want deleted", cookie.Value)
	}
	login := c.get("/admin/login")
	if !strings.Contains(login.body, "Logged out.") {
		t.Errorf("login page after logout: got\n%s\nwant the Logged out flash", login.body)
	}
	if got := c.get("/admin").status; got != http.StatusFound {
		t.Errorf("GET /admin after logout: got status %d, want %d", got, http.StatusFound)
	}
}

func TestAdminLoginFailureLimit(t *testing.T) {
	clk := newClock()
	cfg := tokenConfig()
	cfg.Now = clk.Now
	e := startAdmin(t, cfg, nil)
	c := newClient(t, e.base)

	for i := range 10 {
		if got := c.post("/admin/login", url.Values{"token": {"guess"}}).status; got != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: got status %d, want %d", i+1, got, http.StatusUnauthorized)
		}
	}

	blocked := c.post("/admin/login", url.Values{"token": {testToken}})
	if blocked.status != http.StatusTooManyRequests {
		t.Fatalf("right token while blocked: got status %d, want %d", blocked.status, http.StatusTooManyRequests)
	}
	if got := blocked.header.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After: got %q, want 900", got)
	}
	if got := c.do(http.MethodGet, "/admin", nil, bearer(testToken)).status; got != http.StatusTooManyRequests {
		t.Errorf("bearer token while blocked: got status %d, want %d", got, http.StatusTooManyRequests)
	}

	clk.Advance(15 * time.Minute)
	c.login()
}

func TestAdminTokenNeverLogged(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, e.base)
	nearMiss := testToken[:len(testToken)-1] + "Z"

	c.post("/admin/login", url.Values{"token": {nearMiss}})
	c.do(http.MethodGet, "/admin", nil, bearer(nearMiss))
	c.login()
	c.do(http.MethodGet, "/admin", nil, bearer(testToken))

	logs := e.logs.String()
	if !strings.Contains(logs, "admin token rejected") {
		t.Fatalf("log: got\n%s\nwant the rejected-token warnings", logs)
	}
	for _, secret := range []string{testToken, nearMiss} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains the token %q:\n%s", secret, logs)
		}
	}
}
