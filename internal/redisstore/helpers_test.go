package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// testContext returns a context that ends with the test or after 30 s, so
// a hung Redis call fails the test instead of stalling it.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func change(user string) bridge.Change {
	return bridge.Change{
		UserID:         user,
		ChangeType:     "updated",
		SubscriptionID: "sub-1",
		TenantID:       "tenant-1",
		SequenceNumber: "638745120000000001",
		EventTime:      "2025-02-03T10:00:00.000Z",
		ReceivedAt:     time.Now(),
	}
}

// enqueue enqueues one change per user, each in its own Enqueue call as
// separate webhook requests would, so each makes one inbox entry.
func enqueue(t *testing.T, s *redisstore.Store, users ...string) {
	t.Helper()
	for _, u := range users {
		if err := s.Enqueue(testContext(t), []bridge.Change{change(u)}, nil); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
}

// schedule runs Schedule until the inbox has no unread entries and returns
// the number of entries processed.
func schedule(t *testing.T, s *redisstore.Store, debounce time.Duration) int {
	t.Helper()
	total := 0
	for {
		n, err := s.Schedule(testContext(t), "scheduler-test", debounce, 100, 0)
		if err != nil {
			t.Fatalf("Schedule: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func claim(t *testing.T, s *redisstore.Store, owner string, max int, lease time.Duration) []bridge.Job {
	t.Helper()
	jobs, err := s.Claim(testContext(t), owner, max, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return jobs
}

// claimOne enqueues and schedules user with no debounce and claims it.
func claimOne(t *testing.T, s *redisstore.Store, user, owner string) bridge.Job {
	t.Helper()
	enqueue(t, s, user)
	schedule(t, s, 0)
	jobs := claim(t, s, owner, 10, time.Minute)
	if len(jobs) != 1 || jobs[0].UserID != user {
		t.Fatalf("Claim returned %+v, want one job for %s", jobs, user)
	}
	return jobs[0]
}

func userState(t *testing.T, s *redisstore.Store, user string) redisstore.UserState {
	t.Helper()
	st, err := s.UserState(testContext(t), user)
	if err != nil {
		t.Fatalf("UserState(%s): %v", user, err)
	}
	return st
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
