package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// recorder collects the outcome of every request of one load step. It is
// safe for concurrent use.
type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration // of successful requests
	failures  int
	statuses  map[int]int // failed requests by status, where 0 means no response
}

func newRecorder(capacity int) *recorder {
	return &recorder{latencies: make([]time.Duration, 0, capacity), statuses: map[int]int{}}
}

// success records a request acknowledged after d.
func (r *recorder) success(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, d)
}

// failure records a request that got status, or no response when status
// is 0.
func (r *recorder) failure(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	r.statuses[status]++
}

// summary returns the distribution of everything recorded so far.
func (r *recorder) summary() distribution {
	r.mu.Lock()
	defer r.mu.Unlock()
	sorted := slices.Clone(r.latencies)
	slices.Sort(sorted)
	return distribution{sorted: sorted, failures: r.failures, statuses: maps.Clone(r.statuses)}
}

// distribution is a sorted set of latencies plus the requests that
// failed. A failed request counts as slower than every success, so that
// percentiles cannot look better by dropping requests.
type distribution struct {
	sorted   []time.Duration
	failures int
	statuses map[int]int
}

// count returns how many requests were recorded, failed ones included.
func (d distribution) count() int { return len(d.sorted) + d.failures }

// percentile returns the latency below which the fraction p of all
// requests fell, by the nearest-rank method. ok is false when that rank
// falls among the failed requests or nothing was recorded.
func (d distribution) percentile(p float64) (latency time.Duration, ok bool) {
	n := d.count()
	if n == 0 {
		return 0, false
	}
	rank := int(math.Ceil(p*float64(n))) - 1
	rank = max(rank, 0)
	if rank >= len(d.sorted) {
		return 0, false
	}
	return d.sorted[rank], true
}

// formatPercentile formats percentile p for a table: milliseconds, or
// "failed" when the rank falls among failed requests.
func (d distribution) formatPercentile(p float64) string {
	v, ok := d.percentile(p)
	if !ok {
		if d.count() == 0 {
			return "–"
		}
		return "failed"
	}
	return formatMillis(v)
}

// formatMillis formats d in milliseconds with a precision that suits its
// size.
func formatMillis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
