package admin_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/admin"
	"github.com/entrabridge/entrabridge/internal/bridge"
)

// Hostile values as Entra allows them in a UPN or as a SCIM error could
// echo them: quotes, tags and '#'.
const (
	hostileUPN    = `o'brien<script>alert(1)</script>#1@example.com`
	hostileEmail  = `"><img src=x onerror=alert(2)>@example.com`
	hostileDetail = `409 uniqueness: <iframe src="javascript:alert(3)"></iframe>`
)

func appendAudit(t *testing.T, e *env, entry bridge.AuditEntry) {
	t.Helper()
	if err := e.store.AppendAudit(testContext(t), entry); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
}

func hostileAuditEntry() bridge.AuditEntry {
	return bridge.AuditEntry{
		At:             time.Now(),
		UserID:         "9f1c2d3e-0000-4000-8000-00000000000a",
		ScimUserID:     "scim-42",
		BeforeUserName: "old.name@example.com",
		AfterUserName:  hostileUPN,
		BeforeEmail:    "old.name@example.com",
		AfterEmail:     hostileEmail,
		Result:         "failed",
		Detail:         hostileDetail,
	}
}

func TestAdminOverviewShowsState(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	status := fixedStatus{
		subscription: admin.SubscriptionStatus{
			ID:              "sub-7d1f",
			NotificationURL: "https://bridge.example.com/webhooks/graph",
			Expires:         now.Add(50 * time.Hour),
			Found:           true,
		},
		delta: admin.DeltaStatus{At: now.Add(-5 * time.Minute), OK: true, Changed: 17, Found: true},
	}
	e := startAdmin(t, admin.Config{Token: testToken, Now: func() time.Time { return now }}, status)
	id := seedDeadLetter(t, e.store, "user-dead", "scim_conflict", "another account holds the address")
	appendAudit(t, e, bridge.AuditEntry{At: now, UserID: "user-audited", ScimUserID: "scim-7", Result: "patched"})
	c := newClient(t, e.base)
	c.login()

	body := c.get("/admin").body

	for _, want := range []string{
		`<dd id="depth-dead">1</dd>`,
		`<dd id="depth-due">0</dd>`,
		"sub-7d1f",
		"https://bridge.example.com/webhooks/graph",
		"2025-03-06 11:00:00 UTC",
		"in 2d 2h",
		"5m ago",
		"<dd>17</dd>",
		`id="dead-letter-` + id + `"`,
		"user-dead",
		"scim_conflict",
		"another account holds the address",
		`action="/admin/dead-letters/` + id + `/retry"`,
		`action="/admin/dead-letters/` + id + `/drop"`,
		"user-audited",
		"scim-7",
		"patched",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview does not contain %q", want)
		}
	}
	if t.Failed() {
		t.Logf("overview:\n%s", body)
	}
}

func TestAdminOverviewStatusVariants(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	internalCause := errors.New("dial tcp 10.1.2.3:6379: connection refused")
	tests := []struct {
		name    string
		status  admin.Status
		want    []string
		notWant []string
	}{
		{
			name:   "no status source",
			status: nil,
			want:   []string{`<p class="muted" id="subscription">not configured</p>`, `<p class="muted" id="delta">not configured</p>`},
		},
		{
			name:   "nothing recorded",
			status: fixedStatus{},
			want:   []string{`<p class="muted" id="subscription">not configured</p>`, `<p class="muted" id="delta">not configured</p>`},
		},
		{
			name:    "status source fails",
			status:  fixedStatus{subscriptionErr: internalCause, deltaErr: internalCause},
			want:    []string{"Could not read the subscription.", "Could not read the last delta run."},
			notWant: []string{"10.1.2.3"},
		},
		{
			name: "subscription about to expire and delta failed",
			status: fixedStatus{
				subscription: admin.SubscriptionStatus{ID: "sub-1", Expires: now.Add(3 * time.Hour), Found: true},
				delta:        admin.DeltaStatus{At: now.Add(-time.Hour), Error: "syncStateNotFound", Found: true},
			},
			want: []string{`<dd class="bad">`, "in 3h 0m", "failed", "syncStateNotFound"},
		},
		{
			name: "subscription expired",
			status: fixedStatus{
				subscription: admin.SubscriptionStatus{ID: "sub-1", Expires: now.Add(-2 * time.Hour), Found: true},
			},
			want: []string{`<dd class="bad">`, "2h 0m ago"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startAdmin(t, admin.Config{Token: testToken, Now: func() time.Time { return now }}, tt.status)
			c := newClient(t, e.base)
			c.login()

			resp := c.get("/admin")

			if resp.status != http.StatusOK {
				t.Fatalf("status: got %d, want %d", resp.status, http.StatusOK)
			}
			for _, want := range tt.want {
				if !strings.Contains(resp.body, want) {
					t.Errorf("overview does not contain %q:\n%s", want, resp.body)
				}
			}
			for _, notWant := range tt.notWant {
				if strings.Contains(resp.body, notWant) {
					t.Errorf("overview contains %q:\n%s", notWant, resp.body)
				}
			}
		})
	}
}

