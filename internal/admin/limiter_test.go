package admin

import (
	"fmt"
	"testing"
	"time"
)

func TestFailureLimiterBlocksAfterMax(t *testing.T) {
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	l := newFailureLimiter(3, 10*time.Minute, 100)

	for i := range 3 {
		if wait := l.blockedFor("192.0.2.1", start); wait != 0 {
			t.Fatalf("before failure %d: got a wait of %s, want none", i+1, wait)
		}
		l.fail("192.0.2.1", start.Add(time.Duration(i)*time.Minute))
	}

	tests := []struct {
		name string
		addr string
		at   time.Time
		want time.Duration
	}{
		{"blocked right after", "192.0.2.1", start.Add(3 * time.Minute), 7 * time.Minute},
		{"blocked until the window ends", "192.0.2.1", start.Add(10*time.Minute - time.Second), time.Second},
		{"free when the window ends", "192.0.2.1", start.Add(10 * time.Minute), 0},
		{"other address free", "192.0.2.2", start.Add(3 * time.Minute), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.blockedFor(tt.addr, tt.at); got != tt.want {
				t.Errorf("blockedFor(%s): got %s, want %s", tt.addr, got, tt.want)
			}
		})
	}
}

func TestFailureLimiterNewWindow(t *testing.T) {
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	l := newFailureLimiter(3, 10*time.Minute, 100)
	l.fail("192.0.2.1", start)
	l.fail("192.0.2.1", start)

	if got := l.fail("192.0.2.1", start.Add(10*time.Minute)); got != 1 {
		t.Errorf("failure count after the window: got %d, want 1", got)
	}
}

func TestFailureLimiterReset(t *testing.T) {
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	l := newFailureLimiter(2, 10*time.Minute, 100)
	l.fail("192.0.2.1", start)

	l.reset("192.0.2.1")

	if got := l.fail("192.0.2.1", start); got != 1 {
		t.Errorf("failure count after reset: got %d, want 1", got)
	}
}

func TestFailureLimiterFullTableSharesCounter(t *testing.T) {
	start := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	l := newFailureLimiter(2, 10*time.Minute, 4)
	for i := range 4 {
		l.fail(fmt.Sprintf("192.0.2.%d", i), start)
	}

	l.fail("198.51.100.1", start)
	l.fail("198.51.100.2", start)

	if got := len(l.entries); got > 5 {
		t.Errorf("tracked entries: got %d, want at most 5 (4 addresses and the overflow counter)", got)
	}
	if wait := l.blockedFor("198.51.100.3", start); wait != 10*time.Minute {
		t.Errorf("new address while full: got a wait of %s, want 10m0s from the shared counter", wait)
	}
	if wait := l.blockedFor("192.0.2.0", start); wait != 0 {
		t.Errorf("tracked address below the limit: got a wait of %s, want none", wait)
	}
	if wait := l.blockedFor("198.51.100.3", start.Add(10*time.Minute)); wait != 0 {
		t.Errorf("new address after the window: got a wait of %s, want none", wait)
	}
	if got := l.fail("198.51.100.4", start.Add(10*time.Minute)); got != 1 {
		t.Errorf("failure count once expired entries are removed: got %d, want 1", got)
	}
	if _, ok := l.entries["198.51.100.4"]; !ok {
		t.Error("address after expiry: not tracked on its own, want its own counter")
	}
}
