package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

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

// waitForLog polls until the log contains want, because the access log is
// written after the client already has its response.
func waitForLog(t *testing.T, logs *logBuffer, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := logs.String()
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("log does not contain %q; got:\n%s", want, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startServer runs a Server on 127.0.0.1:0 with routes added by register,
// and shuts it down when the test ends.
func startServer(t *testing.T, cfg Config, register func(e *echo.Echo)) (string, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := New(cfg)
	if register != nil {
		register(srv.Echo())
	}

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
	return "http://" + ln.Addr().String(), logs
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func doRequest(t *testing.T, method, url string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func decodeErrorBody(t *testing.T, data []byte) ErrorBody {
	t.Helper()
	var body ErrorBody
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", data, err)
	}
	return body
}

func TestHealthz(t *testing.T) {
	base, _ := startServer(t, Config{}, nil)

	resp := doRequest(t, http.MethodGet, base+"/healthz", nil, nil)

	if resp.status != http.StatusOK {
		t.Errorf("status: got %d, want %d", resp.status, http.StatusOK)
	}
	if got, want := strings.TrimSpace(string(resp.body)), `{"status":"ok"}`; got != want {
		t.Errorf("body: got %s, want %s", got, want)
	}
}

func TestReadyz(t *testing.T) {
	secretCause := errors.New("dial tcp 10.1.2.3:6379: connect: connection refused")
	tests := []struct {
		name        string
		ready       func(ctx context.Context) error
		wantStatus  int
		wantMessage string
	}{
		{
			name:       "no check",
			ready:      nil,
			wantStatus: http.StatusOK,
		},
		{
			name:       "check passes",
			ready:      func(context.Context) error { return nil },
			wantStatus: http.StatusOK,
		},
		{
			name:        "check fails",
			ready:       func(context.Context) error { return secretCause },
			wantStatus:  http.StatusServiceUnavailable,
			wantMessage: "not ready: readiness check failed",
		},
		{
			name: "check times out",
			ready: func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			},
			wantStatus:  http.StatusServiceUnavailable,
			wantMessage: "not ready: readiness check timed out after 2s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, logs := startServer(t, Config{Ready: tt.ready}, nil)

			resp := doRequest(t, http.MethodGet, base+"/readyz", nil, nil)

			if resp.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.status, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK {
				return
			}
			body := decodeErrorBody(t, resp.body)
			if body.Error != tt.wantMessage {
				t.Errorf("error: got %q, want %q", body.Error, tt.wantMessage)
			}
			if body.RequestID == "" {
				t.Error("request_id: got empty, want the generated ID")
			}
			if strings.Contains(string(resp.body), "10.1.2.3") {
				t.Errorf("body %s leaks the internal cause", resp.body)
			}
			waitForLog(t, logs, "readiness check")
		})
	}
}

func TestErrorResponses(t *testing.T) {
	register := func(e *echo.Echo) {
		e.GET("/bad", func(echo.Context) error {
			return &HTTPError{Status: http.StatusBadRequest, Message: "limit must be a number"}
		})
		e.GET("/internal", func(echo.Context) error {
			return errors.New("redis at 10.9.8.7:6379 refused")
		})
		e.GET("/unavailable", func(echo.Context) error {
			return &HTTPError{
				Status:  http.StatusServiceUnavailable,
				Message: "queue unavailable, retry",
				Err:     errors.New("redis at 10.9.8.7:6379 refused"),
			}
		})
		e.GET("/panic", func(echo.Context) error {
			panic("nil map in handler")
		})
		e.GET("/echo-error", func(echo.Context) error {
			return echo.NewHTTPError(http.StatusConflict, "subscription exists")
		})
	}
	tests := []struct {
		name        string
		method      string
		path        string
		wantStatus  int
		wantMessage string
		wantLogged  string
	}{
		{"handler 400", http.MethodGet, "/bad", 400, "limit must be a number", ""},
		{"plain error hidden", http.MethodGet, "/internal", 500, "Internal Server Error", "10.9.8.7"},
		{"5xx message shown", http.MethodGet, "/unavailable", 503, "queue unavailable, retry", "10.9.8.7"},
		{"panic recovered", http.MethodGet, "/panic", 500, "Internal Server Error", "nil map in handler"},
		{"echo 4xx message", http.MethodGet, "/echo-error", 409, "subscription exists", ""},
		{"unknown route", http.MethodGet, "/nowhere", 404, "Not Found", ""},
		{"wrong method", http.MethodDelete, "/healthz", 405, "Method Not Allowed", ""},
	}
	base, logs := startServer(t, Config{}, register)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{"X-Request-Id": {"req-" + strings.ReplaceAll(tt.name, " ", "-")}}

			resp := doRequest(t, tt.method, base+tt.path, nil, header)

			if resp.status != tt.wantStatus {
				t.Errorf("status: got %d, want %d", resp.status, tt.wantStatus)
			}
			if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type: got %q, want application/json", got)
			}
			body := decodeErrorBody(t, resp.body)
			if body.Error != tt.wantMessage {
				t.Errorf("error: got %q, want %q", body.Error, tt.wantMessage)
			}
			if want := header.Get("X-Request-Id"); body.RequestID != want {
				t.Errorf("request_id: got %q, want %q", body.RequestID, want)
			}
			if strings.Contains(string(resp.body), "10.9.8.7") {
				t.Errorf("body %s leaks the internal cause", resp.body)
			}
			if tt.wantLogged != "" {
				waitForLog(t, logs, tt.wantLogged)
			}
		})
	}
}

