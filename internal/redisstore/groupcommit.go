package redisstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Group commit of inbox writes.
//
// A webhook request becomes one XADD. At saturation most of the receiver's
// CPU time goes to the system calls of those round trips, on both ends of
// the socket, and in small deployments Redis shares the receiver's cores.
// groupCommitter sends the XADDs of concurrent requests in one pipeline.
// Each request still gets its own entry and its own reply, and Enqueue
// still returns only after Redis acknowledged that request's write. The
// writes that arrive while a pipeline is in flight share the next round
// trip, and a write that finds the flusher idle is sent at once. While
// Redis is slow or unreachable, writes go out as commands of their own
// instead (see stallAfter and degraded).
const (
	// groupCommitFlushers is how many pipelines may be in flight at once.
	// Redis runs commands one at a time, so a second pipeline gains little
	// and splits bursts into smaller pipelines. With two, the receiver
	// acknowledged about 10 % fewer single notifications per second at
	// saturation (docs/benchmarks.md).
	groupCommitFlushers = 1
	// maxGroupCommit bounds the writes of one pipeline. An entry contains
	// at most maxUsersPerEntry IDs of 36 or 37 bytes, so a full pipeline
	// stays under about 2.5 MB.
	maxGroupCommit = 64
	// groupCommitQueue is the capacity of the queue to the flushers. It
	// is an estimate above the requests a receiver has open at once, so
	// Enqueue rarely waits to join the queue.
	groupCommitQueue = 1024
	// stallAfter is how long every flusher may be busy with one round
	// trip before queued and new writes go out as commands of their own,
	// as they would without group commit. On loopback a pipeline of 64
	// writes takes well under a millisecond, so a round trip this long
	// means Redis is slow or unreachable. Without this limit, with Redis
	// down, every write queued behind a failing round trip waited until
	// its deadline.
	stallAfter = 50 * time.Millisecond
)

// errStoreClosed is returned by writes that reach a closed Store.
var errStoreClosed = errors.New("redisstore: store is closed")

// pendingWrite is one XADD waiting for a flusher, and the channel that
// receives its result.
type pendingWrite struct {
	ctx  context.Context
	args *redis.XAddArgs
	done chan error
}

// groupCommitter runs the flushers. They start with the first write, so a
// Store that never enqueues starts none.
type groupCommitter struct {
	rdb   redis.UniversalClient
	queue chan *pendingWrite
	start sync.Once
	stop  chan struct{}
	close sync.Once

	// busySince holds, per flusher, when its round trip in flight began
	// (Unix nanoseconds), or 0 while it is idle.
	busySince [groupCommitFlushers]atomic.Int64
	// degraded is set when a flusher's round trip failed without a reply
	// from Redis, and cleared by the next write that succeeds. While it is
	// set, writes run as commands of their own, so that concurrent
	// requests do not all join the next round trip to fail.
	degraded atomic.Bool
	// stallAfter is the constant stallAfter, except in tests.
	stallAfter time.Duration

	// writes and roundTrips count the writes sent and the commands or
	// pipelines that carried them.
	writes     atomic.Uint64
	roundTrips atomic.Uint64
}

// QueueWrites counts the writes of Enqueue that need one command, sent
// whether or not they succeeded, and the Redis round trips that carried
// them. A webhook request makes one such write, and so does a delta round
// of up to maxUsersPerEntry users. Writes divided by RoundTrips is the
// mean number of writes per round trip: a direct command is a round trip
// of one write.
type QueueWrites struct {
	Writes     uint64
	RoundTrips uint64
}

// QueueWrites returns the counts since the Store was created. Writes of
// several commands, which run in a MULTI/EXEC of their own, are not
// counted.
func (s *Store) QueueWrites() QueueWrites {
	return QueueWrites{Writes: s.commits.writes.Load(), RoundTrips: s.commits.roundTrips.Load()}
}

func newGroupCommitter(rdb redis.UniversalClient) *groupCommitter {
	return &groupCommitter{
		rdb:        rdb,
		queue:      make(chan *pendingWrite, groupCommitQueue),
		stop:       make(chan struct{}),
		stallAfter: stallAfter,
	}
}

// xadd runs args as one command of a shared pipeline and returns its
// result. When ctx ends first, xadd returns ctx's error although the write
// may still be stored, as with a timeout of a direct command. A write is
// never sent after its deadline. A write canceled before a round trip
// takes it is dropped, but one canceled during it may still be stored:
// a pipeline does not end for one request that went away.
func (g *groupCommitter) xadd(ctx context.Context, args *redis.XAddArgs) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.start.Do(func() {
		for i := range groupCommitFlushers {
			go g.flushLoop(&g.busySince[i])
		}
	})
	if g.degraded.Load() || g.stalled() {
		return g.direct(ctx, args)
	}

	w := &pendingWrite{ctx: ctx, args: args, done: make(chan error, 1)}
	select {
	case g.queue <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errStoreClosed
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errStoreClosed
	}
}

