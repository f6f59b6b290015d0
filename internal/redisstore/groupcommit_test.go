package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

// gateHook holds every XADD, alone or in a pipeline, until release is
// closed, and records how many XADDs each round trip carried.
type gateHook struct {
	release chan struct{}

	mu    sync.Mutex
	held  int
	trips []int
}

func newGateHook() *gateHook { return &gateHook{release: make(chan struct{})} }

func (h *gateHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *gateHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "xadd" {
			h.record(1)
			h.hold()
		}
		return next(ctx, cmd)
	}
}

func (h *gateHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "xadd" {
			h.record(len(cmds))
			h.hold()
		}
		return next(ctx, cmds)
	}
}

func (h *gateHook) record(writes int) {
	h.mu.Lock()
	h.trips = append(h.trips, writes)
	h.mu.Unlock()
}

func (h *gateHook) hold() {
	h.mu.Lock()
	h.held++
	h.mu.Unlock()
	<-h.release
}

// heldCount reports how many writes are waiting at the gate.
func (h *gateHook) heldCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held
}

// roundTrips returns the XADDs per round trip, in the order they went out.
func (h *gateHook) roundTrips() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.trips...)
}

// gatedStore returns a Store on the test Redis whose XADDs pass hook.
func gatedStore(t *testing.T, hook *gateHook) *redisstore.Store {
	t.Helper()
	url := redistest.URL(t)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	rdb.AddHook(hook)
	s := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(t, url)})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// enqueueAsync runs Enqueue for one change of user in a goroutine and
// returns the channel that receives its result.
func enqueueAsync(ctx context.Context, s *redisstore.Store, user string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Enqueue(ctx, []bridge.Change{change(user)}, nil) }()
	return done
}

// holdFlushers sends one write per flusher, each once the previous one is
// held at the gate, so that every flusher holds a write of its own.
func holdFlushers(t *testing.T, ctx context.Context, s *redisstore.Store, hook *gateHook) []<-chan error {
	t.Helper()
	var pending []<-chan error
	for i := range redisstore.GroupCommitFlushers {
		pending = append(pending, enqueueAsync(ctx, s, fmt.Sprintf("held-%d", i)))
		waitFor(t, fmt.Sprintf("%d flushers to hold a write", i+1), func() bool { return hook.heldCount() == i+1 })
	}
	return pending
}

// TestEnqueueSharesPipelines holds the flushers' first writes at the gate
// and queues more requests behind them. Those must share pipelines, and
// each must be acknowledged and stored as its own entry.
func TestEnqueueSharesPipelines(t *testing.T) {
	hook := newGateHook()
	s := gatedStore(t, hook)
	ctx := testContext(t)

	results := holdFlushers(t, ctx, s, hook)
	const queued = 10
	for i := range queued {
		results = append(results, enqueueAsync(ctx, s, fmt.Sprintf("queued-%d", i)))
	}
	waitFor(t, "the requests to queue", func() bool {
		return redisstore.QueuedWrites(s) == queued
	})
	close(hook.release)

	for i, done := range results {
		if err := <-done; err != nil {
			t.Errorf("Enqueue %d: %v", i, err)
		}
	}
	// The held writes went out alone. A free flusher takes every queued
	// write, so the queued writes need at most one round trip per flusher.
	trips := hook.roundTrips()
	later := trips[min(len(trips), redisstore.GroupCommitFlushers):]
	sent := 0
	for _, n := range later {
		sent += n
	}
	if sent != queued || len(later) > redisstore.GroupCommitFlushers {
		t.Errorf("XADDs per round trip %v: want the %d queued writes in at most %d round trips after the %d held ones",
			trips, queued, redisstore.GroupCommitFlushers, redisstore.GroupCommitFlushers)
	}
	want := redisstore.QueueWrites{Writes: uint64(redisstore.GroupCommitFlushers + queued), RoundTrips: uint64(len(trips))}
	if got := s.QueueWrites(); got != want {
		t.Errorf("QueueWrites: got %+v, want %+v", got, want)
	}
	n, err := redisstore.InboxLen(ctx, s)
	if err != nil {
		t.Fatalf("inbox length: %v", err)
	}
	if want := int64(redisstore.GroupCommitFlushers + queued); n != want {
		t.Errorf("got %d inbox entries, want %d", n, want)
	}
	if got, want := schedule(t, s, 0), redisstore.GroupCommitFlushers+queued; got != want {
		t.Errorf("Schedule processed %d entries, want %d", got, want)
	}
}

