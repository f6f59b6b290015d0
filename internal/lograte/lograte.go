// Package lograte limits how many lines a repeated log statement writes,
// so that a flood of identical failures (a Redis outage failing every
// request with 503, a spoofed webhook) cannot flood the log.
package lograte

import (
	"sync"
	"time"
)

// Limiter lets through at most PerSecond lines in each one-second window
// and counts the lines it held back, so the next line can report them.
// The zero value lets nothing through; use New.
type Limiter struct {
	perSecond int

	mu          sync.Mutex
	windowStart time.Time
	inWindow    int
	suppressed  int
}

// New returns a Limiter allowing perSecond lines per second.
func New(perSecond int) *Limiter {
	return &Limiter{perSecond: perSecond}
}

// Allow reports whether a line may be logged at now and, if so, how many
// lines were suppressed since the last one allowed.
func (l *Limiter) Allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()

	if now.Sub(l.windowStart) >= time.Second {
		l.windowStart = now
		l.inWindow = 0
	}
	if l.inWindow >= l.perSecond {
		l.suppressed++
		return false, 0
	}
	l.inWindow++
	suppressed := l.suppressed
	l.suppressed = 0
	return true, suppressed
}
