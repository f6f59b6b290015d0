package main

import (
	"context"
	"testing"
	"time"
)

func TestDistributionPercentile(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		latencies []time.Duration
		failures  int
		p         float64
		want      time.Duration
		wantOK    bool
	}{
		{"median of four", []time.Duration{4 * ms, 1 * ms, 3 * ms, 2 * ms}, 0, 0.5, 2 * ms, true},
		{"p99 of hundred", sequence(100), 0, 0.99, 99 * ms, true},
		{"p100 is the maximum", sequence(10), 0, 1, 10 * ms, true},
		{"tiny p is the minimum", sequence(10), 0, 0.0001, 1 * ms, true},
		{"failures rank last", sequence(98), 2, 0.98, 98 * ms, true},
		{"rank among failures", sequence(98), 2, 0.99, 0, false},
		{"nothing recorded", nil, 0, 0.5, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(len(tt.latencies))
			for _, d := range tt.latencies {
				rec.success(d)
			}
			for range tt.failures {
				rec.failure(0)
			}

			got, ok := rec.summary().percentile(tt.p)
			if ok != tt.wantOK {
				t.Fatalf("percentile(%g) ok: got %t, want %t", tt.p, ok, tt.wantOK)
			}
			if got != tt.want {
				t.Errorf("percentile(%g): got %s, want %s", tt.p, got, tt.want)
			}
		})
	}
}

// sequence returns 1 ms, 2 ms, ..., n ms.
func sequence(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestFormatPercentileFailed(t *testing.T) {
	rec := newRecorder(1)
	rec.failure(503)

	if got := rec.summary().formatPercentile(0.5); got != "failed" {
		t.Errorf("got %q, want failed", got)
	}
}

// TestOpenLoopCountsQueueingDelay stalls the first request while only one
// request may be open, so every later request waits behind it. Measured
// from the schedule, the last request's latency includes that wait; a
// generator that measured from the send would report about zero.
func TestOpenLoopCountsQueueingDelay(t *testing.T) {
	const stall = 100 * time.Millisecond
	send := func(ctx context.Context, i int) int {
		if i == 0 {
			sleepContext(ctx, stall)
		}
		return 202
	}

	// 10 requests scheduled 1 ms apart; all wait for the first.
	res := openLoop(context.Background(), send, 1000, 10*time.Millisecond, 5*time.Second, 1)

	if got := res.dist.count(); got != 10 {
		t.Fatalf("requests: got %d, want 10", got)
	}
	if res.dist.failures != 0 {
		t.Fatalf("failures: got %d, want 0", res.dist.failures)
	}
	slowest, _ := res.dist.percentile(1)
	// The last request is scheduled 9 ms in and can start only after the
	// stall ends at 100 ms.
	if want := stall - 10*time.Millisecond; slowest < want {
		t.Errorf("slowest latency: got %s, want at least %s", slowest, want)
	}
	fastestLater, _ := res.dist.percentile(0.2)
	if want := stall / 2; fastestLater < want {
		t.Errorf("second fastest latency: got %s, want at least %s", fastestLater, want)
	}
}

func TestOpenLoopTimesOutWaitingRequests(t *testing.T) {
	release := make(chan struct{})
	send := func(ctx context.Context, i int) int {
		if i == 0 {
			<-release
		}
		return 202
	}

	done := make(chan loadResult)
	go func() {
		done <- openLoop(context.Background(), send, 100, 50*time.Millisecond, 200*time.Millisecond, 1)
	}()
	// The first request stalls for a second, longer than every other
	// request's 200 ms timeout, so all of them give up waiting for a slot.
	time.AfterFunc(time.Second, func() { close(release) })
	res := <-done

	if got := res.dist.count(); got != 5 {
		t.Fatalf("requests: got %d, want 5", got)
	}
	if got := res.dist.failures; got != 4 {
		t.Errorf("failures: got %d, want 4 (every request queued behind the stalled one)", got)
	}
	if got := res.dist.statuses[0]; got != 4 {
		t.Errorf("failures without response: got %d, want 4", got)
	}
}

func TestClosedLoopCountsStatuses(t *testing.T) {
	send := func(ctx context.Context, i int) int {
		if i%2 == 1 {
			return 503
		}
		return 202
	}

	res := closedLoop(context.Background(), send, 1, 50*time.Millisecond, time.Second)

	d := res.dist
	if d.count() < 1 {
		t.Fatalf("requests: got %d, want at least 1", d.count())
	}
	if want := d.count() / 2; d.statuses[503] != want {
		t.Errorf("503 responses: got %d, want %d of %d", d.statuses[503], want, d.count())
	}
	if got := len(d.sorted); got != d.count()-d.failures {
		t.Errorf("acknowledged: got %d, want %d", got, d.count()-d.failures)
	}
}