// TestEnqueueExpiredWhileQueued checks that a request whose context ends
// while it waits for a flusher fails and is never written.
func TestEnqueueExpiredWhileQueued(t *testing.T) {
	hook := newGateHook()
	s := gatedStore(t, hook)
	ctx := testContext(t)

	held := holdFlushers(t, ctx, s, hook)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := s.Enqueue(short, []bridge.Change{change("expired")}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enqueue with an expired context: got %v, want context.DeadlineExceeded", err)
	}
	close(hook.release)
	for i, done := range held {
		if err := <-done; err != nil {
			t.Errorf("held Enqueue %d: %v", i, err)
		}
	}

	// The expired write's context ended before a flusher was free, so no
	// flusher may send it; a later write shows the flushers still work.
	enqueue(t, s, "later")
	n, err := redisstore.InboxLen(ctx, s)
	if err != nil {
		t.Fatalf("inbox length: %v", err)
	}
	if want := int64(redisstore.GroupCommitFlushers + 1); n != want {
		t.Errorf("got %d inbox entries, want %d (the expired request must not be stored)", n, want)
	}
}

func TestEnqueueCanceledContext(t *testing.T) {
	s := redistest.NewStore(t)
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	if err := s.Enqueue(ctx, []bridge.Change{change("u1")}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Enqueue with a canceled context: got %v, want context.Canceled", err)
	}
	n, err := redisstore.InboxLen(testContext(t), s)
	if err != nil {
		t.Fatalf("inbox length: %v", err)
	}
	if n != 0 {
		t.Errorf("got %d inbox entries, want 0", n)
	}
}

// TestEnqueueDuringClose checks that requests queued behind a held write
// fail at once when the store closes, instead of waiting for their
// deadlines.
func TestEnqueueDuringClose(t *testing.T) {
	hook := newGateHook()
	s := gatedStore(t, hook)
	ctx := testContext(t)

	held := holdFlushers(t, ctx, s, hook)
	queued := enqueueAsync(ctx, s, "queued")
	waitFor(t, "the request to queue", func() bool { return redisstore.QueuedWrites(s) == 1 })

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-queued:
		if err == nil {
			t.Error("Enqueue queued at Close returned nil")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Enqueue queued at Close did not return")
	}
	close(hook.release)
	for _, done := range held {
		<-done
	}
	if err := s.Enqueue(ctx, []bridge.Change{change("after")}, nil); err == nil {
		t.Error("Enqueue after Close returned nil")
	}
}

// TestEnqueueManyConcurrentRequests checks that every one of many
// concurrent requests is acknowledged and stored once.
func TestEnqueueManyConcurrentRequests(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	const clients, perClient = 32, 50

	var wg sync.WaitGroup
	errs := make(chan error, clients*perClient)
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				errs <- s.Enqueue(ctx, []bridge.Change{change(fmt.Sprintf("c%d-u%d", c, i))}, nil)
			}
		})
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	n, err := redisstore.InboxLen(ctx, s)
	if err != nil {
		t.Fatalf("inbox length: %v", err)
	}
	if n != clients*perClient {
		t.Errorf("got %d inbox entries, want %d", n, clients*perClient)
	}

	schedule(t, s, 0)
	for c := range clients {
		for i := range perClient {
			if st := userState(t, s, fmt.Sprintf("c%d-u%d", c, i)); st.NotifiedAt.IsZero() {
				t.Fatalf("user c%d-u%d was not scheduled", c, i)
			}
		}
	}
}
