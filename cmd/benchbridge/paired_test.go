package main

import "testing"

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
