package notification

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/server"
)

const (
	testClientState     = "Zt4pQ9wL-current-client-state"
	previousClientState = "previous-client-state-kept-for-rotation"
)

var testNow = time.Date(2025, 2, 10, 8, 23, 30, 0, time.UTC)

// recordingQueue records every Enqueue call. With err set it fails every
// call, and with block set it waits for the context to end.
type recordingQueue struct {
	mu    sync.Mutex
	calls []enqueueCall
	err   error
	block bool
}

type enqueueCall struct {
	changes    []bridge.Change
	lifecycles []bridge.Lifecycle
}

func (q *recordingQueue) Enqueue(ctx context.Context, changes []bridge.Change, lifecycles []bridge.Lifecycle) error {
	q.mu.Lock()
	q.calls = append(q.calls, enqueueCall{changes: changes, lifecycles: lifecycles})
	err, block := q.err, q.block
	q.mu.Unlock()

	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (q *recordingQueue) recorded() []enqueueCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]enqueueCall(nil), q.calls...)
}

// recordingMetrics sums every count it receives, keyed by endpoint and,
// for rejections, reason.
type recordingMetrics struct {
	mu         sync.Mutex
	received   map[string]int
	changes    map[string]int
	lifecycles map[string]int
	rejected   map[string]int
}

func newRecordingMetrics() *recordingMetrics {
	return &recordingMetrics{
		received:   map[string]int{},
		changes:    map[string]int{},
		lifecycles: map[string]int{},
		rejected:   map[string]int{},
	}
}

func (m *recordingMetrics) Received(endpoint string, items int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.received[endpoint] += items
}

func (m *recordingMetrics) Accepted(endpoint string, changes, lifecycles int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changes[endpoint] += changes
	m.lifecycles[endpoint] += lifecycles
}

func (m *recordingMetrics) Rejected(endpoint, reason string, items int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejected[endpoint+"/"+reason] += items
}

func (m *recordingMetrics) rejectedCount(endpoint, reason string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rejected[endpoint+"/"+reason]
}

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

// fixture is a Handler registered on a real server.Server, served by
// httptest on 127.0.0.1.
type fixture struct {
	url     string
	queue   *recordingQueue
	metrics *recordingMetrics
	logs    *logBuffer
}

func newFixture(t *testing.T, configure func(*Config)) *fixture {
	t.Helper()
	f := &fixture{queue: &recordingQueue{}, metrics: newRecordingMetrics(), logs: &logBuffer{}}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	cfg := Config{
		ClientStates: []string{testClientState, previousClientState},
		Logger:       logger,
		Metrics:      f.metrics,
		Now:          func() time.Time { return testNow },
	}
	if configure != nil {
		configure(&cfg)
	}
	h, err := NewHandler(cfg, f.queue)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}

	srv := server.New(server.Config{Logger: logger})
	h.Register(srv.Echo())
	ts := httptest.NewServer(srv.Echo())
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (f *fixture) do(t *testing.T, method, pathAndQuery string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, f.url+pathAndQuery, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, pathAndQuery, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (f *fixture) post(t *testing.T, path, body string) response {
	t.Helper()
	return f.do(t, http.MethodPost, path, strings.NewReader(body))
}

func decodeAccepted(t *testing.T, resp response) AcceptedBody {
	t.Helper()
	if resp.status != http.StatusAccepted {
		t.Fatalf("status: got %d, want %d; body %s", resp.status, http.StatusAccepted, resp.body)
	}
	var body AcceptedBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("202 body %q is not JSON: %v", resp.body, err)
	}
	return body
}

func decodeError(t *testing.T, resp response, wantStatus int) server.ErrorBody {
	t.Helper()
	if resp.status != wantStatus {
		t.Fatalf("status: got %d, want %d; body %s", resp.status, wantStatus, resp.body)
	}
	if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	var body server.ErrorBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", resp.body, err)
	}
	if body.RequestID == "" {
		t.Errorf("request_id: got empty, want an ID; body %s", resp.body)
	}
	return body
}

// changeJSON returns one users change item with the given clientState.
func changeJSON(userID, clientState string) string {
	return `{"changeType":"updated","clientState":"` + clientState + `","resource":"Users/` + userID +
		`","resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/` + userID +
		`","id":"` + userID + `","organizationId":"` + testTenant +
		`","eventTime":"2025-02-10T08:23:10.1234567Z","sequenceNumber":636784480202455800},` +
		`"subscriptionExpirationDateTime":"2025-02-11T09:14:27.4410000+00:00",` +
		`"subscriptionId":"8cd129ff-8499-432a-969c-6bfe388c3c3c","tenantId":"` + testTenant + `"}`
}

func lifecycleJSON(event, clientState string) string {
	return `{"subscriptionId":"8cd129ff-8499-432a-969c-6bfe388c3c3c",` +
		`"subscriptionExpirationDateTime":"2025-02-11T09:14:27.4410000+00:00",` +
		`"tenantId":"` + testTenant + `","clientState":"` + clientState + `","lifecycleEvent":"` + event + `"}`
}

func valueJSON(items ...string) string {
	return `{"value":[` + strings.Join(items, ",") + `]}`
}
