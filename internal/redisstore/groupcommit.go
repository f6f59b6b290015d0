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
// trip, and a write that finds the flusher idle is sent at once.
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

	// writes and roundTrips count the writes sent and the commands or
	// pipelines that carried them.
	writes     atomic.Uint64
	roundTrips atomic.Uint64
}

// QueueWrites counts the writes of Enqueue that need one command, which
// go through the shared pipeline, and the Redis round trips that carried
// them. A webhook request makes one such write, and so does a delta round
// of up to maxUsersPerEntry users. Writes divided by RoundTrips is the
// mean number of writes per pipeline.
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
		rdb:   rdb,
		queue: make(chan *pendingWrite, groupCommitQueue),
		stop:  make(chan struct{}),
	}
}

// xadd runs args as one command of a shared pipeline and returns its
// result. When ctx ends first, xadd returns ctx's error although the write
// may still be stored, as with a timeout of a direct command. A write
// whose ctx ended before a flusher took it is never sent.
func (g *groupCommitter) xadd(ctx context.Context, args *redis.XAddArgs) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.start.Do(func() {
		for range groupCommitFlushers {
			go g.flushLoop()
		}
	})

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

// flushLoop takes the first waiting write and every other write queued
// behind it, up to maxGroupCommit, and sends them in one pipeline.
func (g *groupCommitter) flushLoop() {
	batch := make([]*pendingWrite, 0, maxGroupCommit)
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
		g.flush(batch)
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
	g.writes.Add(uint64(len(live)))
	g.roundTrips.Add(1)
	if len(live) == 1 {
		live[0].done <- g.rdb.XAdd(live[0].ctx, live[0].args).Err()
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
	_, _ = pipe.Exec(ctx)
	for i, w := range live {
		w.done <- cmds[i].Err()
	}
}

// batchContext returns the context for a pipeline of writes. It ends at
// the latest of their deadlines, so that no write is cut short by another
// write's deadline, and it has no deadline when any write has none.
func batchContext(writes []*pendingWrite) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, w := range writes {
		d, ok := w.ctx.Deadline()
		if !ok {
			return context.Background(), func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}
