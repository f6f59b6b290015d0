package main

import (
	"context"
	"net/http"
	"time"
)

// fault is one scheduled disturbance. apply returns once the system is
// back to normal (the window closed, the process restarted).
type fault struct {
	// at is when the fault begins, as a fraction of the load's duration.
	at    float64
	name  string
	apply func(ctx context.Context, events *eventLog)
}

// schedule returns the faults in the order they begin. The SCIM 503 window
// lasts a tenth of the duration.
func schedule(fk *fakes, bridges []*bridgeProcess, redis *redisHandle, duration time.Duration) []fault {
	window := duration / 10
	return []fault{
		{at: 0.15, name: "SCIM 503 window", apply: func(ctx context.Context, events *eventLog) {
			fk.gate.failing.Store(true)
			sleep(ctx, window)
			fk.gate.failing.Store(false)
			events.printf("fault: SCIM 503 window closed after %s, %d requests rejected",
				window, fk.gate.rejected.Load())
		}},
		{at: 0.35, name: "SCIM 429 with Retry-After: 3 (3 responses)", apply: func(context.Context, *eventLog) {
			fk.SCIM.FailNext(3, http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}}, nil)
		}},
		{at: 0.50, name: "SIGKILL " + bridges[0].name, apply: func(ctx context.Context, events *eventLog) {
			bridges[0].kill()
			sleep(ctx, 2*time.Second)
			if err := bridges[0].start(ctx); err != nil {
				events.printf("fault: restarting %s failed: %v", bridges[0].name, err)
				return
			}
			events.printf("fault: %s restarted", bridges[0].name)
		}},
		redisRestart(redis),
	}
}

// redisRestart kills redis-server at 70 % and starts it again 3 s later on
// the same files. A shared Redis is never killed.
func redisRestart(redis *redisHandle) fault {
	if !redis.owned() {
		return fault{at: 0.70, name: "SIGKILL redis-server skipped: the shared Redis must not be killed",
			apply: func(context.Context, *eventLog) {}}
	}
	return fault{at: 0.70, name: "SIGKILL redis-server", apply: func(ctx context.Context, events *eventLog) {
		redis.server.kill()
		sleep(ctx, 3*time.Second)
		if err := redis.server.start(ctx); err != nil {
			events.printf("fault: restarting redis-server failed: %v", err)
			return
		}
		events.printf("fault: redis-server restarted from its append-only file")
	}}
}

// runFaults applies each fault when its time comes. A fault whose time is
// after the end of loadCtx is skipped. A fault that has begun runs to its
// end on ctx, so nothing stays broken.
func runFaults(ctx, loadCtx context.Context, duration time.Duration, events *eventLog, faults []fault) {
	start := time.Now()
	for _, f := range faults {
		at := start.Add(time.Duration(f.at * float64(duration)))
		select {
		case <-loadCtx.Done():
			events.printf("fault skipped, because the load ended: %s", f.name)
			continue
		case <-time.After(time.Until(at)):
		}
		events.printf("fault: %s", f.name)
		f.apply(ctx, events)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
