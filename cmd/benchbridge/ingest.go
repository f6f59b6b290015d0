package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ingestUsers is how many distinct users the ingest bodies name. Each one
// exists in the fakes, so that the inline baseline finds it.
const ingestUsers = 1000

// Quiet detection between load steps: a server counts as quiet once it
// used less than quietCores of CPU over one quietInterval, so that requests
// left over from an overloaded step do not land in the next one.
const (
	quietInterval = 500 * time.Millisecond
	quietCores    = 0.1
	quietTimeout  = 60 * time.Second
)

// Names of the servers compared in the ingest phase.
const (
	variantBridge = "entrabridge"
	variantBare   = "bare XADD"
	variantInline = "inline sync"
)

// ingestStep is the result of one load step against one server.
type ingestStep struct {
	variant string
	kind    string // "single" or "batch of N"
	mode    string // offered rate or saturation
	offered float64
	result  loadResult
	cores   float64
}

// bodyKind is a named pool of request bodies: single notifications or
// batches.
type bodyKind struct {
	name   string
	bodies [][]byte
}

func (b *bench) ingest(ctx context.Context) (section, error) {
	f, err := startFakes(b.dir, b.opts.latency, 0)
	if err != nil {
		return section{}, err
	}
	defer f.close()
	ids := newObjectIDs(ingestUsers)
	f.seed(ids)

	clientState := randomSecret()
	kinds := []bodyKind{
		{"single", bodyPool(clientState, ids, 1, ingestUsers)},
		{fmt.Sprintf("batch of %d", b.opts.batchSize), bodyPool(clientState, ids, b.opts.batchSize, 200)},
	}

	// entrabridge and the bare handler keep running after their steps,
	// for the paired rounds at the end.
	running := map[string]*serverProcess{}
	defer func() {
		for _, srv := range running {
			srv.stop()
		}
	}()
	var steps []ingestStep
	for _, variant := range []string{variantBridge, variantBare, variantInline} {
		srv, err := b.startIngestServer(ctx, variant, clientState, f)
		if err != nil {
			return section{}, err
		}
		running[variant] = srv
		for _, kind := range kinds {
			p := poster{url: srv.base + "/webhooks/graph", body: cycle(kind.bodies)}
			steps = append(steps, b.ingestSteps(ctx, srv, variant, kind.name, p)...)
		}
		if ctx.Err() != nil {
			return section{}, ctx.Err()
		}
	}
	running[variantInline].stop()
	delete(running, variantInline)

	rounds := b.pairedRounds(ctx, running[variantBridge], running[variantBare], kinds)
	if ctx.Err() != nil {
		return section{}, ctx.Err()
	}
	return section{title: "Ingest", body: ingestReport(b.opts, steps, rounds)}, nil
}

func (b *bench) startIngestServer(ctx context.Context, variant, clientState string, f *fakes) (*serverProcess, error) {
	switch variant {
	case variantBridge:
		return b.startBridge(ctx, "ingest-receiver", "receiver", "GRAPH_CLIENT_STATE="+clientState)
	case variantBare:
		return b.startBaseline(ctx, "ingest-bare", modeServeBare,
			envStream+"="+streamKey(b.keys.prefix("bare")))
	}
	extra := append(f.inlineEnv(), envClientState+"="+clientState)
	return b.startBaseline(ctx, "ingest-inline", modeServeInline, extra...)
}

// ingestSteps runs the saturation step, then every offered rate, against
// one server with one kind of body. Saturation comes first, so that it
// measures a server that no overload step has left with a backlog.
func (b *bench) ingestSteps(ctx context.Context, srv *serverProcess, variant, kind string, p poster) []ingestStep {
	b.log.Info("ingest step", "server", variant, "body", kind, "clients", b.opts.clients)
	p.client = newLoadClient(b.opts.clients)
	meter := startCPUMeter(srv.pid())
	res := closedLoop(ctx, p.post, b.opts.clients, b.opts.duration, b.opts.timeout)
	steps := []ingestStep{{variant: variant, kind: kind, mode: saturationMode(b.opts.clients),
		result: res, cores: meter.cores()}}
	p.client.CloseIdleConnections()
	b.waitQuiet(ctx, srv)

	for _, rate := range b.opts.rates {
		b.log.Info("ingest step", "server", variant, "body", kind, "rate", rate)
		p.client = newLoadClient(b.opts.maxInFlight)
		meter := startCPUMeter(srv.pid())
		res := openLoop(ctx, p.post, rate, b.opts.duration, b.opts.timeout, b.opts.maxInFlight)
		steps = append(steps, ingestStep{variant: variant, kind: kind, mode: formatRate(rate),
			offered: rate, result: res, cores: meter.cores()})
		p.client.CloseIdleConnections()
		b.waitQuiet(ctx, srv)
	}
	return steps
}

