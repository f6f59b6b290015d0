package redisstore_test

import (
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestLifecycleReadAndAck(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	events := []bridge.Lifecycle{
		{SubscriptionID: "sub-1", Event: "reauthorizationRequired"},
		{SubscriptionID: "sub-2", Event: "missed"},
	}
	if err := s.Enqueue(ctx, nil, events); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}

	got, err := s.ReadLifecycle(ctx, "c1", 10, 0)
	if err != nil {
		t.Fatalf("ReadLifecycle: %v", err)
	}
	if len(got) != 2 || got[0].Event != "reauthorizationRequired" || got[1].Event != "missed" {
		t.Fatalf("got %+v, want reauthorizationRequired then missed", got)
	}
	if got[0].ReceivedAt.IsZero() {
		t.Error("ReceivedAt is zero, want the Enqueue time")
	}
	again, err := s.ReadLifecycle(ctx, "c2", 10, 0)
	if err != nil {
		t.Fatalf("second ReadLifecycle: %v", err)
	}
	if len(again) != 0 {
		t.Errorf("second consumer got %d delivered entries, want 0", len(again))
	}

	if err := s.AckLifecycle(ctx, got[0].ID); err != nil {
		t.Fatalf("AckLifecycle: %v", err)
	}
	d, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.LifecyclePending != 1 {
		t.Errorf("got %d lifecycle entries pending, want 1", d.LifecyclePending)
	}

	// The unacknowledged entry goes to another consumer once stale.
	redisstore.SetStaleReadAfter(s, time.Millisecond)
	var redelivered []redisstore.LifecycleEntry
	waitFor(t, "the stale lifecycle entry", func() bool {
		redelivered, err = s.ReadLifecycle(ctx, "c2", 10, 0)
		if err != nil {
			t.Fatalf("ReadLifecycle after crash: %v", err)
		}
		return len(redelivered) > 0
	})
	if len(redelivered) != 1 || redelivered[0].ID != got[1].ID {
		t.Fatalf("got %+v, want the unacknowledged entry %s", redelivered, got[1].ID)
	}
	if err := s.AckLifecycle(ctx, redelivered[0].ID); err != nil {
		t.Fatalf("AckLifecycle: %v", err)
	}
	if d, err = s.Depths(ctx); err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.LifecyclePending != 0 {
		t.Errorf("got %d lifecycle entries pending after ack, want 0", d.LifecyclePending)
	}
}

func TestAckLifecycleNothing(t *testing.T) {
	s := redistest.NewStore(t)
	if err := s.AckLifecycle(testContext(t)); err != nil {
		t.Errorf("AckLifecycle of no IDs: %v", err)
	}
}
