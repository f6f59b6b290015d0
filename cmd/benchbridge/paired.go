package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// pairedRound is one round of back-to-back saturation steps against
// entrabridge and the bare handler with the same bodies.
type pairedRound struct {
	kind         string
	bridge, bare float64 // acknowledged requests per second
	// bridgeCPU and bareCPU are the servers' CPU time per acknowledged
	// request, or 0 when it could not be read.
	bridgeCPU, bareCPU time.Duration
}

func (r pairedRound) ratio() float64 { return r.bridge / max(r.bare, 1e-9) }

// pairedRounds runs -pairs rounds of saturation against both servers, one
// right after the other, for each kind of body. The order alternates
// between rounds (entrabridge first, then the bare handler first), so
// that a machine getting faster or slower during the run does not favour
// one server. Sequential steps minutes apart were seen to swing the bare
// handler's throughput by a third on the same machine.
func (b *bench) pairedRounds(ctx context.Context, bridge, bare *serverProcess, kinds []bodyKind) []pairedRound {
	var rounds []pairedRound
	for _, kind := range kinds {
		for i := range b.opts.pairs {
			order := []*serverProcess{bridge, bare}
			if i%2 == 1 {
				slices.Reverse(order)
			}
			r := pairedRound{kind: kind.name}
			for _, srv := range order {
				b.log.Info("ingest paired round", "server", srv.name, "body", kind.name, "round", i+1)
				res, cores := b.saturate(ctx, srv, kind.bodies)
				rate, cpu := res.throughput(), cpuPerRequest(cores, res.throughput())
				if srv == bridge {
					r.bridge, r.bridgeCPU = rate, cpu
				} else {
					r.bare, r.bareCPU = rate, cpu
				}
			}
			rounds = append(rounds, r)
			if ctx.Err() != nil {
				return rounds
			}
		}
	}
	return rounds
}

// cpuPerRequest converts cores used at perSecond requests per second into
// CPU time per request.
func cpuPerRequest(cores, perSecond float64) time.Duration {
	if cores <= 0 || perSecond <= 0 {
		return 0
	}
	return time.Duration(cores / perSecond * float64(time.Second))
}

// medianRatios returns the median entrabridge/bare ratio of each kind.
func medianRatios(rounds []pairedRound) map[string]float64 {
	ratios := map[string][]float64{}
	for _, r := range rounds {
		ratios[r.kind] = append(ratios[r.kind], r.ratio())
	}
	medians := map[string]float64{}
	for kind, rs := range ratios {
		slices.Sort(rs)
		n := len(rs)
		medians[kind] = rs[n/2]
		if n%2 == 0 {
			medians[kind] = (rs[n/2-1] + rs[n/2]) / 2
		}
	}
	return medians
}

func pairedReport(o options, rounds []pairedRound) string {
	if len(rounds) == 0 {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Paired saturation rounds (closed loop, %d clients, %s each): entrabridge and "+
		"the bare handler back to back, the order alternating between rounds. The throughput "+
		"targets use the median ratio of these rounds.\n\n", o.clients, o.duration)
	t := table{header: []string{"Body", "Round", "entrabridge", "bare XADD", "a/b",
		"entrabridge CPU per request", "bare CPU per request"}}
	count := map[string]int{}
	for _, r := range rounds {
		count[r.kind]++
		t.add(r.kind, fmt.Sprint(count[r.kind]), formatRate(r.bridge), formatRate(r.bare),
			formatRatio(r.bridge, r.bare), formatCPU(r.bridgeCPU), formatCPU(r.bareCPU))
	}
	medians := medianRatios(rounds)
	for _, kind := range uniqueKinds(rounds) {
		t.add(kind, "median", "", "", fmt.Sprintf("%.2f", medians[kind]), "", "")
	}
	sb.WriteString(t.markdown())
	return sb.String()
}

func formatCPU(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

func uniqueKinds(rounds []pairedRound) []string {
	var kinds []string
	for _, r := range rounds {
		if !slices.Contains(kinds, r.kind) {
			kinds = append(kinds, r.kind)
		}
	}
	return kinds
}
