package redisstore_test

import (
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

// TestReserveHoldsRate takes 100 reservations at 50/s. The wait of the
// i-th one must be (i - burst + 1) emission intervals of 20 ms, less the
// time that passed since the first reservation, because that time counts
// towards the rate.
func TestReserveHoldsRate(t *testing.T) {
	tests := []struct {
		name  string
		burst int
	}{
		{"burst 1", 1},
		{"burst 10", 10},
		{"burst 0 counts as 1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.NewStore(t)
			ctx := testContext(t)
			const interval = 20 * time.Millisecond
			burst := max(tt.burst, 1)

			start := time.Now()
			waits := make([]time.Duration, 100)
			for i := range waits {
				w, err := s.Reserve(ctx, "scim", 50, tt.burst)
				if err != nil {
					t.Fatalf("Reserve %d: %v", i, err)
				}
				waits[i] = w
			}
			elapsed := time.Since(start)

			for i, w := range waits {
				ideal := time.Duration(max(i-burst+1, 0)) * interval
				if w > ideal || w < ideal-elapsed {
					t.Errorf("wait %d: got %v, want %v less at most %v elapsed", i, w, ideal, elapsed)
				}
			}
			last := time.Duration(100-burst) * interval
			if got := waits[99]; got < last-elapsed {
				t.Errorf("last wait: got %v, want about %v", got, last)
			}
		})
	}
}

func TestReserveUnlimited(t *testing.T) {
	s := redistest.NewStore(t)
	for i := range 10 {
		w, err := s.Reserve(testContext(t), "graph", 0, 1)
		if err != nil {
			t.Fatalf("Reserve: %v", err)
		}
		if w != 0 {
			t.Fatalf("Reserve %d without a limit: got wait %v, want 0", i, w)
		}
	}
}

func TestReserveNamesIndependent(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	for range 5 {
		if _, err := s.Reserve(ctx, "scim", 1, 1); err != nil {
			t.Fatalf("Reserve scim: %v", err)
		}
	}
	w, err := s.Reserve(ctx, "graph", 1, 1)
	if err != nil {
		t.Fatalf("Reserve graph: %v", err)
	}
	if w != 0 {
		t.Errorf("first reservation of another name: got wait %v, want 0", w)
	}
}