// TestLoggedErrorNotLoggedAgain checks that the error handler does not log
// an error its handler marked as logged, for the two statuses it logs.
func TestLoggedErrorNotLoggedAgain(t *testing.T) {
	register := func(e *echo.Echo) {
		e.GET("/too-large", func(echo.Context) error {
			return &HTTPError{Status: http.StatusRequestEntityTooLarge, Logged: true}
		})
		e.GET("/unavailable", func(echo.Context) error {
			return &HTTPError{Status: http.StatusServiceUnavailable, Err: errors.New("cause-logged-by-handler"), Logged: true}
		})
	}
	base, logs := startServer(t, Config{}, register)
	for _, path := range []string{"/too-large", "/unavailable"} {
		resp := doRequest(t, http.MethodGet, base+path, nil, nil)
		if resp.status < 400 {
			t.Errorf("GET %s: got status %d, want an error status", path, resp.status)
		}
	}

	// The error handler logs before it writes the response, so a line
	// would be in the buffer by now.
	for _, msg := range []string{"request body too large", "request failed", "cause-logged-by-handler"} {
		if strings.Contains(logs.String(), msg) {
			t.Errorf("logs contain %q for an error marked as logged:\n%s", msg, logs.String())
		}
	}
}

func TestMethodNotAllowedSetsAllow(t *testing.T) {
	base, _ := startServer(t, Config{}, nil)

	resp := doRequest(t, http.MethodPost, base+"/healthz", nil, nil)

	if resp.status != http.StatusMethodNotAllowed {
		t.Fatalf("status: got %d, want %d", resp.status, http.StatusMethodNotAllowed)
	}
	if got := resp.header.Get("Allow"); !strings.Contains(got, http.MethodGet) {
		t.Errorf("Allow: got %q, want it to contain GET", got)
	}
}

