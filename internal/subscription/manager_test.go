package subscription_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

func TestSubscribeCreates(t *testing.T) {
	f := newFixture(t)

	sub, err := f.manager.Subscribe(testContext(t))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	created, ok := f.graph.subscription(sub.ID)
	if !ok {
		t.Fatalf("got no subscription %s at Graph, want one", sub.ID)
	}
	wantExpiry := f.clock.Now().Add(subscription.DefaultLifetime)
	checks := []struct {
		field, got, want string
	}{
		{"resource", created.Resource, "/users"},
		{"changeType", created.ChangeType, "updated,deleted"},
		{"notificationUrl", created.NotificationURL, notificationURL},
		{"lifecycleNotificationUrl", created.LifecycleNotificationURL, notificationURL + "/lifecycle"},
		{"clientState", created.ClientState, clientState},
		{"expirationDateTime", created.ExpirationDateTime.String(), wantExpiry.String()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %s %q, want %q", c.field, c.got, c.want)
		}
	}

	st := f.current(t)
	if st.ID != sub.ID {
		t.Errorf("got stored ID %q, want %q", st.ID, sub.ID)
	}
	if !st.ExpiresAt.Equal(wantExpiry) {
		t.Errorf("got stored expiry %v, want %v", st.ExpiresAt, wantExpiry)
	}
	if got, ok := f.observer.expiry(sub.ID); !ok || !got.Equal(wantExpiry) {
		t.Errorf("got observed expiry %v (set %t), want %v", got, ok, wantExpiry)
	}
}

func TestSubscribeAdoptsOnConflict(t *testing.T) {
	f := newFixture(t)
	existing := subscription.Subscription{
		ID: "existing", Resource: "users", ChangeType: "deleted,updated",
		NotificationURL: notificationURL, LifecycleNotificationURL: notificationURL + "/lifecycle",
		ExpirationDateTime: f.clock.Now().Add(time.Hour),
	}
	f.graph.add(existing)

	sub, err := f.manager.Subscribe(testContext(t))
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	if sub.ID != existing.ID {
		t.Errorf("got subscription %q, want the existing %q", sub.ID, existing.ID)
	}
	if got := f.graph.callCount(opRenew); got != 1 {
		t.Errorf("got %d renewals, want 1 to give the adopted subscription a full lifetime", got)
	}
	wantExpiry := f.clock.Now().Add(subscription.DefaultLifetime)
	if st := f.current(t); st.ID != existing.ID || !st.ExpiresAt.Equal(wantExpiry) {
		t.Errorf("got stored %q expiring %v, want %q expiring %v", st.ID, st.ExpiresAt, existing.ID, wantExpiry)
	}
}

func TestSubscribeConflictElsewhere(t *testing.T) {
	f := newFixture(t)
	f.graph.add(subscription.Subscription{
		ID: "other-deployment", Resource: "/users", ChangeType: "updated,deleted",
		NotificationURL: "https://old.example.com/webhooks/graph",
	})

	_, err := f.manager.Subscribe(testContext(t))
	if err == nil {
		t.Fatal("got no error, want one naming the conflicting subscription")
	}
	for _, want := range []string{"other-deployment", "https://old.example.com/webhooks/graph", "409"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
	}
	if _, ok, _ := f.manager.Current(testContext(t)); ok {
		t.Error("got a stored subscription after a failed Subscribe, want none")
	}
}

func TestSubscribeFailure(t *testing.T) {
	f := newFixture(t)
	f.graph.failNext(opCreate, &failure.Error{Service: "graph", Class: failure.Permanent, Status: http.StatusForbidden, Code: "Forbidden"})

	_, err := f.manager.Subscribe(testContext(t))

	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusForbidden {
		t.Errorf("got error %v, want the Graph 403 wrapped", err)
	}
	if _, ok, _ := f.manager.Current(testContext(t)); ok {
		t.Error("got a stored subscription after a failed Subscribe, want none")
	}
}

func TestSubscribeInvalidConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     subscription.Config
		wantErr string
	}{
		{
			name:    "plain http url",
			cfg:     subscription.Config{NotificationURL: "http://bridge.example.com/webhooks/graph"},
			wantErr: "GRAPH_NOTIFICATION_URL",
		},
		{
			name:    "client state too long",
			cfg:     subscription.Config{ClientState: strings.Repeat("x", 129)},
			wantErr: "GRAPH_CLIENT_STATE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, redistest.NewStore(t), tt.cfg)

			_, err := f.manager.Subscribe(testContext(t))

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one naming %s", err, tt.wantErr)
			}
			if got := f.graph.totalCalls(); got != 0 {
				t.Errorf("got %d Graph calls, want 0", got)
			}
		})
	}
}

