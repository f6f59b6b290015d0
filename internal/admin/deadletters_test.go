package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/admin"
	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// waitForLog polls until the log contains every want, or fails the test
// after 5 s.
func waitForLog(t *testing.T, e *env, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs := e.logs.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(logs, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log does not contain %s; got:\n%s", missing, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAdminRetryDeadLetter(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	id := seedDeadLetter(t, e.store, "user-retry", "scim_conflict", "email already taken")
	before := depths(t, e.store)
	c := newClient(t, e.base)
	c.login()
	csrf := c.csrfToken()

	resp := c.do(http.MethodPost, "/admin/dead-letters/"+id+"/retry",
		url.Values{"csrf_token": {csrf}}, http.Header{"X-Request-Id": {"retry-request-1"}})

	if resp.status != http.StatusSeeOther {
		t.Fatalf("status: got %d, want %d; body:\n%s", resp.status, http.StatusSeeOther, resp.body)
	}
	if got := resp.header.Get("Location"); got != "/admin" {
		t.Errorf("Location: got %q, want /admin", got)
	}
	after := depths(t, e.store)
	if after.Dead != before.Dead-1 {
		t.Errorf("Depths.Dead: got %d, want %d", after.Dead, before.Dead-1)
	}
	if got, want := after.Due+after.Scheduled, before.Due+before.Scheduled+1; got != want {
		t.Errorf("Depths.Due+Scheduled: got %d, want %d", got, want)
	}

	page := c.get("/admin")
	if want := "Dead letter " + id + " retried"; !strings.Contains(page.body, want) {
		t.Errorf("overview after retry: got\n%s\nwant the flash %q", page.body, want)
	}
	if strings.Contains(page.body, `id="dead-letter-`+id+`"`) {
		t.Errorf("overview after retry still lists dead letter %s", id)
	}
	if again := c.get("/admin"); strings.Contains(again.body, "retried:") {
		t.Error("second overview load: got the flash again, want it shown once")
	}
	waitForLog(t, e, `"msg":"admin dead letter retried"`, `"dead_letter_id":"`+id+`"`,
		`"request_id":"retry-request-1"`)
}

func TestAdminDropDeadLetter(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	id := seedDeadLetter(t, e.store, "user-drop", "unmapped", "no SCIM user")
	keep := seedDeadLetter(t, e.store, "user-keep", "unmapped", "no SCIM user")
	before := depths(t, e.store)
	c := newClient(t, e.base)
	c.login()
	csrf := c.csrfToken()

	resp := c.post("/admin/dead-letters/"+id+"/drop", url.Values{"csrf_token": {csrf}})

	if resp.status != http.StatusSeeOther {
		t.Fatalf("status: got %d, want %d; body:\n%s", resp.status, http.StatusSeeOther, resp.body)
	}
	after := depths(t, e.store)
	if after.Dead != before.Dead-1 {
		t.Errorf("Depths.Dead: got %d, want %d", after.Dead, before.Dead-1)
	}
	if got, want := after.Due+after.Scheduled, before.Due+before.Scheduled; got != want {
		t.Errorf("Depths.Due+Scheduled: got %d, want %d (a drop schedules nothing)", got, want)
	}
	page := c.get("/admin")
	if want := "Dead letter " + id + " dropped."; !strings.Contains(page.body, want) {
		t.Errorf("overview after drop: got\n%s\nwant the flash %q", page.body, want)
	}
	if strings.Contains(page.body, `id="dead-letter-`+id+`"`) {
		t.Errorf("overview after drop still lists dead letter %s", id)
	}
	if !strings.Contains(page.body, `id="dead-letter-`+keep+`"`) {
		t.Errorf("overview after drop lost the other dead letter %s", keep)
	}
	waitForLog(t, e, `"msg":"admin dead letter dropped"`, `"dead_letter_id":"`+id+`"`)
}

func TestAdminDeadLetterWithBearerToken(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	id := seedDeadLetter(t, e.store, "user-script", "unmapped", "no SCIM user")
	c := newClient(t, e.base)

	resp := c.do(http.MethodPost, "/admin/dead-letters/"+id+"/retry", url.Values{}, bearer(testToken))

	if resp.status != http.StatusSeeOther {
		t.Fatalf("status: got %d, want %d; body:\n%s", resp.status, http.StatusSeeOther, resp.body)
	}
	if got := depths(t, e.store).Dead; got != 0 {
		t.Errorf("Depths.Dead: got %d, want 0", got)
	}
}

func TestAdminCSRFRejected(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	id := seedDeadLetter(t, e.store, "user-csrf", "unmapped", "no SCIM user")
	c := newClient(t, e.base)
	c.login()
	other := newClient(t, e.base)
	other.login()
	otherToken := other.csrfToken()
	tests := []struct {
		name string
		form url.Values
	}{
		{"missing", url.Values{}},
		{"empty", url.Values{"csrf_token": {""}}},
		{"wrong", url.Values{"csrf_token": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}},
		{"another session's", url.Values{"csrf_token": {otherToken}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, action := range []string{"retry", "drop"} {
				resp := c.post("/admin/dead-letters/"+id+"/"+action, tt.form)

				if resp.status != http.StatusForbidden {
					t.Errorf("%s: got status %d, want %d", action, resp.status, http.StatusForbidden)
				}
			}
			if got := depths(t, e.store).Dead; got != 1 {
				t.Errorf("Depths.Dead: got %d, want 1", got)
			}
		})
	}
	if got := c.post("/admin/logout", url.Values{}).status; got != http.StatusForbidden {
		t.Errorf("logout without CSRF token: got status %d, want %d", got, http.StatusForbidden)
	}
}

func TestAdminUnknownDeadLetter(t *testing.T) {
	e := startAdmin(t, tokenConfig(), nil)
	c := newClient(t, e.base)
	c.login()
	csrf := c.csrfToken()
	tests := []struct {
		name string
		path string
	}{
		{"retry of absent ID", "/admin/dead-letters/1-0/retry"},
		{"drop of absent ID", "/admin/dead-letters/1-0/drop"},
		{"retry of malformed ID", "/admin/dead-letters/not-an-id/retry"},
		{"drop of hostile ID", "/admin/dead-letters/%3Cb%3Ex%3C%2Fb%3E/drop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.post(tt.path, url.Values{"csrf_token": {csrf}})

			if resp.status != http.StatusNotFound {
				t.Fatalf("status: got %d, want %d", resp.status, http.StatusNotFound)
			}
			if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type: got %q, want text/html", got)
			}
			if !strings.Contains(resp.body, "No dead letter has ID") {
				t.Errorf("body: got\n%s\nwant the not-found message", resp.body)
			}
			if strings.Contains(resp.body, "<b>") {
				t.Errorf("body contains the unescaped ID:\n%s", resp.body)
			}
		})
	}
}

