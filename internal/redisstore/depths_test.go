package redisstore_test

import (
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/google/go-cmp/cmp"
)

func TestDepths(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	empty, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths of an empty store: %v", err)
	}
	if diff := cmp.Diff(redisstore.Depths{}, empty); diff != "" {
		t.Errorf("empty store mismatch (-want +got):\n%s", diff)
	}

	// In flight: "leased". Retrying and due: "failed". Dead: "dead".
	claimOne(t, s, "leased", "w1")
	dead := claimOne(t, s, "dead", "w1")
	if _, err := s.DeadLetter(ctx, dead, "unmapped", "", 0); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	failed := claimOne(t, s, "failed", "w1")
	if err := s.Retry(ctx, failed, time.Now().Add(-time.Second), "status 503"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	// Due now: "now-1", "now-2". Scheduled: "later".
	enqueue(t, s, "now-1", "now-2")
	schedule(t, s, 0)
	enqueue(t, s, "later")
	schedule(t, s, time.Hour)
	// Inbox: three entries not yet read, two read but not acknowledged.
	enqueue(t, s, "a", "b")
	if _, err := redisstore.ReadInboxWithoutAck(ctx, s, "crashed", 10); err != nil {
		t.Fatalf("read without ack: %v", err)
	}
	enqueue(t, s, "c", "d", "e")
	lifecycles := []bridge.Lifecycle{{SubscriptionID: "sub-1"}, {SubscriptionID: "sub-2"}}
	if err := s.Enqueue(ctx, nil, lifecycles); err != nil {
		t.Fatalf("Enqueue lifecycles: %v", err)
	}

	got, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	want := redisstore.Depths{
		Due:              3,
		Scheduled:        1,
		InFlight:         1,
		Retrying:         1,
		Dead:             1,
		InboxPending:     5,
		LifecyclePending: 2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("depths mismatch (-want +got):\n%s", diff)
	}
}
