package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// e2eMargin is what the end-to-end target allows on top of the debounce
// window.
const e2eMargin = 300 * time.Millisecond

// e2eDrainTimeout bounds the wait for the last PATCHes after the last
// change, on top of the debounce window.
const e2eDrainTimeout = 30 * time.Second

// e2eResult is one end-to-end run.
type e2eResult struct {
	debounce time.Duration
	changes  int
	// acks is the distribution of POST acknowledgements.
	acks loadResult
	// lag is the distribution from each POST to the first PATCH of its
	// user arriving at the fake SCIM. A user with no PATCH counts as
	// failed.
	lag distribution
	// rejected counts the 429 responses of the SCIM gate.
	rejected int
}

func (b *bench) endToEnd(ctx context.Context) (section, error) {
	var results []e2eResult
	for _, debounce := range []time.Duration{time.Second, 0} {
		r, err := b.runEndToEnd(ctx, debounce)
		if err != nil {
			return section{}, err
		}
		results = append(results, r)
	}
	return section{title: "End to end", body: e2eReport(b.opts, results)}, nil
}

// runEndToEnd renames one user per scheduled change and posts its
// notification at the same moment, then matches each POST with the first
// PATCH of that user at the fake SCIM.
func (b *bench) runEndToEnd(ctx context.Context, debounce time.Duration) (e2eResult, error) {
	o := b.opts
	f, err := startFakes(b.dir, o.e2eLatency, o.e2eSCIMRate)
	if err != nil {
		return e2eResult{}, err
	}
	defer f.close()
	n := max(int(o.e2eRate*o.e2eDuration.Seconds()), 1)
	ids := newObjectIDs(n)
	f.seed(ids)

	clientState := randomSecret()
	env := append(f.bridgeEnv(),
		"GRAPH_CLIENT_STATE="+clientState,
		fmt.Sprintf("WORKER_CONCURRENCY=%d", o.workerConcurrency),
		fmt.Sprintf("ATLASSIAN_SCIM_RATE=%g", o.e2eSCIMRate),
		fmt.Sprintf("GRAPH_RATE=%g", o.e2eGraphRate),
		"DEBOUNCE="+debounce.String())
	srv, err := b.startBridge(ctx, "e2e-debounce-"+debounce.String(), "receiver,worker", env...)
	if err != nil {
		return e2eResult{}, err
	}
	defer srv.stop()

	b.log.Info("end to end", "debounce", debounce, "changes", n, "rate", o.e2eRate)
	bodies := make([][]byte, n)
	for i, id := range ids {
		bodies[i] = notificationBody(clientState, []string{id}, firstSequenceNumber+uint64(i))
	}
	p := poster{client: newLoadClient(o.maxInFlight), url: srv.base + "/webhooks/graph", body: cycle(bodies)}
	// Each index is written by one request goroutine and read only after
	// openLoop has waited for all of them.
	sent := make([]time.Time, n)
	change := func(ctx context.Context, i int) int {
		f.rename(ids[i], 1)
		sent[i] = time.Now()
		return p.post(ctx, i)
	}
	acks := openLoop(ctx, change, o.e2eRate, o.e2eDuration, o.timeout, o.maxInFlight)

	waitFor(ctx, debounce+e2eDrainTimeout, func() bool { return countSynced(f.gate, ids) == n })
	arrivals := f.gate.patchArrivals()
	rec := newRecorder(n)
	for i, id := range ids {
		if len(arrivals[id]) == 0 || sent[i].IsZero() {
			rec.failure(0)
			continue
		}
		rec.success(arrivals[id][0].Sub(sent[i]))
	}
	return e2eResult{debounce: debounce, changes: n, acks: acks, lag: rec.summary(),
		rejected: f.gate.rejectedCount()}, ctx.Err()
}

func e2eReport(o options, results []e2eResult) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "One change per user, %g changes per second for %s: the user is renamed in fake Graph "+
		"and its notification posted at once. Latency runs from the POST to the first PATCH for that "+
		"user arriving at the fake SCIM; a user without a PATCH %s after the last change counts as "+
		"failed. Fake Graph and SCIM respond after %s. ATLASSIAN_SCIM_RATE=%g, GRAPH_RATE=%g and "+
		"WORKER_CONCURRENCY=%d.\n\n",
		o.e2eRate, o.e2eDuration, e2eDrainTimeout, o.e2eLatency, o.e2eSCIMRate, o.e2eGraphRate, o.workerConcurrency)

	t := table{header: []string{"DEBOUNCE", "Changes", "POSTs failed", "PATCHes missing", "p50", "p99", "max",
		"POST p99", "SCIM 429s"}}
	var targets []target
	for _, r := range results {
		maxLag := "–"
		if len(r.lag.sorted) > 0 {
			maxLag = formatMillis(r.lag.sorted[len(r.lag.sorted)-1])
		}
		t.add(r.debounce.String(), fmt.Sprint(r.changes), fmt.Sprint(r.acks.dist.failures), fmt.Sprint(r.lag.failures),
			r.lag.formatPercentile(0.50), r.lag.formatPercentile(0.99), maxLag, r.acks.dist.formatPercentile(0.99),
			fmt.Sprint(r.rejected))
		p99, ok := r.lag.percentile(0.99)
		goal := r.debounce + e2eMargin
		targets = append(targets, target{"p99 POST to PATCH, DEBOUNCE=" + r.debounce.String(),
			r.lag.formatPercentile(0.99), "≤ " + formatMillis(goal), ok && p99 <= goal})
	}
	sb.WriteString(t.markdown())
	sb.WriteString("\n" + targetTable(targets))
	return sb.String()
}
