package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// Shape of the burst step: burstCopies POSTs, burstSpacing apart, each
// naming all burstUsers, as Graph sends one notification per changed
// property.
const (
	burstUsers   = 20
	burstCopies  = 5
	burstSpacing = 100 * time.Millisecond
)

// maxWorkerUsers caps the backlog the throughput step creates.
const maxWorkerUsers = 20000

// burstResult counts what one burst of duplicate notifications caused.
type burstResult struct {
	notifications int
	users         int
	patches       int
	// synced counts the users whose PATCH arrived before the wait ended.
	synced int
	// rejected counts the 429 responses during the step.
	rejected int
	// start and end bound the step, for the gate's counts.
	start, end time.Time
}

// throughputResult is the gate's count while the worker drained a
// backlog.
type throughputResult struct {
	start, end time.Time
	counts     gateCounts
	backlog    int
	// drained is set when every user was synced before the window ended,
	// so that the worker idled and the rates understate it.
	drained bool
}

func (b *bench) worker(ctx context.Context) (section, error) {
	o := b.opts
	f, err := startFakes(b.dir, o.latency, o.scimRate)
	if err != nil {
		return section{}, err
	}
	defer f.close()
	burstIDs := newObjectIDs(burstUsers)
	backlogIDs := newObjectIDs(backlogSize(o))
	f.seed(burstIDs)
	f.seed(backlogIDs)

	clientState := randomSecret()
	env := append(f.bridgeEnv(),
		"GRAPH_CLIENT_STATE="+clientState,
		fmt.Sprintf("WORKER_CONCURRENCY=%d", o.workerConcurrency),
		fmt.Sprintf("ATLASSIAN_SCIM_RATE=%g", o.scimRate),
		fmt.Sprintf("GRAPH_RATE=%g", o.graphRate),
		"DEBOUNCE="+o.debounce.String())
	srv, err := b.startBridge(ctx, "worker", "receiver,worker", env...)
	if err != nil {
		return section{}, err
	}
	defer srv.stop()

	post := poster{client: newLoadClient(4), url: srv.base + "/webhooks/graph"}
	burst, err := b.measureBurst(ctx, post, f, clientState, burstIDs)
	if err != nil {
		return section{}, err
	}
	tp, err := b.measureThroughput(ctx, post, f, clientState, backlogIDs)
	if err != nil {
		return section{}, err
	}
	timeline := f.gate.timeline(burst.start, tp.end)
	rejected := f.gate.counts(burst.start, tp.end.Add(time.Nanosecond)).rejected
	return section{title: "Worker", body: workerReport(o, burst, tp, timeline, rejected)}, nil
}

// backlogSize returns how many users to queue so that the worker stays
// busy through the whole window: half again what it should sync.
func backlogSize(o options) int {
	perSecond := 1000.0
	switch {
	case o.scimRate > 0:
		// A user's first sync makes two SCIM requests: the externalId
		// lookup and the PATCH.
		perSecond = o.scimRate / 2
	case o.latency > 0:
		perSecond = float64(o.workerConcurrency) / (3 * o.latency.Seconds())
	}
	n := int(math.Ceil(perSecond*o.duration.Seconds()*1.5)) + 50
	return min(n, maxWorkerUsers)
}

// measureBurst renames burstUsers users, sends burstCopies notifications
// for each, and counts the PATCHes that follow.
func (b *bench) measureBurst(ctx context.Context, p poster, f *fakes, clientState string, ids []string) (burstResult, error) {
	b.log.Info("worker: burst of duplicate notifications", "users", len(ids), "copies", burstCopies)
	start := time.Now()
	for _, id := range ids {
		f.rename(id, 1)
	}
	body := notificationBody(clientState, ids, firstSequenceNumber)
	p.body = func(int) []byte { return body }
	for i := range burstCopies {
		if status := p.post(ctx, i); !isAck(status) {
			return burstResult{}, fmt.Errorf("burst notification %d: got %s, want 202 Accepted", i, statusText(status))
		}
		sleepContext(ctx, burstSpacing)
	}

	// Wait for every user's PATCH, then one more debounce window and a
	// margin, so that a second PATCH for any user would be counted.
	synced := waitFor(ctx, b.opts.debounce+time.Minute, func() bool { return countSynced(f.gate, ids) == len(ids) })
	sleepContext(ctx, b.opts.debounce+2*time.Second)
	arrivals := f.gate.patchArrivals()
	res := burstResult{notifications: burstCopies * len(ids), users: len(ids), start: start, end: time.Now()}
	for _, id := range ids {
		res.patches += len(arrivals[id])
	}
	res.synced = countSynced(f.gate, ids)
	res.rejected = f.gate.counts(res.start, res.end).rejected
	if !synced {
		b.log.Warn("worker: not every burst user was synced in time", "synced", res.synced, "users", len(ids))
	}
	return res, nil
}

func countSynced(g *scimGate, ids []string) int {
	arrivals := g.patchArrivals()
	n := 0
	for _, id := range ids {
		if len(arrivals[id]) > 0 {
			n++
		}
	}
	return n
}

