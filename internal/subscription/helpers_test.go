package subscription_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

const (
	notificationURL = "https://bridge.example.com/webhooks/graph"
	clientState     = "client-state-secret"
)

// testContext returns a context that ends with the test or after 30 s, so
// a hung call fails the test instead of stalling it.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// clock is a settable time source for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
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

// recordingObserver records what a Manager and a Reconciler report.
type recordingObserver struct {
	mu        sync.Mutex
	expiries  map[string]time.Time
	forgotten []string
	runs      []observedRun
}

type observedRun struct {
	ok      bool
	changed int
}

func newRecordingObserver() *recordingObserver {
	return &recordingObserver{expiries: make(map[string]time.Time)}
}

func (o *recordingObserver) SetSubscriptionExpiry(id string, t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expiries[id] = t
}

func (o *recordingObserver) ForgetSubscription(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.expiries, id)
	o.forgotten = append(o.forgotten, id)
}

func (o *recordingObserver) DeltaRun(ok bool, _ time.Time, changed int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.runs = append(o.runs, observedRun{ok: ok, changed: changed})
}

func (o *recordingObserver) expiry(id string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.expiries[id]
	return t, ok
}

// fixture is a Manager and a Reconciler on a real Redis store and an
// in-memory Graph, sharing one settable clock.
type fixture struct {
	store      *redisstore.Store
	graph      *memoryGraph
	clock      *clock
	observer   *recordingObserver
	reconciler *subscription.Reconciler
	manager    *subscription.Manager
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	return newFixtureWith(t, redistest.NewStore(t), subscription.Config{})
}

// newFixtureWith fills the URLs, client state, owner, clock, observer and
// reconciler of cfg that are unset, and builds a fixture on store.
func newFixtureWith(t *testing.T, store *redisstore.Store, cfg subscription.Config) fixture {
	t.Helper()
	c := newClock()
	f := fixture{store: store, graph: newMemoryGraph(c.Now), clock: c, observer: newRecordingObserver()}
	f.reconciler = subscription.NewReconciler(f.graph, store, subscription.ReconcilerConfig{
		Observer: f.observer, Now: c.Now, Logger: testLogger(t),
	})

	if cfg.NotificationURL == "" {
		cfg.NotificationURL = notificationURL
	}
	if cfg.ClientState == "" {
		cfg.ClientState = clientState
	}
	if cfg.Owner == "" {
		cfg.Owner = "owner-" + t.Name()
	}
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	if cfg.Observer == nil {
		cfg.Observer = f.observer
	}
	if cfg.Reconciler == nil {
		cfg.Reconciler = f.reconciler
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	m, err := subscription.NewManager(f.graph, store, cfg)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	f.manager = m
	return f
}

// subscribe creates the fixture's subscription and returns its state.
func (f fixture) subscribe(t *testing.T) redisstore.SubscriptionState {
	t.Helper()
	if _, err := f.manager.Subscribe(testContext(t)); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return f.current(t)
}

// current returns the stored subscription state, failing when none is.
func (f fixture) current(t *testing.T) redisstore.SubscriptionState {
	t.Helper()
	st, ok, err := f.manager.Current(testContext(t))
	if err != nil || !ok {
		t.Fatalf("Current: got ok %t, %v, want a stored subscription", ok, err)
	}
	return st
}

// catchUpRequested takes a pending catch-up request and reports whether
// there was one.
func (f fixture) catchUpRequested(t *testing.T) bool {
	t.Helper()
	_, ok, err := f.store.TakeDeltaCatchUp(testContext(t))
	if err != nil {
		t.Fatalf("TakeDeltaCatchUp: %v", err)
	}
	return ok
}

// addLifecycle queues lifecycle notifications as the receiver does.
func addLifecycle(t *testing.T, store *redisstore.Store, subscriptionID, event string, n int) {
	t.Helper()
	items := make([]bridge.Lifecycle, n)
	for i := range items {
		items[i] = bridge.Lifecycle{SubscriptionID: subscriptionID, Event: event, ReceivedAt: time.Now()}
	}
	if err := store.Enqueue(testContext(t), nil, items); err != nil {
		t.Fatalf("Enqueue lifecycle notifications: %v", err)
	}
}

// processAllLifecycle runs ProcessLifecycle until it reads nothing and
// returns how many notifications it read.
func processAllLifecycle(t *testing.T, m *subscription.Manager) int {
	t.Helper()
	total := 0
	for {
		n, err := m.ProcessLifecycle(testContext(t))
		if err != nil {
			t.Fatalf("ProcessLifecycle: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// lifecyclePending returns how many lifecycle notifications are not
// acknowledged.
func lifecyclePending(t *testing.T, store *redisstore.Store) int64 {
	t.Helper()
	d, err := store.Depths(testContext(t))
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	return d.LifecyclePending
}

// dueUsers moves queued changes into the due set and returns the users
// now due, in any order.
func dueUsers(t *testing.T, store *redisstore.Store, candidates ...string) []string {
	t.Helper()
	ctx := testContext(t)
	for {
		n, err := store.Schedule(ctx, "test-scheduler", 0, 100, 0)
		if err != nil {
			t.Fatalf("Schedule: %v", err)
		}
		if n == 0 {
			break
		}
	}
	var due []string
	for _, id := range candidates {
		st, err := store.UserState(ctx, id)
		if err != nil {
			t.Fatalf("UserState(%s): %v", id, err)
		}
		if !st.DueAt.IsZero() {
			due = append(due, id)
		}
	}
	return due
}

// waitFor polls cond until it returns true, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testLogger returns a logger that writes to the test's output, shown
// with -v or when the test fails.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
