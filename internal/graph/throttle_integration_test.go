package graph_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	entrabridge "github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/scim"
	"github.com/entrabridge/entrabridge/internal/throttle"
	"github.com/entrabridge/entrabridge/internal/worker"
)

// directory adapts the Graph client to worker.Directory, as cmd/entrabridge
// does.
type directory struct{ c *graph.Client }

func (d directory) GetUser(ctx context.Context, id string) (plan.EntraUser, error) {
	u, err := d.c.GetUser(ctx, id)
	if err != nil {
		return plan.EntraUser{}, err
	}
	return plan.EntraUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail}, nil
}

// sentRequest is one request a recordingTransport passed on.
type sentRequest struct {
	at     time.Time
	status int
}

// recordingTransport records when each request to host started and the
// status it got.
type recordingTransport struct {
	next http.RoundTripper
	host string

	mu   sync.Mutex
	sent []sentRequest
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	at := time.Now()
	resp, err := r.next.RoundTrip(req)
	if req.URL.Host == r.host {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		r.mu.Lock()
		r.sent = append(r.sent, sentRequest{at: at, status: status})
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recordingTransport) requests() []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentRequest(nil), r.sent...)
}

func TestGraph429PausesWorkerPool(t *testing.T) {
	f := startFakes(t)
	store := redistest.NewStore(t)
	fakeSCIM, err := fakescim.Start(fakescim.Options{Token: "scim-token"})
	if err != nil {
		t.Fatalf("start fake scim: %v", err)
	}
	t.Cleanup(fakeSCIM.Close)

	base, _ := url.Parse(f.graph.BaseURL())
	recorder := &recordingTransport{next: f.cfg.HTTPClient.Transport, host: base.Host}
	limiter := throttle.New(store, "graph", 0, 1)
	cfg := f.cfg
	cfg.HTTPClient = &http.Client{Transport: recorder}
	cfg.Limiter = limiter

	// With 40 users, 20 ms per Graph response and four syncs at a time,
	// reads would go on well into the pause if nothing stopped them.
	const users = 40
	f.graph.SetLatency(20 * time.Millisecond)
	var ids []string
	var changes []entrabridge.Change
	for i := range users {
		id := fmt.Sprintf("user-%d", i)
		ids = append(ids, id)
		f.graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: id + "@contoso.com"})
		fakeSCIM.AddUser(scim.User{ExternalID: id, UserName: id + "@contoso.com",
			Emails: []scim.Email{{Value: id + "@contoso.com", Type: "work", Primary: true}}})
		changes = append(changes, entrabridge.Change{UserID: id, ChangeType: "updated"})
	}

	for i := range 2 {
		sc, err := scim.New(fakeSCIM.BaseURL(), "scim-token", scim.Options{HTTPClient: fakeSCIM.Client()})
		if err != nil {
			t.Fatalf("scim client: %v", err)
		}
		w, err := worker.New(worker.Config{
			Owner: fmt.Sprintf("worker-%d", i), Concurrency: 2, Lease: 15 * time.Second,
			PollInterval: 10 * time.Millisecond, GraphPauser: limiter,
			Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		}, store, directory{newClient(t, cfg)}, sc, throttle.New(store, "scim", 0, 1))
		if err != nil {
			t.Fatalf("new worker: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = w.Run(ctx, 5*time.Second); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}

	f.graph.FailNext(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}})
	if err := store.Enqueue(t.Context(), changes, nil); err != nil {
		t.Fatalf("enqueue: %v", err)
	}

	// Every user is read once with 200; the throttled read is retried.
	deadline := time.Now().Add(15 * time.Second)
	for countStatus(recorder.requests(), http.StatusOK) < users {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: got %d successful Graph reads, want %d", countStatus(recorder.requests(), http.StatusOK), users)
		}
		time.Sleep(10 * time.Millisecond)
	}

	sent := recorder.requests()
	var throttledAt time.Time
	for _, r := range sent {
		if r.status == http.StatusTooManyRequests {
			throttledAt = r.at
		}
	}
	if throttledAt.IsZero() {
		t.Fatal("got no 429 from fake Graph, want one")
	}
	// Requests that had passed the limiter before the pause was set may
	// still go out, so the window starts a little after the 429.
	from, to := throttledAt.Add(150*time.Millisecond), throttledAt.Add(900*time.Millisecond)
	for _, r := range sent {
		if r.at.After(from) && r.at.Before(to) {
			t.Errorf("got a Graph request %s after the 429, want none within 1 s (Retry-After)", r.at.Sub(throttledAt))
		}
	}
}

func countStatus(sent []sentRequest, status int) int {
	n := 0
	for _, r := range sent {
		if r.status == status {
			n++
		}
	}
	return n
}
