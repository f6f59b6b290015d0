package admin_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/admin"
	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/server"
)

// testToken is the admin token of every test server.
const testToken = "test-admin-token-0123456789abcdefghij"

// logBuffer is a goroutine-safe sink for a JSON slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a running admin page on the real server shell and a real store.
type env struct {
	base  string
	store *redisstore.Store
	logs  *logBuffer
}

// startAdmin serves the admin page with cfg on the real server shell on
// 127.0.0.1:0, over a store with its own key prefix. It replaces
// cfg.Logger with a log buffer.
func startAdmin(t *testing.T, cfg admin.Config, status admin.Status) *env {
	t.Helper()
	return startAdminWith(t, cfg, status, nil)
}

// startAdminWith is startAdmin with the page reading the store through
// wrap, when wrap is not nil.
func startAdminWith(t *testing.T, cfg admin.Config, status admin.Status, wrap func(*redisstore.Store) admin.Store) *env {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Logger = logger
	store := redistest.NewStore(t)
	var pageStore admin.Store = store
	if wrap != nil {
		pageStore = wrap(store)
	}

	srv := server.New(server.Config{Logger: logger})
	admin.New(cfg, pageStore, status).Register(srv.Echo())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Start(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Start after Shutdown: got %v, want http.ErrServerClosed", err)
		}
	})
	return &env{base: "http://" + ln.Addr().String(), store: store, logs: logs}
}

// tokenConfig returns a Config with the test token.
func tokenConfig() admin.Config {
	return admin.Config{Token: testToken}
}

// testContext returns a context that ends with the test or after 30 s.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// seedDeadLetter runs user through the real queue (enqueue, schedule,
// claim) and dead-letters it, returning the dead letter's ID.
func seedDeadLetter(t *testing.T, store *redisstore.Store, user, reason, detail string) string {
	t.Helper()
	ctx := testContext(t)
	change := bridge.Change{UserID: user, ChangeType: "updated", ReceivedAt: time.Now()}
	if err := store.Enqueue(ctx, []bridge.Change{change}, nil); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if _, err := store.Schedule(ctx, "admin-test", 0, 100, 0); err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	jobs, err := store.Claim(ctx, "admin-test", 1, time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(jobs) != 1 || jobs[0].UserID != user {
		t.Fatalf("Claim: got %+v, want one job for %s", jobs, user)
	}
	id, err := store.DeadLetter(ctx, jobs[0], reason, detail, 0)
	if err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	return id
}

func depths(t *testing.T, store *redisstore.Store) redisstore.Depths {
	t.Helper()
	d, err := store.Depths(testContext(t))
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	return d
}

// client is a browser-like HTTP client: it keeps cookies and does not
// follow redirects, so tests see each 302 and 303.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &client{t: t, base: base, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to path with an optional form body and headers.
func (c *client) do(method, path string, form url.Values, header http.Header) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body of %s %s: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil, nil)
}

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, form, nil)
}

// login posts the test token and fails the test unless it gets 303.
func (c *client) login() {
	c.t.Helper()
	resp := c.post("/admin/login", url.Values{"token": {testToken}})
	if resp.status != http.StatusSeeOther {
		c.t.Fatalf("login: got status %d, want %d; body:\n%s", resp.status, http.StatusSeeOther, resp.body)
	}
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfToken loads the overview and returns the CSRF token in its forms.
func (c *client) csrfToken() string {
	c.t.Helper()
	resp := c.get("/admin")
	if resp.status != http.StatusOK {
		c.t.Fatalf("GET /admin: got status %d, want %d", resp.status, http.StatusOK)
	}
	m := csrfPattern.FindStringSubmatch(resp.body)
	if m == nil {
		c.t.Fatalf("GET /admin: no csrf_token field in:\n%s", resp.body)
	}
	return m[1]
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// fixedStatus is a Status with set values or errors.
type fixedStatus struct {
	subscription    admin.SubscriptionStatus
	subscriptionErr error
	delta           admin.DeltaStatus
	deltaErr        error
}

func (s fixedStatus) Subscription(context.Context) (admin.SubscriptionStatus, error) {
	return s.subscription, s.subscriptionErr
}

func (s fixedStatus) LastDelta(context.Context) (admin.DeltaStatus, error) {
	return s.delta, s.deltaErr
}
