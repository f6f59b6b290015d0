package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// graphCounts are the requests the fake Graph received, by kind.
type graphCounts struct {
	total, userGets, batches, batchItems, delta, throttled int
}

func countGraph(fk *fakes) graphCounts {
	delta := fk.Graph.Requests("/v1.0/users/delta")
	return graphCounts{
		total:      fk.Graph.TotalRequests(),
		userGets:   fk.Graph.Requests("/v1.0/users/") - delta,
		batches:    fk.Graph.Requests("/v1.0/$batch"),
		batchItems: fk.Graph.BatchItems("/v1.0/users/"),
		delta:      delta,
		throttled:  fk.Graph.Throttled(),
	}
}

func (c graphCounts) minus(o graphCounts) graphCounts {
	return graphCounts{
		total: c.total - o.total, userGets: c.userGets - o.userGets, batches: c.batches - o.batches,
		batchItems: c.batchItems - o.batchItems, delta: c.delta - o.delta, throttled: c.throttled - o.throttled,
	}
}

// result is the measurements of one run.
type result struct {
	notifications int
	posts         int64
	postRetries   int64
	graph         graphCounts
	patches       int
	scimRequests  int
	renamed       int
	// renameLag is the time from the last accepted notification until
	// every rename was in SCIM, or 0 when they were there before it.
	renameLag    time.Duration
	memoryBefore int64
	memoryAfter  int64
	// burstKeys and drainedKeys are the run's own keys right after the
	// burst was accepted and after the queue drained.
	burstKeys   keyMemory
	drainedKeys keyMemory
}

func (r result) print(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	rows := [][2]string{
		{"notifications", fmt.Sprintf("%d in %d POSTs (%d retried)", r.notifications, r.posts, r.postRetries)},
		{"graph calls", fmt.Sprint(r.graph.total)},
		{"  user GET", fmt.Sprint(r.graph.userGets)},
		{"  $batch", fmt.Sprintf("%d (%d user reads inside)", r.graph.batches, r.graph.batchItems)},
		{"  users delta", fmt.Sprint(r.graph.delta)},
		{"  throttled (429)", fmt.Sprint(r.graph.throttled)},
		{"notifications per graph call", fmt.Sprintf("%.0f", float64(r.notifications)/float64(max(r.graph.total, 1)))},
		{"scim PATCH", fmt.Sprintf("%d of %d SCIM requests", r.patches, r.scimRequests)},
		{"last notification to all renames", r.renameLag.Round(time.Millisecond).String()},
		{"redis used_memory (server-wide)", fmt.Sprintf("%.1f MiB before, %.1f MiB after",
			float64(r.memoryBefore)/(1<<20), float64(r.memoryAfter)/(1<<20))},
		{"redis keys of this run after the burst", r.burstKeys.String()},
		{"redis keys of this run after draining", r.drainedKeys.String()},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%s\t%s\n", row[0], row[1])
	}
	w.Flush()
}

// verdict prints every missed target and returns errTargetMissed if
// there was one.
func (r result) verdict(out io.Writer) error {
	var missed []string
	if limit := r.notifications / notificationsPerGraphCall; r.graph.total > limit {
		missed = append(missed, fmt.Sprintf("%d Graph calls, want at most %d (one per %d notifications)",
			r.graph.total, limit, notificationsPerGraphCall))
	}
	if r.patches != r.renamed {
		missed = append(missed, fmt.Sprintf("%d PATCHes, want exactly %d", r.patches, r.renamed))
	}
	if r.renameLag > renameDeadline {
		missed = append(missed, fmt.Sprintf("renames took %s after the last notification, want at most %s",
			r.renameLag.Round(time.Millisecond), renameDeadline))
	}
	for _, m := range missed {
		fmt.Fprintln(out, "MISSED:", m)
	}
	if len(missed) > 0 {
		return errTargetMissed
	}
	fmt.Fprintln(out, "all targets met")
	return nil
}

func (m keyMemory) String() string {
	return fmt.Sprintf("%d keys, %.1f MiB (MEMORY USAGE)", m.keys, float64(m.bytes)/(1<<20))
}
