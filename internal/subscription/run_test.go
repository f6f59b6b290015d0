package subscription_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

// countingLeadership counts the leadership requests of one owner.
type countingLeadership struct {
	subscription.LeadershipStore
	attempts atomic.Int64
}

func (c *countingLeadership) AcquireLeadership(ctx context.Context, name, owner string, lease time.Duration) (bool, error) {
	c.attempts.Add(1)
	return c.LeadershipStore.AcquireLeadership(ctx, name, owner, lease)
}

// startRun runs m.Run until the test ends, and waits for it to return.
func startRun(t *testing.T, m *subscription.Manager) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestElectorOneLeader(t *testing.T) {
	store := redistest.NewStore(t)
	var mu sync.Mutex
	running, maxRunning := 0, 0
	lead := func(ctx context.Context) error {
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		mu.Unlock()

		<-ctx.Done()
		mu.Lock()
		running--
		mu.Unlock()
		return nil
	}

	electors := make([]*subscription.Elector, 3)
	stops := make([]context.CancelFunc, 3)
	var wg sync.WaitGroup
	for i := range electors {
		e, err := subscription.NewElector(store, "test", "owner-"+string(rune('a'+i)), 150*time.Millisecond, testLogger(t))
		if err != nil {
			t.Fatalf("NewElector: %v", err)
		}
		electors[i] = e
		ctx, cancel := context.WithCancel(context.Background())
		stops[i] = cancel
		wg.Go(func() { _ = e.Run(ctx, lead) })
	}
	t.Cleanup(func() {
		for _, stop := range stops {
			stop()
		}
		wg.Wait()
	})

	leader := func() int {
		for i, e := range electors {
			if e.Leading() {
				return i
			}
		}
		return -1
	}
	waitFor(t, "a leader", func() bool { return leader() >= 0 })
	first := leader()

	// The leader gives the lease up when it stops, and another takes over.
	stops[first]()
	waitFor(t, "a new leader", func() bool { i := leader(); return i >= 0 && i != first })

	mu.Lock()
	defer mu.Unlock()
	if maxRunning != 1 {
		t.Errorf("got %d leaders working at once, want 1", maxRunning)
	}
}