// failingStore fails every call with err, as a store whose Redis is
// unreachable does.
type failingStore struct {
	err error
}

func (s failingStore) Depths(context.Context) (redisstore.Depths, error) {
	return redisstore.Depths{}, s.err
}

func (s failingStore) Audit(context.Context, string, time.Time, int) ([]bridge.AuditEntry, error) {
	return nil, s.err
}

func (s failingStore) DeadLetters(context.Context, int) ([]bridge.DeadLetter, error) {
	return nil, s.err
}

func (s failingStore) RetryDeadLetter(context.Context, string) error { return s.err }

func (s failingStore) DropDeadLetter(context.Context, string) error { return s.err }

func TestAdminStoreFailure(t *testing.T) {
	cause := errors.New("dial tcp 10.9.8.7:6379: connection refused")
	e := startAdminWith(t, tokenConfig(), nil, func(*redisstore.Store) admin.Store {
		return failingStore{err: cause}
	})
	c := newClient(t, e.base)
	c.login()

	page := c.do(http.MethodGet, "/admin", nil, http.Header{"X-Request-Id": {"overview-failing"}})

	if page.status != http.StatusOK {
		t.Fatalf("overview status: got %d, want %d", page.status, http.StatusOK)
	}
	for _, want := range []string{
		"Could not read the queue depths. The error is logged with request ID overview-failing.",
		"Could not read the dead letters.",
		"Could not read the audit trail.",
		`<p class="muted" id="subscription">not configured</p>`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("overview does not contain %q", want)
		}
	}
	if strings.Contains(page.body, "10.9.8.7") {
		t.Errorf("overview leaks the cause:\n%s", page.body)
	}
	waitForLog(t, e, `"msg":"admin page section unavailable"`, `"section":"queue depths"`,
		`"request_id":"overview-failing"`, "10.9.8.7")

	csrf := csrfPattern.FindStringSubmatch(page.body)
	if csrf == nil {
		t.Fatal("overview: no csrf_token field in the logout form")
	}
	for _, action := range []string{"retry", "drop"} {
		resp := c.do(http.MethodPost, "/admin/dead-letters/1-0/"+action, url.Values{"csrf_token": {csrf[1]}},
			http.Header{"X-Request-Id": {action + "-failing"}})

		if resp.status != http.StatusInternalServerError {
			t.Errorf("%s status: got %d, want %d", action, resp.status, http.StatusInternalServerError)
		}
		if !strings.Contains(resp.body, "The error is logged with request ID "+action+"-failing.") {
			t.Errorf("%s body: got\n%s\nwant the logged-error message", action, resp.body)
		}
		if strings.Contains(resp.body, "10.9.8.7") {
			t.Errorf("%s body leaks the cause:\n%s", action, resp.body)
		}
		waitForLog(t, e, `"msg":"admin dead letter action failed"`, `"action":"`+action+`"`,
			`"request_id":"`+action+`-failing"`)
	}
}
