package graph_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/notification"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/server"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

// The tests in this file drive subscription.Manager and
// subscription.Reconciler through the real Graph client and SDK against
// the fake Graph, with the real notification receiver and Redis.

const integrationClientState = "integration-client-state"

// testClock is a settable clock shared by the Manager and the fake Graph.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// bridge is a fake Graph, the notification receiver on 127.0.0.1, a
// Redis store, and a Manager and a Reconciler on the real Graph client.
type bridge struct {
	fakes      fakes
	store      *redisstore.Store
	clock      *testClock
	url        string
	client     *graph.Client
	reconciler *subscription.Reconciler
	manager    *subscription.Manager
}

func startBridge(t *testing.T) bridge {
	t.Helper()
	b := bridge{
		fakes: startFakesWith(t, fakegraph.Options{TenantID: tenantID}),
		store: redistest.NewStore(t),
		clock: &testClock{now: time.Now().UTC().Truncate(time.Second)},
	}
	b.fakes.graph.SetNow(b.clock.Now)
	b.url = startReceiver(t, b.store)
	b.client = newClient(t, b.fakes.cfg)
	b.reconciler = subscription.NewReconciler(b.client, b.store, subscription.ReconcilerConfig{Now: b.clock.Now})
	b.manager = b.newManager(t, b.store)
	return b
}

// newManager returns a Manager on store that shares the bridge's Graph,
// receiver and clock.
func (b bridge) newManager(t *testing.T, store *redisstore.Store) *subscription.Manager {
	t.Helper()
	m, err := subscription.NewManager(b.client, store, subscription.Config{
		NotificationURL: b.url,
		ClientState:     integrationClientState,
		Owner:           "integration-" + t.Name(),
		Reconciler:      b.reconciler,
		Now:             b.clock.Now,
	})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m
}

// startReceiver serves the notification handler on 127.0.0.1 and returns
// the URL of its change endpoint.
func startReceiver(t *testing.T, store *redisstore.Store) string {
	t.Helper()
	srv := server.New(server.Config{})
	h, err := notification.NewHandler(notification.Config{ClientStates: []string{integrationClientState}}, store)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	h.Register(srv.Echo())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Start(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("receiver stopped with %v, want %v", err, http.ErrServerClosed)
		}
	})
	return "http://" + ln.Addr().String() + notification.ChangesPath
}

func (b bridge) subscribe(t *testing.T) subscription.Subscription {
	t.Helper()
	sub, err := b.manager.Subscribe(t.Context())
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return sub
}

func TestManagerSubscribesThroughReceiver(t *testing.T) {
	b := startBridge(t)

	sub := b.subscribe(t)

	subs := b.fakes.graph.Subscriptions()
	if len(subs) != 1 {
		t.Fatalf("got %d subscriptions at the fake Graph, want 1", len(subs))
	}
	got := subs[0]
	if got.ID != sub.ID {
		t.Errorf("got subscription %q at the fake Graph, want %q", got.ID, sub.ID)
	}
	if got.NotificationURL != b.url || got.LifecycleNotificationURL != b.url+"/lifecycle" {
		t.Errorf("got URLs %q and %q, want %q and its /lifecycle", got.NotificationURL, got.LifecycleNotificationURL, b.url)
	}
	if got.ClientState != integrationClientState {
		t.Errorf("got clientState %q, want %q", got.ClientState, integrationClientState)
	}
	wantExpiry := b.clock.Now().Add(subscription.DefaultLifetime)
	if !got.ExpirationDateTime.Equal(wantExpiry) {
		t.Errorf("got expiration %v, want %v", got.ExpirationDateTime, wantExpiry)
	}
}

func TestManagerReauthorizesOnLifecycle(t *testing.T) {
	b := startBridge(t)
	sub := b.subscribe(t)

	// A burst of reauthorizationRequired, through the receiver into Redis.
	for range 20 {
		if err := b.fakes.graph.SendLifecycleNotification(t.Context(), sub.ID, subscription.EventReauthorizationRequired); err != nil {
			t.Fatalf("SendLifecycleNotification: %v", err)
		}
	}
	read := 0
	for {
		n, err := b.manager.ProcessLifecycle(t.Context())
		if err != nil {
			t.Fatalf("ProcessLifecycle: %v", err)
		}
		if n == 0 {
			break
		}
		read += n
	}

	if read != 20 {
		t.Errorf("got %d lifecycle notifications read, want 20", read)
	}
	if got := b.fakes.graph.SubscriptionRequests().Reauthorize; got != 1 {
		t.Errorf("got %d reauthorizations for 20 notifications, want 1", got)
	}
}

