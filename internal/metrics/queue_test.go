package metrics

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

// queueMetricNames are the families the queue collector exports.
var queueMetricNames = []string{
	"entrabridge_queue_users",
	"entrabridge_dead_letters",
	"entrabridge_inbox_backlog",
	"entrabridge_lifecycle_backlog",
	"entrabridge_queue_scrape_errors_total",
}

func TestWatchQueueExportsDepths(t *testing.T) {
	m := New()
	m.WatchQueue(func(context.Context) (redisstore.Depths, error) {
		return redisstore.Depths{
			Due: 4, Scheduled: 7, InFlight: 2, Retrying: 3,
			Dead: 1, InboxPending: 12, LifecyclePending: 5,
		}, nil
	})

	want := `
# HELP entrabridge_dead_letters Dead letters waiting for an operator.
# TYPE entrabridge_dead_letters gauge
entrabridge_dead_letters 1
# HELP entrabridge_inbox_backlog Inbox entries (accepted webhook requests) the scheduler has not yet processed.
# TYPE entrabridge_inbox_backlog gauge
entrabridge_inbox_backlog 12
# HELP entrabridge_lifecycle_backlog Accepted lifecycle notifications not yet acknowledged.
# TYPE entrabridge_lifecycle_backlog gauge
entrabridge_lifecycle_backlog 5
# HELP entrabridge_queue_scrape_errors_total Failed reads of the queue depths during a scrape.
# TYPE entrabridge_queue_scrape_errors_total counter
entrabridge_queue_scrape_errors_total 0
# HELP entrabridge_queue_users Users in the sync queue by state. A retrying user is also counted as due, scheduled or in_flight.
# TYPE entrabridge_queue_users gauge
entrabridge_queue_users{state="due"} 4
entrabridge_queue_users{state="in_flight"} 2
entrabridge_queue_users{state="retrying"} 3
entrabridge_queue_users{state="scheduled"} 7
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), queueMetricNames...); err != nil {
		t.Error(err)
	}
}

func TestWatchQueueReadsAtEveryScrape(t *testing.T) {
	m := New()
	var calls int64
	m.WatchQueue(func(context.Context) (redisstore.Depths, error) {
		calls++
		return redisstore.Depths{Dead: calls}, nil
	})

	for want := int64(1); want <= 3; want++ {
		metric := findMetric(t, m, "entrabridge_dead_letters", map[string]string{})
		if metric == nil {
			t.Fatalf("scrape %d: got no entrabridge_dead_letters, want %d", want, want)
		}
		if got := metric.GetGauge().GetValue(); got != float64(want) {
			t.Errorf("scrape %d: got %v dead letters, want %d", want, got, want)
		}
	}
}

func TestWatchQueueFailure(t *testing.T) {
	tests := []struct {
		name  string
		depth func(ctx context.Context) (redisstore.Depths, error)
	}{
		{
			name: "error",
			depth: func(context.Context) (redisstore.Depths, error) {
				return redisstore.Depths{Due: 9}, errors.New("redis: connection refused")
			},
		},
		{
			name: "timeout",
			depth: func(ctx context.Context) (redisstore.Depths, error) {
				<-ctx.Done()
				return redisstore.Depths{}, ctx.Err()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.queue.readTimeout = 10 * time.Millisecond
			var logs bytes.Buffer
			m.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
			m.WatchQueue(tt.depth)

			for range 3 {
				if f := gatherFamily(t, m, "entrabridge_queue_users"); f != nil {
					t.Errorf("got %d queue_users series after a failed read, want none", len(f.GetMetric()))
				}
			}

			if got := testutil.ToFloat64(m.queue.errors); got != 3 {
				t.Errorf("queue_scrape_errors_total: got %v, want 3", got)
			}
			if got := strings.Count(logs.String(), "read queue depths for metrics failed"); got != 1 {
				t.Errorf("got %d log lines for 3 failures in one minute, want 1:\n%s", got, logs.String())
			}
		})
	}
}

func TestWatchQueueDeadline(t *testing.T) {
	m := New()
	var deadline time.Time
	var hasDeadline bool
	m.WatchQueue(func(ctx context.Context) (redisstore.Depths, error) {
		deadline, hasDeadline = ctx.Deadline()
		return redisstore.Depths{}, nil
	})

	before := time.Now()
	gatherFamily(t, m, "entrabridge_queue_users")
	after := time.Now()

	if !hasDeadline {
		t.Fatal("got a context without deadline, want one")
	}
	earliest, latest := before.Add(queueReadTimeout), after.Add(queueReadTimeout)
	if deadline.Before(earliest) || deadline.After(latest) {
		t.Errorf("got deadline %s after scrape start, want %s after the read started",
			deadline.Sub(before), queueReadTimeout)
	}
}

func TestWatchQueueNil(t *testing.T) {
	m := New()
	m.WatchQueue(func(context.Context) (redisstore.Depths, error) { return redisstore.Depths{}, nil })
	m.WatchQueue(nil)

	if f := gatherFamily(t, m, "entrabridge_queue_users"); f != nil {
		t.Errorf("got queue_users after WatchQueue(nil), want none")
	}
	if f := gatherFamily(t, m, "entrabridge_queue_scrape_errors_total"); f == nil {
		t.Errorf("got no queue_scrape_errors_total, want it always exported")
	}
}

func TestWatchQueueWithStore(t *testing.T) {
	store := redistest.NewStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	now := time.Now()
	changes := []bridge.Change{
		{UserID: "user-1", ChangeType: "updated", SubscriptionID: "sub-1", ReceivedAt: now},
		{UserID: "user-2", ChangeType: "updated", SubscriptionID: "sub-1", ReceivedAt: now},
	}
	lifecycles := []bridge.Lifecycle{
		{SubscriptionID: "sub-1", Event: "reauthorizationRequired", ReceivedAt: now},
	}
	// The two changes of one request make one inbox entry.
	if err := store.Enqueue(ctx, changes, lifecycles); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}

	m := New()
	m.WatchQueue(store.Depths)

	want := `
# HELP entrabridge_inbox_backlog Inbox entries (accepted webhook requests) the scheduler has not yet processed.
# TYPE entrabridge_inbox_backlog gauge
entrabridge_inbox_backlog 1
# HELP entrabridge_lifecycle_backlog Accepted lifecycle notifications not yet acknowledged.
# TYPE entrabridge_lifecycle_backlog gauge
entrabridge_lifecycle_backlog 1
# HELP entrabridge_queue_scrape_errors_total Failed reads of the queue depths during a scrape.
# TYPE entrabridge_queue_scrape_errors_total counter
entrabridge_queue_scrape_errors_total 0
`
	names := []string{
		"entrabridge_inbox_backlog",
		"entrabridge_lifecycle_backlog",
		"entrabridge_queue_scrape_errors_total",
	}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}
