package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// bridgeCount is how many entrabridge processes share the queue.
const bridgeCount = 2

// run sets up Redis, the fakes and the bridge processes, runs the load and
// the faults, drains the queue and prints the report. It returns
// errVerdict when the report shows lost users or overlapping PATCHes.
func run(ctx context.Context, o options, out io.Writer) (err error) {
	dir, err := os.MkdirTemp("", "entrabridge-chaos")
	if err != nil {
		return fmt.Errorf("create work folder: %w", err)
	}
	keep := o.keep
	defer func() {
		if keep || err != nil {
			fmt.Fprintf(out, "logs kept in %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}()

	binary := o.binary
	if binary == "" {
		fmt.Fprintln(out, "building entrabridge...")
		if binary, err = buildBinary(ctx, dir); err != nil {
			return err
		}
	}
	redis, err := openRedis(ctx, dir, out)
	if err != nil {
		return err
	}
	defer redis.close()
	fk, err := startFakes(dir, o.users)
	if err != nil {
		return err
	}
	defer fk.close()
	fk.SCIM.SetLatency(o.scimLatency)

	prefix := "chaos-" + randomHex(6)
	store, err := redisstore.Open(ctx, redis.url, redisstore.Options{Prefix: prefix})
	if err != nil {
		return fmt.Errorf("open redis store: %w", err)
	}
	defer store.Close()
	if !redis.owned() {
		defer purge(store, out)
	}

	bridges, err := startBridges(ctx, binary, dir, bridgeEnv(fk, redis.url, prefix, o))
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			stopBridges(bridges)
		}
	}()

	rep, err := exercise(ctx, o, out, fk, redis, bridges, store)
	if err != nil {
		return err
	}
	rep.uncleanStops = stopBridges(bridges)
	stopped = true
	rep.print(out)
	if rep.failed() {
		keep = true
		return fmt.Errorf("%w: %d users lost, %d overlapping PATCHes", errVerdict, rep.lost, rep.overlaps)
	}
	return nil
}

// exercise runs the load with the faults for o.duration, waits for the
// notifications still being retried and for the queue to drain, and
// collects the report.
func exercise(ctx context.Context, o options, out io.Writer, fk *fakes, redis *redisHandle,
	bridges []*bridgeProcess, store *redisstore.Store) (report, error) {
	start := time.Now()
	events := &eventLog{out: out, start: start}
	bases := make([]string, len(bridges))
	for i, b := range bridges {
		bases[i] = b.base
	}
	ld := newLoad(fk, bases, o.rate)

	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	loadCtx, stopLoad := context.WithTimeout(ctx, o.duration)
	defer stopLoad()
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		runFaults(ctx, loadCtx, o.duration, events, schedule(fk, bridges, redis, o.duration))
	}()
	events.printf("load: %d users, %.0f renames per second, for %s", o.users, o.rate, o.duration)
	ld.run(loadCtx, sendCtx, events)
	<-faultsDone
	if err := ctx.Err(); err != nil {
		return report{}, fmt.Errorf("interrupted: %w", err)
	}

	drainCtx, cancelDrain := context.WithTimeout(ctx, o.drainTimeout)
	defer cancelDrain()
	events.printf("load stopped; waiting for notifications still being retried")
	if !ld.waitSenders(drainCtx) {
		events.printf("some notifications were still not accepted when the drain timeout ended")
	}
	stopSending()
	drained := drain(drainCtx, store, fk, events)
	return collect(ctx, ld, fk, store, bridges, drained)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// purge deletes every key of the run's prefix in a shared Redis.
func purge(store *redisstore.Store, out io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := store.Purge(ctx); err != nil {
		fmt.Fprintf(out, "deleting the run's Redis keys failed: %v\n", err)
	}
}

// eventLog prints timestamped progress lines, relative to the start of the
// load.
// The load, the faults and the drain print from their own goroutines.
type eventLog struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
}

func (e *eventLog) printf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.out, "%6.1fs  %s\n", time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
}
