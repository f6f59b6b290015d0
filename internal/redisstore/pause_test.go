package redisstore_test

import (
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestPauseKeepsLaterDeadline(t *testing.T) {
	tests := []struct {
		name          string
		first, second time.Duration
		wantAtLeast   time.Duration
		wantAtMost    time.Duration
	}{
		{"shorter second pause", time.Hour, time.Second, 59 * time.Minute, time.Hour},
		{"longer second pause", time.Second, time.Hour, 59 * time.Minute, time.Hour},
		{"single pause", 30 * time.Second, 0, 29 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.NewStore(t)
			ctx := testContext(t)
			if err := s.Pause(ctx, "scim", tt.first); err != nil {
				t.Fatalf("first Pause: %v", err)
			}
			if err := s.Pause(ctx, "scim", tt.second); err != nil {
				t.Fatalf("second Pause: %v", err)
			}
			got, err := s.PausedFor(ctx, "scim")
			if err != nil {
				t.Fatalf("PausedFor: %v", err)
			}
			if got < tt.wantAtLeast || got > tt.wantAtMost {
				t.Errorf("paused for %v, want between %v and %v", got, tt.wantAtLeast, tt.wantAtMost)
			}
		})
	}
}

func TestPausedForUnpaused(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if err := s.Pause(ctx, "scim", time.Hour); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	got, err := s.PausedFor(ctx, "graph")
	if err != nil {
		t.Fatalf("PausedFor: %v", err)
	}
	if got != 0 {
		t.Errorf("other name paused for %v, want 0", got)
	}
}

func TestPauseExpires(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if err := s.Pause(ctx, "scim", 20*time.Millisecond); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	waitFor(t, "the pause to end", func() bool {
		d, err := s.PausedFor(ctx, "scim")
		if err != nil {
			t.Fatalf("PausedFor: %v", err)
		}
		return d == 0
	})
}
