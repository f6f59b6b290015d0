package lograte

import (
	"testing"
	"time"
)

func TestAllowCountsSuppressedLines(t *testing.T) {
	l := New(2)
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

	for i, want := range []bool{true, true, false, false, false} {
		if ok, _ := l.Allow(start.Add(time.Duration(i) * time.Millisecond)); ok != want {
			t.Errorf("line %d: allowed = %v, want %v", i, ok, want)
		}
	}
	ok, suppressed := l.Allow(start.Add(time.Second))
	if !ok {
		t.Fatal("first line of the next window was not allowed")
	}
	if suppressed != 3 {
		t.Errorf("got %d suppressed lines, want 3", suppressed)
	}
	if _, suppressed := l.Allow(start.Add(time.Second + time.Millisecond)); suppressed != 0 {
		t.Errorf("suppressed count not reset: got %d", suppressed)
	}
}

func TestLimiterWindows(t *testing.T) {
	l := New(2)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		at             time.Duration
		wantAllowed    bool
		wantSuppressed int
	}{
		{"first", 0, true, 0},
		{"second", 100 * time.Millisecond, true, 0},
		{"third held back", 200 * time.Millisecond, false, 0},
		{"fourth held back", 900 * time.Millisecond, false, 0},
		{"next window reports", time.Second, true, 2},
		{"next window second", 1500 * time.Millisecond, true, 0},
	}
	for _, tt := range tests {
		allowed, suppressed := l.Allow(start.Add(tt.at))
		if allowed != tt.wantAllowed || suppressed != tt.wantSuppressed {
			t.Errorf("%s: got %v, %d, want %v, %d", tt.name, allowed, suppressed, tt.wantAllowed, tt.wantSuppressed)
		}
	}
}
