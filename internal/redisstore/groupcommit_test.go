package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/notification"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

// gateHook holds the first GroupCommitFlushers round trips of XADDs,
// alone or in a pipeline, until release is closed, and lets later ones
// pass. It records how many XADDs each round trip carried and the
// deadline of each pipeline's context.
type gateHook struct {
	release chan struct{}

	mu         sync.Mutex
	heldWrites int
	trips      []int
	deadlines  []time.Time
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
			deadline, _ := ctx.Deadline()
			h.mu.Lock()
			h.deadlines = append(h.deadlines, deadline)
			h.mu.Unlock()
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
	if h.heldWrites == redisstore.GroupCommitFlushers {
		h.mu.Unlock()
		return
	}
	h.heldWrites++
	h.mu.Unlock()
	<-h.release
}

// heldCount reports how many writes are waiting at the gate.
func (h *gateHook) heldCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.heldWrites
}

// roundTrips returns the XADDs per round trip, in the order they went out.
func (h *gateHook) roundTrips() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.trips...)
}

// pipelineDeadlines returns the deadline of each pipeline's context, zero
// where it had none.
func (h *gateHook) pipelineDeadlines() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.deadlines...)
}

// gatedStore returns a Store on the test Redis whose XADDs pass hook.
// Its writes never bypass a held flusher.
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
	redisstore.SetStallAfter(s, time.Hour)
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

// TestEnqueueExpiredWhileQueued queues a write whose context ends while
// the flusher is held, and a live write behind it. The expired write must
// fail and never be stored, and must not make the live one fail with it.
func TestEnqueueExpiredWhileQueued(t *testing.T) {
	hook := newGateHook()
	s := gatedStore(t, hook)
	ctx := testContext(t)

	heldResults := holdFlushers(t, ctx, s, hook)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	expired := enqueueAsync(short, s, "expired")
	waitFor(t, "the expiring request to queue", func() bool { return redisstore.QueuedWrites(s) == 1 })
	live := enqueueAsync(ctx, s, "live")
	waitFor(t, "the live request to queue", func() bool { return redisstore.QueuedWrites(s) == 2 })
	if err := <-expired; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enqueue with an expired context: got %v, want context.DeadlineExceeded", err)
	}
	close(hook.release)

	for i, done := range heldResults {
		if err := <-done; err != nil {
			t.Errorf("held Enqueue %d: %v", i, err)
		}
	}
	if err := <-live; err != nil {
		t.Errorf("live Enqueue queued behind an expired one: %v", err)
	}
	n, err := redisstore.InboxLen(ctx, s)
	if err != nil {
		t.Fatalf("inbox length: %v", err)
	}
	if want := int64(redisstore.GroupCommitFlushers + 1); n != want {
		t.Errorf("got %d inbox entries, want %d (the expired request must not be stored)", n, want)
	}
}

// TestPipelineEndsAtEarliestDeadline checks that a shared pipeline stops
// at the first deadline among its writes, so that no write is sent after
// its request gave up.
func TestPipelineEndsAtEarliestDeadline(t *testing.T) {
	hook := newGateHook()
	s := gatedStore(t, hook)
	ctx := testContext(t)

	heldResults := holdFlushers(t, ctx, s, hook)
	sooner, cancelSooner := context.WithTimeout(ctx, 10*time.Second)
	defer cancelSooner()
	later, cancelLater := context.WithTimeout(ctx, 20*time.Second)
	defer cancelLater()
	results := []<-chan error{enqueueAsync(later, s, "later"), enqueueAsync(sooner, s, "sooner")}
	waitFor(t, "both requests to queue", func() bool { return redisstore.QueuedWrites(s) == 2 })
	close(hook.release)

	for _, done := range append(heldResults, results...) {
		if err := <-done; err != nil {
			t.Errorf("Enqueue: %v", err)
		}
	}
	want, _ := sooner.Deadline()
	deadlines := hook.pipelineDeadlines()
	if len(deadlines) != 1 {
		t.Fatalf("got %d pipelines, want 1 carrying both writes", len(deadlines))
	}
	if !deadlines[0].Equal(want) {
		t.Errorf("pipeline deadline %v, want the earlier write's deadline %v", deadlines[0], want)
	}
}

// TestEnqueueBypassesStalledFlusher holds the flusher past the stall
// limit. A request queued before the stall and one that arrives after it
// must both be stored by commands of their own instead of waiting.
func TestEnqueueBypassesStalledFlusher(t *testing.T) {
	hook := newGateHook()
	s := gatedStore(t, hook)
	// Long enough for the first request to queue before the stall.
	redisstore.SetStallAfter(s, 300*time.Millisecond)
	ctx := testContext(t)

	heldResults := holdFlushers(t, ctx, s, hook)
	queued := enqueueAsync(ctx, s, "queued")
	waitFor(t, "the request to queue", func() bool { return redisstore.QueuedWrites(s) == 1 })
	if redisstore.FlushersStalled(s) {
		t.Fatal("the flusher stalled before the request queued; the test needs a longer stall limit")
	}
	if err := <-queued; err != nil {
		t.Fatalf("Enqueue queued before the stall: %v", err)
	}
	if !redisstore.FlushersStalled(s) {
		t.Error("the queued request returned before the flusher stalled")
	}
	if err := s.Enqueue(ctx, []bridge.Change{change("direct")}, nil); err != nil {
		t.Fatalf("Enqueue while the flusher is stalled: %v", err)
	}
	n, err := redisstore.InboxLen(ctx, s)
	if err != nil {
		t.Fatalf("inbox length: %v", err)
	}
	if n != 2 {
		t.Errorf("got %d inbox entries while the flusher is held, want 2", n)
	}

	close(hook.release)
	for i, done := range heldResults {
		if err := <-done; err != nil {
			t.Errorf("held Enqueue %d: %v", i, err)
		}
	}
	// The held writer gets its result just before the flusher records
	// that its round trip ended.
	waitFor(t, "the stall to end", func() bool { return !redisstore.FlushersStalled(s) })
}