// shutdown stops the flushers. Writes still queued get errStoreClosed from
// xadd.
func (g *groupCommitter) shutdown() {
	g.close.Do(func() { close(g.stop) })
}

// direct sends args as a command of its own, as Enqueue did before group
// commit, for a write that would otherwise wait behind a stalled or
// failing flusher. It leaves degraded mode when the write succeeds. With
// Redis down, such commands failed within about 1 s, where writes queued
// behind failing round trips waited until their deadlines.
func (g *groupCommitter) direct(ctx context.Context, args *redis.XAddArgs) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.writes.Add(1)
	g.roundTrips.Add(1)
	err := g.rdb.XAdd(ctx, args).Err()
	if err == nil {
		g.degraded.Store(false)
	}
	return err
}

// sendAlone sends a queued write as a command of its own, in a goroutine
// of its own, so that the queued writes go out concurrently.
func (g *groupCommitter) sendAlone(w *pendingWrite) {
	go func() { w.done <- g.direct(w.ctx, w.args) }()
}

// noteRoundTrip records the outcome of a flusher's round trip: a failure
// without a reply from Redis (refused, reset, timed out) switches to
// direct commands, and a success switches back.
func (g *groupCommitter) noteRoundTrip(err error) {
	var reply redis.Error
	switch {
	case err == nil:
		g.degraded.Store(false)
	case !errors.As(err, &reply):
		g.degraded.Store(true)
	}
}

// stalled reports whether every flusher has been busy with one round trip
// for longer than stallAfter.
func (g *groupCommitter) stalled() bool {
	for i := range g.busySince {
		since := g.busySince[i].Load()
		if since == 0 || time.Since(time.Unix(0, since)) < g.stallAfter {
			return false
		}
	}
	return true
}

// drainWhileStalled sends every queued write as a command of its own, and
// keeps doing so while the flushers stay stalled, so that writes queued
// just before a round trip stalled do not wait for it to end. A
// flusher's watchdog timer calls it once the flusher has been busy for
// stallAfter.
func (g *groupCommitter) drainWhileStalled() {
	for g.stalled() {
		for drained := false; !drained; {
			select {
			case w := <-g.queue:
				g.sendAlone(w)
			default:
				drained = true
			}
		}
		time.Sleep(g.stallAfter)
	}
}

// flushLoop takes the first waiting write and every other write queued
// behind it, up to maxGroupCommit, and sends them in one pipeline. It
// records in busySince when each round trip began.
func (g *groupCommitter) flushLoop(busySince *atomic.Int64) {
	batch := make([]*pendingWrite, 0, maxGroupCommit)
	watchdog := time.AfterFunc(time.Hour, g.drainWhileStalled)
	watchdog.Stop()
	for {
		select {
		case w := <-g.queue:
			batch = append(batch[:0], w)
		case <-g.stop:
			return
		}
	fill:
		for len(batch) < maxGroupCommit {
			select {
			case w := <-g.queue:
				batch = append(batch, w)
			default:
				break fill
			}
		}
		busySince.Store(time.Now().UnixNano())
		watchdog.Reset(g.stallAfter)
		g.flush(batch)
		watchdog.Stop()
		busySince.Store(0)
		clear(batch)
	}
}

// flush sends the writes whose contexts are still live and delivers each
// command's own result to its writer.
func (g *groupCommitter) flush(batch []*pendingWrite) {
	live := make([]*pendingWrite, 0, len(batch))
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.done <- err
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	if g.degraded.Load() {
		// These writes were queued before the last round trip failed.
		for _, w := range live {
			g.sendAlone(w)
		}
		return
	}
	g.writes.Add(uint64(len(live)))
	g.roundTrips.Add(1)
	if len(live) == 1 {
		err := g.rdb.XAdd(live[0].ctx, live[0].args).Err()
		g.noteRoundTrip(err)
		live[0].done <- err
		return
	}

	ctx, cancel := batchContext(live)
	defer cancel()
	pipe := g.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(live))
	for i, w := range live {
		cmds[i] = pipe.XAdd(ctx, w.args)
	}
	// Exec's error is also set on every command it concerns, so each
	// writer gets the error of its own command.
	_, err := pipe.Exec(ctx)
	g.noteRoundTrip(err)
	for i, w := range live {
		w.done <- cmds[i].Err()
	}
}

// batchContext returns the context for a pipeline of writes. It ends at
// the earliest of their deadlines, so that go-redis never sends or resends
// a write after its request gave up. A write whose request had time left
// then fails a little early, which only happens when the round trip took
// about the whole enqueue timeout. Without any deadline it has none.
func batchContext(writes []*pendingWrite) (context.Context, context.CancelFunc) {
	var earliest time.Time
	for _, w := range writes {
		if d, ok := w.ctx.Deadline(); ok && (earliest.IsZero() || d.Before(earliest)) {
			earliest = d
		}
	}
	if earliest.IsZero() {
		return context.Background(), func() {}
	}
	return context.WithDeadline(context.Background(), earliest)
}
