package redisstore_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestSubscriptionState(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	if _, ok, err := s.Subscription(ctx); err != nil || ok {
		t.Fatalf("Subscription before any save: got ok %t, error %v, want false, nil", ok, err)
	}

	want := redisstore.SubscriptionState{
		ID:                       "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
		Resource:                 "/users",
		ChangeType:               "updated,deleted",
		NotificationURL:          "https://bridge.example.com/webhooks/graph",
		LifecycleNotificationURL: "https://bridge.example.com/webhooks/graph/lifecycle",
		ExpiresAt:                time.UnixMilli(1_800_000_000_123),
		CreatedAt:                time.UnixMilli(1_797_000_000_000),
	}
	if err := s.SaveSubscription(ctx, want); err != nil {
		t.Fatalf("SaveSubscription: %v", err)
	}
	got, ok, err := s.Subscription(ctx)
	if err != nil || !ok {
		t.Fatalf("Subscription: got ok %t, error %v, want true, nil", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subscription state mismatch (-want +got):\n%s", diff)
	}

	if deleted, err := s.DeleteSubscription(ctx, "another-id"); err != nil || deleted {
		t.Errorf("DeleteSubscription of another ID: got %t, %v, want false, nil", deleted, err)
	}
	if _, ok, _ := s.Subscription(ctx); !ok {
		t.Error("state gone after deleting another ID, want it kept")
	}
	if deleted, err := s.DeleteSubscription(ctx, want.ID); err != nil || !deleted {
		t.Errorf("DeleteSubscription: got %t, %v, want true, nil", deleted, err)
	}
	if _, ok, _ := s.Subscription(ctx); ok {
		t.Error("state still present after DeleteSubscription, want none")
	}
}

func TestReserveSubscriptionAction(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	reserve := func(action, id string) bool {
		t.Helper()
		ok, err := s.ReserveSubscriptionAction(ctx, action, id, time.Minute)
		if err != nil {
			t.Fatalf("ReserveSubscriptionAction(%s, %s): %v", action, id, err)
		}
		return ok
	}

	if !reserve("reauthorize", "sub-1") {
		t.Error("first reservation: got false, want true")
	}
	if reserve("reauthorize", "sub-1") {
		t.Error("second reservation within the interval: got true, want false")
	}
	if !reserve("reauthorize", "sub-2") {
		t.Error("reservation for another subscription: got false, want true")
	}
	if !reserve("renew", "sub-1") {
		t.Error("reservation of another action: got false, want true")
	}

	if err := s.ReleaseSubscriptionAction(ctx, "reauthorize", "sub-1"); err != nil {
		t.Fatalf("ReleaseSubscriptionAction: %v", err)
	}
	if !reserve("reauthorize", "sub-1") {
		t.Error("reservation after release: got false, want true")
	}
}

func TestReserveSubscriptionActionExpires(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if ok, err := s.ReserveSubscriptionAction(ctx, "reauthorize", "sub-1", 50*time.Millisecond); err != nil || !ok {
		t.Fatalf("first reservation: got %t, %v, want true, nil", ok, err)
	}
	waitFor(t, "the reservation to expire", func() bool {
		ok, err := s.ReserveSubscriptionAction(ctx, "reauthorize", "sub-1", 50*time.Millisecond)
		return err == nil && ok
	})
}