// measureThroughput renames every user, queues a notification for each,
// and counts at the gate for one -duration while the worker drains them.
func (b *bench) measureThroughput(ctx context.Context, p poster, f *fakes, clientState string, ids []string) (throughputResult, error) {
	b.log.Info("worker: throughput", "backlog", len(ids), "window", b.opts.duration)
	for _, id := range ids {
		f.rename(id, 1)
	}
	bodies := bodyPool(clientState, ids, b.opts.batchSize, int(math.Ceil(float64(len(ids))/float64(b.opts.batchSize))))
	p.body = cycle(bodies)
	for i := range bodies {
		if status := p.post(ctx, i); !isAck(status) {
			return throughputResult{}, fmt.Errorf("queue backlog request %d: got %s, want 202 Accepted", i, statusText(status))
		}
	}

	// The first syncs start once the debounce window has passed.
	sleepContext(ctx, b.opts.debounce)
	start := time.Now()
	sleepContext(ctx, b.opts.duration)
	end := time.Now()
	return throughputResult{
		start:   start,
		end:     end,
		counts:  f.gate.counts(start, end),
		backlog: len(ids),
		drained: countSynced(f.gate, ids) == len(ids),
	}, ctx.Err()
}

// waitFor polls cond until it holds or timeout passes, and reports
// whether it held.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if cond() {
			return true
		}
		sleepContext(ctx, 50*time.Millisecond)
	}
	return cond()
}

func workerReport(o options, burst burstResult, tp throughputResult, timeline []secondCount, rejected int) string {
	var sb strings.Builder
	limit := "none"
	if o.scimRate > 0 {
		limit = fmt.Sprintf("%g requests per wall-clock second, 429 with Retry-After: 1 above it", o.scimRate)
	}
	fmt.Fprintf(&sb, "entrabridge `serve --roles receiver,worker` with WORKER_CONCURRENCY=%d, "+
		"ATLASSIAN_SCIM_RATE=%g, GRAPH_RATE=%g and DEBOUNCE=%s. Fake Graph and SCIM respond after %s. "+
		"Limit enforced at the fake SCIM: %s.\n\n", o.workerConcurrency, o.scimRate, o.graphRate, o.debounce, o.latency, limit)

	seconds := tp.end.Sub(tp.start).Seconds()
	scimRate := float64(tp.counts.requests) / seconds
	t := table{header: []string{"Measure", "Value"}}
	t.add("Burst: notifications, users, PATCHes", fmt.Sprintf("%d, %d, %d", burst.notifications, burst.users, burst.patches))
	t.add("Burst: PATCHes per notification", fmt.Sprintf("%.2f", float64(burst.patches)/float64(burst.notifications)))
	t.add("Burst: PATCHes per changed user", fmt.Sprintf("%.2f", float64(burst.patches)/float64(burst.users)))
	t.add("Backlog queued", fmt.Sprintf("%d users, one notification each, in batches of %d", tp.backlog, o.batchSize))
	t.add("Window", fmt.Sprintf("%.1f s, from one debounce after queueing", seconds))
	t.add("Users synced per second (PATCHes at the fake)", fmt.Sprintf("%.1f", float64(tp.counts.patches)/seconds))
	t.add("SCIM requests per second at the fake", fmt.Sprintf("%.1f", scimRate))
	t.add("Most SCIM requests in one wall-clock second", fmt.Sprint(tp.counts.maxPerSecond))
	t.add("429 responses: burst step, throughput window, whole phase",
		fmt.Sprintf("%d, %d, %d", burst.rejected, tp.counts.rejected, rejected))
	sb.WriteString(t.markdown())
	if tp.drained {
		sb.WriteString("\nThe backlog ran out before the window ended, so the rates understate the worker.\n")
	}
	sb.WriteString("\nSCIM requests per wall-clock second at the fake, admitted+rejected, from the first burst " +
		"notification to the end of the window: " + formatTimeline(timeline) + "\n")

	var targets []target
	if o.scimRate > 0 {
		deviation := (scimRate - o.scimRate) / o.scimRate
		targets = append(targets, target{"SCIM request rate vs ATLASSIAN_SCIM_RATE",
			fmt.Sprintf("%+.1f %%", 100*deviation), "within ±5 %", math.Abs(deviation) <= 0.05})
	}
	targets = append(targets,
		target{"429 caused", fmt.Sprint(rejected), "0", rejected == 0},
		target{"PATCHes per changed user in a burst", fmt.Sprintf("%.2f", float64(burst.patches)/float64(burst.users)),
			"1", burst.patches == burst.users && burst.synced == burst.users})
	sb.WriteString("\n" + targetTable(targets))
	return sb.String()
}

func formatTimeline(seconds []secondCount) string {
	parts := make([]string, len(seconds))
	for i, s := range seconds {
		parts[i] = fmt.Sprintf("%d+%d", s.admitted, s.rejected)
	}
	return strings.Join(parts, ", ")
}

// statusText names an HTTP status for messages.
func statusText(status int) string {
	if status == 0 {
		return "no response"
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}