func TestElectorStepsDownWhenLeaseTaken(t *testing.T) {
	store := redistest.NewStore(t)
	e, err := subscription.NewElector(store, "test", "owner-a", 150*time.Millisecond, testLogger(t))
	if err != nil {
		t.Fatalf("NewElector: %v", err)
	}
	leadEnded := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Run(ctx, func(ctx context.Context) error {
			<-ctx.Done()
			select {
			case <-leadEnded:
			default:
				close(leadEnded)
			}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "leadership", e.Leading)

	// Another replica takes the lease, as if owner-a's had run out.
	rctx := testContext(t)
	if err := store.ReleaseLeadership(rctx, "test", "owner-a"); err != nil {
		t.Fatalf("ReleaseLeadership: %v", err)
	}
	if acquired, err := store.AcquireLeadership(rctx, "test", "owner-b", time.Minute); err != nil || !acquired {
		t.Fatalf("AcquireLeadership by owner-b: got %t, %v, want true, nil", acquired, err)
	}

	select {
	case <-leadEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the leader's work to stop after its lease was taken")
	}
	waitFor(t, "the elector to stop leading", func() bool { return !e.Leading() })
	if leader, _ := store.Leader(rctx, "test"); leader != "owner-b" {
		t.Errorf("got leader %q, want owner-b, whose lease the former leader must not release", leader)
	}
}

func TestRunReleasesLeadership(t *testing.T) {
	f := newFixtureWith(t, redistest.NewStore(t), subscription.Config{CheckInterval: time.Hour, LeaderLease: time.Minute})
	stop := startRun(t, f.manager)
	waitFor(t, "leadership", f.manager.Leading)

	stop()

	leader, err := f.store.Leader(testContext(t), subscription.LeaseName)
	if err != nil {
		t.Fatalf("Leader: %v", err)
	}
	if leader != "" {
		t.Errorf("got leader %q after Run returned, want none", leader)
	}
}

func TestRunOneLeaderRenews(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	openStore := func() *redisstore.Store {
		s, err := redisstore.Open(testContext(t), url, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}

	// Two replicas share one Redis prefix and one Graph; the
	// subscription is due for renewal.
	a := newFixtureWith(t, openStore(), subscription.Config{
		Owner: "replica-a", CheckInterval: 20 * time.Millisecond, LeaderLease: 300 * time.Millisecond,
	})
	created := a.subscribe(t)
	if _, err := a.reconciler.Run(testContext(t), false); err != nil {
		t.Fatalf("baseline delta run: %v", err)
	}
	a.clock.Advance(subscription.DefaultLifetime - time.Hour)

	// Replica b has its own store connection, and counts its leadership
	// requests and Graph calls.
	bStore := openStore()
	bLeadership := &countingLeadership{LeadershipStore: bStore}
	bGraph := &countingGraph{Graph: a.graph}
	bManager, err := subscription.NewManager(bGraph, leadershipCounted{Store: bStore, counter: bLeadership},
		subscription.Config{
			NotificationURL: notificationURL, ClientState: clientState, Owner: "replica-b",
			CheckInterval: 20 * time.Millisecond, LeaderLease: 300 * time.Millisecond,
			Now: a.clock.Now, Logger: testLogger(t),
		})
	if err != nil {
		t.Fatalf("NewManager for replica b: %v", err)
	}

	startRun(t, a.manager)
	waitFor(t, "replica a to lead", a.manager.Leading)
	startRun(t, bManager)

	waitFor(t, "the renewal", func() bool { return a.graph.callCount(opRenew) >= 1 })
	// Replica b campaigns every third of the lease; after several
	// attempts it has had every chance to act.
	waitFor(t, "replica b to campaign five times", func() bool { return bLeadership.attempts.Load() >= 5 })

	if got := a.graph.callCount(opRenew); got != 1 {
		t.Errorf("got %d renewals by two replicas, want 1", got)
	}
	if got := bGraph.calls.Load(); got != 0 {
		t.Errorf("got %d Graph calls by the follower, want 0", got)
	}
	if bManager.Leading() {
		t.Error("got replica b leading while replica a runs, want only a")
	}
	if st := a.current(t); st.ID != created.ID {
		t.Errorf("got stored subscription %q, want the renewed %q", st.ID, created.ID)
	}
}

// countingGraph counts the subscription calls a Manager sends.
type countingGraph struct {
	subscription.Graph
	calls atomic.Int64
}

func (g *countingGraph) CreateSubscription(ctx context.Context, req subscription.SubscriptionRequest) (subscription.Subscription, error) {
	g.calls.Add(1)
	return g.Graph.CreateSubscription(ctx, req)
}

func (g *countingGraph) ListSubscriptions(ctx context.Context) ([]subscription.Subscription, error) {
	g.calls.Add(1)
	return g.Graph.ListSubscriptions(ctx)
}

func (g *countingGraph) RenewSubscription(ctx context.Context, id string, expiration time.Time) (subscription.Subscription, error) {
	g.calls.Add(1)
	return g.Graph.RenewSubscription(ctx, id, expiration)
}

func (g *countingGraph) ReauthorizeSubscription(ctx context.Context, id string) error {
	g.calls.Add(1)
	return g.Graph.ReauthorizeSubscription(ctx, id)
}

func (g *countingGraph) DeleteSubscription(ctx context.Context, id string) error {
	g.calls.Add(1)
	return g.Graph.DeleteSubscription(ctx, id)
}

// leadershipCounted is a Store whose leadership requests go through a
// countingLeadership.
type leadershipCounted struct {
	*redisstore.Store
	counter *countingLeadership
}

func (l leadershipCounted) AcquireLeadership(ctx context.Context, name, owner string, lease time.Duration) (bool, error) {
	return l.counter.AcquireLeadership(ctx, name, owner, lease)
}

func TestRunDueDelta(t *testing.T) {
	f := newFixture(t)
	putUsers(f)
	ctx := testContext(t)
	runDue := func(step string, want bool) {
		t.Helper()
		ran, err := f.manager.RunDueDelta(ctx)
		if err != nil {
			t.Fatalf("%s: RunDueDelta: %v", step, err)
		}
		if ran != want {
			t.Errorf("%s: got ran %t, want %t", step, ran, want)
		}
	}

	runDue("first run", true)
	runDue("right after a run", false)

	if err := f.store.RequestDeltaCatchUp(ctx, f.clock.Now()); err != nil {
		t.Fatalf("RequestDeltaCatchUp: %v", err)
	}
	runDue("after a catch-up request", true)
	runDue("after the catch-up", false)

	f.clock.Advance(subscription.DefaultDeltaInterval)
	runDue("after the delta interval", true)
}

func TestRunCatchesUpAfterRemoval(t *testing.T) {
	f := newFixtureWith(t, redistest.NewStore(t), subscription.Config{CheckInterval: time.Hour})
	putUsers(f)
	created := f.subscribe(t)
	runDelta(t, f, false)
	stop := startRun(t, f.manager)
	waitFor(t, "leadership", f.manager.Leading)
	deltaReads := f.graph.callCount(opDelta)

	// Graph removes the subscription and a rename goes unnotified.
	f.graph.remove(created.ID)
	f.graph.putUser("alex", "alex.jones@contoso.com", "alex.jones@contoso.com")
	addLifecycle(t, f.store, created.ID, subscription.EventSubscriptionRemoved, 1)

	waitFor(t, "the catch-up run", func() bool { return f.graph.callCount(opDelta) > deltaReads })
	waitFor(t, "alex to be queued", func() bool {
		return len(dueUsers(t, f.store, "alex")) == 1
	})
	stop()

	if st := f.current(t); st.ID == created.ID {
		t.Errorf("got stored subscription %q, want a new one", st.ID)
	}
	if got := lifecyclePending(t, f.store); got != 0 {
		t.Errorf("got %d unacknowledged notifications, want 0", got)
	}
}

func TestRunNeedsOwner(t *testing.T) {
	store := redistest.NewStore(t)
	m, err := subscription.NewManager(newMemoryGraph(time.Now), store, subscription.Config{
		NotificationURL: notificationURL, ClientState: clientState,
	})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}

	// Subscribe works without an owner token, Run does not.
	if _, err := m.Subscribe(testContext(t)); err != nil {
		t.Errorf("Subscribe without an owner token: %v", err)
	}
	if err := m.Run(testContext(t)); err == nil || !strings.Contains(err.Error(), "owner token") {
		t.Errorf("got Run error %v, want one about the owner token", err)
	}
}