func saturationMode(clients int) string {
	return fmt.Sprintf("saturation, %d clients", clients)
}

func ingestReport(o options, steps []ingestStep, rounds []pairedRound) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Each step lasts %s. Offered rates are open-loop: latency runs from each request's "+
		"scheduled time. Saturation is closed-loop. A request without a response after %s, or with "+
		"a status other than 2xx, counts as failed and as slower than every success. "+
		"The inline baseline's fake Graph and SCIM respond after %s.\n\n", o.duration, o.timeout, o.latency)

	t := table{header: []string{"Server", "Body", "Load", "Acked/s", "p50", "p99", "p99.9", "Failed", "Server CPU (cores)", "Generator lag"}}
	for _, s := range steps {
		d := s.result.dist
		t.add(s.variant, s.kind, s.mode, formatRate(s.result.throughput()),
			d.formatPercentile(0.50), d.formatPercentile(0.99), d.formatPercentile(0.999),
			formatFailures(d), formatCores(s.cores), formatMillis(s.result.lag))
	}
	sb.WriteString(t.markdown())
	sb.WriteString("\nThroughput ratios, acknowledged requests per second (a = entrabridge, " +
		"b = bare XADD handler, c = inline sync):\n\n")
	sb.WriteString(ratioTable(steps))
	sb.WriteString("\n")
	if len(rounds) > 0 {
		sb.WriteString(pairedReport(o, rounds))
		sb.WriteString("\n")
	}
	sb.WriteString(targetTable(ingestTargets(o, steps, rounds)))
	return sb.String()
}

// formatFailures returns the failed count with the statuses behind it.
func formatFailures(d distribution) string {
	if d.failures == 0 {
		return "0"
	}
	var parts []string
	statuses := make([]int, 0, len(d.statuses))
	for s := range d.statuses {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	for _, s := range statuses {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "no response"
		}
		parts = append(parts, fmt.Sprintf("%d %s", d.statuses[s], name))
	}
	return fmt.Sprintf("%d (%s)", d.failures, strings.Join(parts, ", "))
}

// stepKey identifies a body kind and load across servers.
type stepKey struct{ kind, mode string }

func indexSteps(steps []ingestStep) (map[stepKey]map[string]ingestStep, []stepKey) {
	index := map[stepKey]map[string]ingestStep{}
	var order []stepKey
	for _, s := range steps {
		k := stepKey{s.kind, s.mode}
		if index[k] == nil {
			index[k] = map[string]ingestStep{}
			order = append(order, k)
		}
		index[k][s.variant] = s
	}
	return index, order
}

func ratioTable(steps []ingestStep) string {
	index, order := indexSteps(steps)
	t := table{header: []string{"Body", "Load", "a", "b", "c", "a/b", "a/c"}}
	for _, k := range order {
		a := index[k][variantBridge].result.throughput()
		bare := index[k][variantBare].result.throughput()
		c := index[k][variantInline].result.throughput()
		t.add(k.kind, k.mode, formatRate(a), formatRate(bare), formatRate(c), formatRatio(a, bare), formatRatio(a, c))
	}
	return t.markdown()
}

// ingestTargets checks the saturation ratios and the p99 at 2,000 req/s.
// The ratio to the bare handler is the median of the paired rounds when
// there are any, otherwise that of the saturation steps.
func ingestTargets(o options, steps []ingestStep, rounds []pairedRound) []target {
	index, order := indexSteps(steps)
	medians := medianRatios(rounds)
	var targets []target
	for _, k := range order {
		a, bare, c := index[k][variantBridge], index[k][variantBare], index[k][variantInline]
		if k.mode == saturationMode(o.clients) {
			ab := a.result.throughput() / max(bare.result.throughput(), 1e-9)
			measured := fmt.Sprintf("%.2f ×", ab)
			if median, ok := medians[k.kind]; ok {
				ab = median
				measured = fmt.Sprintf("%.2f × (median of %d paired rounds)", ab, o.pairs)
			}
			ac := a.result.throughput() / max(c.result.throughput(), 1e-9)
			targets = append(targets,
				target{"throughput vs bare XADD, " + k.kind, measured, "≥ 0.8 ×", ab >= 0.8},
				target{"throughput vs inline sync, " + k.kind, fmt.Sprintf("%.1f ×", ac), "≥ 10 ×", ac >= 10})
		}
		if a.offered == 2000 {
			p99, ok := a.result.dist.percentile(0.99)
			targets = append(targets, target{"entrabridge p99 ack at 2,000 req/s, " + k.kind,
				a.result.dist.formatPercentile(0.99), "≤ 10 ms", ok && p99 <= 10*time.Millisecond})
		}
	}
	return targets
}