func TestAdminEscapesHostileValues(t *testing.T) {
	e := startAdmin(t, admin.Config{Token: testToken, LogUserDetails: true}, fixedStatus{
		subscription: admin.SubscriptionStatus{
			ID: "sub-1", NotificationURL: `https://x.example/"><script>alert(4)</script>`,
			Expires: time.Now().Add(48 * time.Hour), Found: true,
		},
	})
	seedDeadLetter(t, e.store, "user-hostile", "scim_conflict", hostileDetail+" for "+hostileUPN)
	appendAudit(t, e, hostileAuditEntry())
	c := newClient(t, e.base)
	c.login()

	body := c.get("/admin").body

	for _, raw := range []string{"<script>", "<img", "<iframe"} {
		if strings.Contains(body, raw) {
			t.Errorf("overview contains unescaped %q", raw)
		}
	}
	for _, escaped := range []string{
		"o&#39;brien&lt;script&gt;alert(1)&lt;/script&gt;#1@example.com",
		"&#34;&gt;&lt;img src=x onerror=alert(2)&gt;@example.com",
		"&lt;iframe src=&#34;javascript:alert(3)&#34;&gt;&lt;/iframe&gt;",
	} {
		if !strings.Contains(body, escaped) {
			t.Errorf("overview does not contain the escaped %q", escaped)
		}
	}
	if t.Failed() {
		t.Logf("overview:\n%s", body)
	}
}

func TestAdminHidesUserDetails(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	entry := hostileAuditEntry()
	entry.AfterUserName = "renamed.person@example.com"
	entry.AfterEmail = "renamed.person@example.com"
	entry.Detail = "uniqueness: renamed.person@example.com is taken"
	appendAudit(t, e, entry)
	c := newClient(t, e.base)
	c.login()

	body := c.get("/admin").body

	for _, want := range []string{entry.UserID, entry.ScimUserID, "failed", "LOG_USER_DETAILS is off"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview does not contain %q", want)
		}
	}
	for _, hidden := range []string{"old.name@example.com", "renamed.person@example.com"} {
		if strings.Contains(body, hidden) {
			t.Errorf("overview shows %q although LogUserDetails is false", hidden)
		}
	}
}

func TestAdminSecurityHeaders(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, e.base)
	c.login()
	csrf := c.csrfToken()
	tests := []struct {
		name       string
		send       func() response
		wantStatus int
	}{
		{"login form", func() response { return newClient(t, e.base).get("/admin/login") }, http.StatusOK},
		{"wrong token", func() response {
			return newClient(t, e.base).post("/admin/login", url.Values{"token": {"x"}})
		}, http.StatusUnauthorized},
		{"overview", func() response { return c.get("/admin") }, http.StatusOK},
		{"login redirect", func() response { return newClient(t, e.base).get("/admin") }, http.StatusFound},
		{"stylesheet", func() response { return c.get("/admin/static/admin.css") }, http.StatusOK},
		{"missing CSRF token", func() response { return c.post("/admin/dead-letters/1-0/retry", nil) }, http.StatusForbidden},
		{"unknown dead letter", func() response {
			return c.post("/admin/dead-letters/1-0/drop", url.Values{"csrf_token": {csrf}})
		}, http.StatusNotFound},
		{"unknown admin path", func() response { return c.get("/admin/nowhere") }, http.StatusNotFound},
	}
	wantHeaders := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; " +
			"frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.send()

			if resp.status != tt.wantStatus {
				t.Errorf("status: got %d, want %d", resp.status, tt.wantStatus)
			}
			for name, want := range wantHeaders {
				if got := resp.header.Get(name); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestAdminStylesheet(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)

	resp := newClient(t, e.base).get("/admin/static/admin.css")

	if resp.status != http.StatusOK {
		t.Fatalf("status: got %d, want %d", resp.status, http.StatusOK)
	}
	if got := resp.header.Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("Content-Type: got %q, want text/css; charset=utf-8", got)
	}
	if !strings.Contains(resp.body, "body {") {
		t.Errorf("body: got %q, want the stylesheet", resp.body)
	}
}