func TestManagerRenewsAndRecreates(t *testing.T) {
	b := startBridge(t)
	first := b.subscribe(t)
	ctx := t.Context()

	b.clock.Advance(subscription.DefaultLifetime - subscription.DefaultRenewBefore + time.Minute)
	if err := b.manager.Maintain(ctx); err != nil {
		t.Fatalf("Maintain within the renewal margin: %v", err)
	}
	if got := b.fakes.graph.SubscriptionRequests().Renew; got != 1 {
		t.Fatalf("got %d renewals, want 1", got)
	}
	renewed := b.fakes.graph.Subscriptions()[0]
	if want := b.clock.Now().Add(subscription.DefaultLifetime); !renewed.ExpirationDateTime.Equal(want) {
		t.Errorf("got expiration %v after renewal, want %v", renewed.ExpirationDateTime, want)
	}

	// Graph removes the subscription; the next renewal gets 404.
	b.fakes.graph.RemoveSubscription(first.ID)
	b.clock.Advance(subscription.DefaultLifetime - subscription.DefaultRenewBefore + time.Minute)
	if err := b.manager.Maintain(ctx); err != nil {
		t.Fatalf("Maintain after removal: %v", err)
	}

	counts := b.fakes.graph.SubscriptionRequests()
	if counts.Renew != 2 || counts.Create != 2 {
		t.Errorf("got %d renewals and %d creations, want 2 and 2", counts.Renew, counts.Create)
	}
	st, ok, err := b.manager.Current(ctx)
	if err != nil || !ok {
		t.Fatalf("Current: got ok %t, %v", ok, err)
	}
	if st.ID == first.ID {
		t.Errorf("got stored subscription %q, want a new one", st.ID)
	}
	if _, requested, _ := b.store.TakeDeltaCatchUp(ctx); !requested {
		t.Error("got no delta catch-up request after the new subscription, want one")
	}
}

func TestManagerAdoptsExisting(t *testing.T) {
	b := startBridge(t)
	first := b.subscribe(t)
	// A second deployment on another Redis prefix shares the app and URL.
	other := b.newManager(t, redistest.NewStore(t))

	adopted, err := other.Subscribe(t.Context())
	if err != nil {
		t.Fatalf("Subscribe on the second store: %v", err)
	}

	if adopted.ID != first.ID {
		t.Errorf("got subscription %q, want the existing %q adopted", adopted.ID, first.ID)
	}
	want := fakegraph.SubscriptionCounts{Create: 2, List: 1, Renew: 1}
	if got := b.fakes.graph.SubscriptionRequests(); got != want {
		t.Errorf("got requests %+v, want %+v: one rejected creation, a list and a renewal", got, want)
	}
	if n := len(b.fakes.graph.Subscriptions()); n != 1 {
		t.Errorf("got %d subscriptions at the fake Graph, want 1", n)
	}
}

func TestReconcilerCatchesUnnotifiedRename(t *testing.T) {
	b := startBridge(t)
	b.fakes.graph.SetDeltaPageSize(2)
	for _, u := range []fakegraph.User{
		{ID: "2b3c1f7a-0000-4000-8000-000000000001", UserPrincipalName: "alex@contoso.com", Mail: "alex@contoso.com"},
		{ID: "2b3c1f7a-0000-4000-8000-000000000002", UserPrincipalName: "blake@contoso.com"},
		{ID: "2b3c1f7a-0000-4000-8000-000000000003", UserPrincipalName: "casey@contoso.com", Mail: "casey@contoso.com"},
	} {
		b.fakes.graph.PutUser(u)
	}
	ctx := t.Context()
	const renamed = "2b3c1f7a-0000-4000-8000-000000000002"

	baseline, err := b.reconciler.Run(ctx, false)
	if err != nil {
		t.Fatalf("baseline Run: %v", err)
	}
	if baseline.Mode != subscription.ModeBaseline || baseline.Baselined != 3 || baseline.Changed != 0 {
		t.Errorf("got baseline %+v, want mode baseline with 3 snapshots and nothing queued", baseline)
	}

	// No notification reports the rename: only the delta query returns it.
	b.fakes.graph.PutUser(fakegraph.User{ID: renamed, UserPrincipalName: "blake.jones@contoso.com", Mail: "blake.jones@contoso.com"})
	run, err := b.reconciler.Run(ctx, false)
	if err != nil {
		t.Fatalf("incremental Run: %v", err)
	}
	if run.Mode != subscription.ModeIncremental || run.Changed != 1 {
		t.Errorf("got run %+v, want mode incremental with 1 user queued", run)
	}
	if _, err := b.store.Schedule(ctx, "integration", 0, 100, 0); err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	state, err := b.store.UserState(ctx, renamed)
	if err != nil {
		t.Fatalf("UserState: %v", err)
	}
	if state.DueAt.IsZero() {
		t.Errorf("got user %s not due after the delta run, want it in the due queue", renamed)
	}

	// An expired delta link makes the next run a full resync.
	b.fakes.graph.ExpireDeltaTokens(http.StatusBadRequest)
	run, err = b.reconciler.Run(ctx, false)
	if err != nil {
		t.Fatalf("Run after the link expired: %v", err)
	}
	if !run.Resynced || run.Mode != subscription.ModeFull || run.Users != 3 {
		t.Errorf("got run %+v, want a full resync of 3 users", run)
	}
}