// failHook fails the first XADD round trip with a connection error and
// lets later ones pass.
type failHook struct{ failed atomic.Bool }

var errInjected = errors.New("injected: connection reset by peer")

func (h *failHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "xadd" && h.failed.CompareAndSwap(false, true) {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}

func (h *failHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestEnqueueDegradedMode checks that a round trip failing without a reply
// from Redis switches writes to direct commands, that the next success
// switches back, and that an error reply from Redis does not switch.
func TestEnqueueDegradedMode(t *testing.T) {
	url := redistest.URL(t)
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	opts.MaxRetries = -1
	rdb := redis.NewClient(opts)
	rdb.AddHook(&failHook{})
	s := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(t, url)})
	t.Cleanup(func() { _ = s.Close() })
	ctx := testContext(t)

	if err := s.Enqueue(ctx, []bridge.Change{change("fails")}, nil); !errors.Is(err, errInjected) {
		t.Fatalf("first Enqueue: got %v, want the injected connection error", err)
	}
	if !redisstore.FlushersDegraded(s) {
		t.Fatal("a round trip failed without a reply, but writes do not go out directly")
	}
	if err := s.Enqueue(ctx, []bridge.Change{change("direct")}, nil); err != nil {
		t.Fatalf("Enqueue in degraded mode: %v", err)
	}
	if redisstore.FlushersDegraded(s) {
		t.Error("a write succeeded, but writes still go out directly")
	}
	if got := s.QueueWrites(); got != (redisstore.QueueWrites{Writes: 2, RoundTrips: 2}) {
		t.Errorf("QueueWrites: got %+v, want 2 writes in 2 round trips", got)
	}

	// An error reply shows that Redis is reachable, so the pipeline stays in
	// use.
	if err := redisstore.Client(s).Set(ctx, redisstore.InboxKey(s), "not a stream", 0).Err(); err != nil {
		t.Fatalf("overwrite the inbox: %v", err)
	}
	if err := s.Enqueue(ctx, []bridge.Change{change("wrongtype")}, nil); err == nil {
		t.Fatal("Enqueue to an inbox of the wrong type returned nil")
	}
	if redisstore.FlushersDegraded(s) {
		t.Error("an error reply from Redis switched writes to direct commands")
	}
}

// TestEnqueueRedisDownDefaultRetries sends 3 rounds of 32 concurrent
// requests with the enqueue timeout of 2 s to a closed port, with
// go-redis's default dial and command retries, which Open keeps. One round
// trip takes about 1.7 s to fail there. Requests of the first round may
// wait for the round trip that carries them. Later rounds must fail
// sooner than their deadlines, and not queue behind failing round trips.
func TestEnqueueRedisDownDefaultRetries(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	opts, err := redis.ParseURL("redis://" + addr)
	if err != nil {
		t.Fatalf("parse URL: %v", err)
	}
	opts.ContextTimeoutEnabled = true
	s := redisstore.New(redis.NewClient(opts), redisstore.Options{Prefix: "ebtest-down"})
	defer s.Close()

	const clients, rounds = 32, 3
	errs := make([][]error, rounds)
	for r := range errs {
		errs[r] = make([]error, clients)
	}
	latencies := make([]time.Duration, clients*rounds)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for r := range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), notification.DefaultEnqueueTimeout)
				start := time.Now()
				errs[r][c] = s.Enqueue(ctx, []bridge.Change{change(fmt.Sprintf("c%d-r%d", c, r))}, nil)
				latencies[r*clients+c] = time.Since(start)
				cancel()
			}
		})
	}
	wg.Wait()

	// The summary is what docs/benchmarks.md quotes for outages.
	reachedDeadline := 0
	for _, roundErrs := range errs {
		for _, err := range roundErrs {
			if errors.Is(err, context.DeadlineExceeded) {
				reachedDeadline++
			}
		}
	}
	slices.Sort(latencies)
	t.Logf("%d of %d requests reached the deadline; latency median %v, max %v",
		reachedDeadline, len(latencies), latencies[len(latencies)/2], latencies[len(latencies)-1])

	for r, roundErrs := range errs {
		for c, err := range roundErrs {
			if err == nil {
				t.Fatalf("round %d, client %d: Enqueue with Redis down returned nil", r, c)
			}
			if r > 0 && errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("round %d, client %d: Enqueue with Redis down waited until its deadline: %v", r, c, err)
			}
		}
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

	heldResults := holdFlushers(t, ctx, s, hook)
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
	for _, done := range heldResults {
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