func TestHeadErrorHasNoBody(t *testing.T) {
	base, _ := startServer(t, Config{}, nil)

	resp := doRequest(t, http.MethodHead, base+"/nowhere", nil, nil)

	if resp.status != http.StatusNotFound {
		t.Errorf("status: got %d, want %d", resp.status, http.StatusNotFound)
	}
	if len(resp.body) != 0 {
		t.Errorf("body: got %q, want empty", resp.body)
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		wantKept bool
	}{
		{"absent", "", false},
		{"kept", "graph-4c1d0b77-9f0e-4f7a", true},
		{"too long", strings.Repeat("a", maxRequestIDBytes+1), false},
		{"non-ASCII", "café-42", false},
		{"space", "abc def", false},
	}
	base, _ := startServer(t, Config{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.incoming != "" {
				header.Set("X-Request-Id", tt.incoming)
			}

			resp := doRequest(t, http.MethodGet, base+"/healthz", nil, header)

			got := resp.header.Get("X-Request-Id")
			if tt.wantKept && got != tt.incoming {
				t.Errorf("X-Request-Id: got %q, want %q", got, tt.incoming)
			}
			if !tt.wantKept && (got == "" || got == tt.incoming) {
				t.Errorf("X-Request-Id: got %q, want a generated ID", got)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	const limit = 64
	register := func(e *echo.Echo) {
		e.POST("/read", func(c echo.Context) error {
			if _, err := io.ReadAll(c.Request().Body); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		})
	}
	base, _ := startServer(t, Config{BodyLimit: limit}, register)
	tests := []struct {
		name       string
		body       io.Reader
		wantStatus int
	}{
		{"within limit", strings.NewReader(strings.Repeat("x", limit)), http.StatusNoContent},
		{"content length over limit", strings.NewReader(strings.Repeat("x", limit+1)), http.StatusRequestEntityTooLarge},
		// A reader without a known length makes the client send a chunked
		// body, so only the read limit can catch it.
		{"chunked over limit", io.MultiReader(strings.NewReader(strings.Repeat("x", limit+1))), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := doRequest(t, http.MethodPost, base+"/read", tt.body, nil)

			if resp.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.status, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusRequestEntityTooLarge {
				return
			}
			if got, want := decodeErrorBody(t, resp.body).Error, "request body exceeds 64 bytes"; got != want {
				t.Errorf("error: got %q, want %q", got, want)
			}
		})
	}
}

func TestAccessLogOmitsQuery(t *testing.T) {
	base, logs := startServer(t, Config{}, nil)

	doRequest(t, http.MethodGet, base+"/healthz?validationToken=TopSecretToken", nil,
		http.Header{"X-Request-Id": {"access-log-1"}})

	got := waitForLog(t, logs, `"request_id":"access-log-1"`)
	for _, want := range []string{`"msg":"http request"`, `"path":"/healthz"`, `"status":200`, `"duration_ms":`} {
		if !strings.Contains(got, want) {
			t.Errorf("access log: got %s, want it to contain %s", got, want)
		}
	}
	if strings.Contains(got, "TopSecretToken") {
		t.Errorf("access log contains the query string: %s", got)
	}
}

func TestServerTimeoutsSet(t *testing.T) {
	srv := New(Config{})
	graphTimeout := 10 * time.Second
	tests := []struct {
		name string
		got  time.Duration
		max  time.Duration
	}{
		{"ReadHeaderTimeout", srv.http.ReadHeaderTimeout, graphTimeout},
		{"ReadTimeout", srv.http.ReadTimeout, graphTimeout},
		{"WriteTimeout", srv.http.WriteTimeout, graphTimeout},
		{"IdleTimeout", srv.http.IdleTimeout, 10 * time.Minute},
	}
	for _, tt := range tests {
		if tt.got <= 0 || tt.got >= tt.max {
			t.Errorf("%s: got %v, want above 0 and below %v", tt.name, tt.got, tt.max)
		}
	}
	if srv.http.MaxHeaderBytes <= 0 {
		t.Errorf("MaxHeaderBytes: got %d, want above 0", srv.http.MaxHeaderBytes)
	}
}

func TestAddrAndShutdown(t *testing.T) {
	srv := New(Config{Addr: "127.0.0.1:0"})
	if got := srv.Addr(); got != nil {
		t.Errorf("Addr before start: got %v, want nil", got)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Start(ln) }()

	resp := doRequest(t, http.MethodGet, "http://"+ln.Addr().String()+"/healthz", nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("healthz status: got %d, want %d", resp.status, http.StatusOK)
	}
	if got, want := srv.Addr().String(), ln.Addr().String(); got != want {
		t.Errorf("Addr: got %s, want %s", got, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Start: got %v, want http.ErrServerClosed", err)
	}
}

func TestListenAndServeBadAddr(t *testing.T) {
	srv := New(Config{Addr: "127.0.0.1:notaport"})

	err := srv.ListenAndServe()

	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:notaport") {
		t.Errorf("ListenAndServe: got %v, want an error naming the address", err)
	}
}
