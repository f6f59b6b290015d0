package main

import (
	"testing"
	"time"
)

func TestMedianRatios(t *testing.T) {
	rounds := []pairedRound{
		{kind: "single", bridge: 90, bare: 100},
		{kind: "single", bridge: 50, bare: 100},
		{kind: "single", bridge: 120, bare: 100},
		{kind: "batch", bridge: 60, bare: 100},
		{kind: "batch", bridge: 80, bare: 100},
	}

	got := medianRatios(rounds)

	want := map[string]float64{"single": 0.9, "batch": 0.7}
	for kind, w := range want {
		if g := got[kind]; g < w-1e-9 || g > w+1e-9 {
			t.Errorf("median ratio of %s: got %g, want %g", kind, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got medians for %d kinds, want %d", len(got), len(want))
	}
}

func TestCPUPerRequest(t *testing.T) {
	tests := []struct {
		name             string
		cores, perSecond float64
		want             time.Duration
	}{
		{"one core at 10,000 per second", 1, 10000, 100 * time.Microsecond},
		{"unreadable CPU", -1, 10000, 0},
		{"no requests", 0.5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cpuPerRequest(tt.cores, tt.perSecond); got != tt.want {
				t.Errorf("cpuPerRequest(%g, %g): got %s, want %s", tt.cores, tt.perSecond, got, tt.want)
			}
		})
	}
}
