package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Parameters of the memory phase.
const (
	memoryRate     = 2000
	memoryIdleWait = 3 * time.Second
	memorySample   = 100 * time.Millisecond
	// memoryTarget is the largest acceptable RSS at memoryRate: 80 MB in
	// decimal units, which is 76.3 MiB, the stricter reading of "80 MB".
	memoryTarget = 80_000_000
)

// memoryResult is the receiver's resident memory idle and under load.
type memoryResult struct {
	idle   int64
	peak   int64
	final  int64
	load   loadResult
	errors []error
}

// memory measures VmRSS of `entrabridge serve --roles receiver` after it
// idled, and while it receives single notifications at memoryRate.
func (b *bench) memory(ctx context.Context) (section, error) {
	clientState := randomSecret()
	srv, err := b.startBridge(ctx, "memory-receiver", "receiver", "GRAPH_CLIENT_STATE="+clientState)
	if err != nil {
		return section{}, err
	}
	defer srv.stop()

	sleepContext(ctx, memoryIdleWait)
	var res memoryResult
	if res.idle, err = residentBytes(srv.pid()); err != nil {
		return section{}, err
	}

	b.log.Info("memory: load", "rate", memoryRate)
	bodies := bodyPool(clientState, newObjectIDs(ingestUsers), 1, ingestUsers)
	p := poster{client: newLoadClient(b.opts.maxInFlight), url: srv.base + "/webhooks/graph", body: cycle(bodies)}
	stop := make(chan struct{})
	var sampled sync.WaitGroup
	sampled.Go(func() { res.peak, res.errors = samplePeak(srv.pid(), stop) })
	res.load = openLoop(ctx, p.post, memoryRate, b.opts.duration, b.opts.timeout, b.opts.maxInFlight)
	close(stop)
	sampled.Wait()
	if res.final, err = residentBytes(srv.pid()); err != nil {
		return section{}, err
	}
	return section{title: "Memory", body: memoryReport(b.opts, res)}, nil
}

// samplePeak reads VmRSS of pid every memorySample until stop closes and
// returns the largest value.
func samplePeak(pid int, stop <-chan struct{}) (int64, []error) {
	tick := time.NewTicker(memorySample)
	defer tick.Stop()
	var peak int64
	var errs []error
	for {
		select {
		case <-stop:
			return peak, errs
		case <-tick.C:
		}
		rss, err := residentBytes(pid)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		peak = max(peak, rss)
	}
}

func memoryReport(o options, r memoryResult) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "VmRSS of `entrabridge serve --roles receiver` from /proc/<pid>/status: after "+
		"%s idle, then sampled every %s while it received single notifications at %d req/s for %s "+
		"(%s acknowledged, p99 %s, %d failed).\n\n",
		memoryIdleWait, memorySample, memoryRate, o.duration, formatRate(r.load.throughput()),
		r.load.dist.formatPercentile(0.99), r.load.dist.failures)
	t := table{header: []string{"Idle", "Peak under load", "After load"}}
	t.add(formatMiB(r.idle), formatMiB(r.peak), formatMiB(r.final))
	sb.WriteString(t.markdown())
	if len(r.errors) > 0 {
		fmt.Fprintf(&sb, "\n%d samples failed; the first error: %v\n", len(r.errors), r.errors[0])
	}
	sb.WriteString("\n" + targetTable([]target{{
		"RSS at 2,000 req/s", formatMiB(r.peak), "≤ " + formatMiB(memoryTarget), r.peak <= memoryTarget,
	}}))
	return sb.String()
}