func TestNewManagerInvalidDurations(t *testing.T) {
	tests := []struct {
		name string
		cfg  subscription.Config
	}{
		{name: "lifetime beyond maximum", cfg: subscription.Config{Lifetime: subscription.MaxLifetime + time.Minute}},
		{name: "renewal margin above lifetime", cfg: subscription.Config{Lifetime: time.Hour, RenewBefore: 2 * time.Hour}},
		{name: "negative delta interval", cfg: subscription.Config{DeltaInterval: -time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := subscription.NewManager(newMemoryGraph(time.Now), nil, tt.cfg)
			if err == nil {
				t.Error("got no error, want one")
			}
		})
	}
}

func TestMaintainRenewsNearExpiry(t *testing.T) {
	f := newFixture(t)
	created := f.subscribe(t)
	ctx := testContext(t)

	// Just before the renewal margin is reached, nothing is sent.
	f.clock.Advance(subscription.DefaultLifetime - subscription.DefaultRenewBefore - time.Minute)
	if err := f.manager.Maintain(ctx); err != nil {
		t.Fatalf("Maintain before the renewal margin: %v", err)
	}
	if got := f.graph.callCount(opRenew); got != 0 {
		t.Fatalf("got %d renewals before the renewal margin, want 0", got)
	}

	f.clock.Advance(2 * time.Minute)
	if err := f.manager.Maintain(ctx); err != nil {
		t.Fatalf("Maintain within the renewal margin: %v", err)
	}
	if got := f.graph.callCount(opRenew); got != 1 {
		t.Fatalf("got %d renewals within the renewal margin, want 1", got)
	}
	wantExpiry := f.clock.Now().Add(subscription.DefaultLifetime)
	st := f.current(t)
	if st.ID != created.ID {
		t.Errorf("got stored ID %q after renewal, want %q", st.ID, created.ID)
	}
	if !st.ExpiresAt.Equal(wantExpiry) {
		t.Errorf("got stored expiry %v, want %v", st.ExpiresAt, wantExpiry)
	}
	if !st.RenewedAt.Equal(f.clock.Now()) {
		t.Errorf("got renewal time %v, want %v", st.RenewedAt, f.clock.Now())
	}
	if got, _ := f.observer.expiry(created.ID); !got.Equal(wantExpiry) {
		t.Errorf("got observed expiry %v, want %v", got, wantExpiry)
	}

	// The renewed subscription needs nothing for a while.
	if err := f.manager.Maintain(ctx); err != nil {
		t.Fatalf("Maintain after renewal: %v", err)
	}
	if got := f.graph.callCount(opRenew); got != 1 {
		t.Errorf("got %d renewals after a fresh renewal, want still 1", got)
	}
}

func TestMaintainRecreatesRemoved(t *testing.T) {
	f := newFixture(t)
	old := f.subscribe(t)
	f.graph.remove(old.ID)
	f.clock.Advance(subscription.DefaultLifetime - time.Hour)

	if err := f.manager.Maintain(testContext(t)); err != nil {
		t.Fatalf("Maintain: %v", err)
	}

	st := f.current(t)
	if st.ID == old.ID {
		t.Fatalf("got stored ID %q, want a new subscription", st.ID)
	}
	if _, ok := f.graph.subscription(st.ID); !ok {
		t.Errorf("got no subscription %s at Graph, want the new one", st.ID)
	}
	if !f.catchUpRequested(t) {
		t.Error("got no catch-up request, want one because the new subscription may have missed changes")
	}
	if _, ok := f.observer.expiry(old.ID); ok {
		t.Errorf("got an observed expiry for the removed subscription %s, want it forgotten", old.ID)
	}
}

func TestMaintainCreatesWhenNoneStored(t *testing.T) {
	f := newFixture(t)

	if err := f.manager.Maintain(testContext(t)); err != nil {
		t.Fatalf("Maintain: %v", err)
	}

	st := f.current(t)
	if _, ok := f.graph.subscription(st.ID); !ok {
		t.Errorf("got no subscription %s at Graph, want it created", st.ID)
	}
	if !f.catchUpRequested(t) {
		t.Error("got no catch-up request after creating a subscription, want one")
	}
}

func TestDeleteSubscription(t *testing.T) {
	f := newFixture(t)
	st := f.subscribe(t)
	ctx := testContext(t)

	if err := f.manager.Delete(ctx, st.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok := f.graph.subscription(st.ID); ok {
		t.Error("subscription still at Graph after Delete, want it gone")
	}
	if _, ok, _ := f.manager.Current(ctx); ok {
		t.Error("subscription state still stored after Delete, want none")
	}

	// Deleting what Graph no longer has succeeds.
	if err := f.manager.Delete(ctx, st.ID); err != nil {
		t.Errorf("second Delete: got %v, want nil", err)
	}
}

func TestListSubscriptions(t *testing.T) {
	f := newFixture(t)
	st := f.subscribe(t)
	f.graph.add(subscription.Subscription{ID: "zz-other", Resource: "/groups", ChangeType: "updated"})

	subs, err := f.manager.List(testContext(t))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, s := range subs {
		ids = append(ids, s.ID)
	}
	if len(ids) != 2 || ids[0] != st.ID || ids[1] != "zz-other" {
		t.Errorf("got subscriptions %v, want [%s zz-other]", ids, st.ID)
	}
}
