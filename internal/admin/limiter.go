package admin

import (
	"sync"
	"time"
)

// Limits on wrong tokens. An address that sends maxLoginFailures wrong
// tokens within loginFailureWindow of its first one is rejected with 429
// until the window ends.
const (
	maxLoginFailures   = 10
	loginFailureWindow = 15 * time.Minute
	// maxTrackedAddresses bounds the limiter's memory to about 1 MiB, an
	// estimate at 100 bytes per entry. Beyond it, new addresses share one
	// counter (see fail).
	maxTrackedAddresses = 10_000
)

// overflowAddress is the counter shared by addresses that arrive while
// the table is full. It is not a valid IP address.
const overflowAddress = "overflow"

// failureLimiter counts wrong tokens per client address in fixed windows.
// It is safe for concurrent use.
//
// NOTE: the handler passes Echo's RealIP, which is the direct peer unless
// the Echo instance has an IPExtractor. Behind a reverse proxy without
// one, every client shares the proxy's counter, so a guesser can lock
// operators out for a window.
type failureLimiter struct {
	max      int
	window   time.Duration
	capacity int

	mu      sync.Mutex
	entries map[string]failureCount
}

// failureCount is the wrong tokens of one address since start.
type failureCount struct {
	count int
	start time.Time
}

func newFailureLimiter(max int, window time.Duration, capacity int) *failureLimiter {
	return &failureLimiter{
		max:      max,
		window:   window,
		capacity: capacity,
		entries:  make(map[string]failureCount),
	}
}

// blockedFor returns how long addr must wait before it may try a token
// again, or zero when it may try now.
func (l *failureLimiter) blockedFor(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()

	e, ok := l.entries[addr]
	if !ok && len(l.entries) >= l.capacity {
		e = l.entries[overflowAddress]
	}
	end := e.start.Add(l.window)
	if e.count < l.max || !now.Before(end) {
		return 0
	}
	return end.Sub(now)
}

// fail counts a wrong token from addr and returns the count in the
// current window. When the table is full of live windows, a new address
// is counted on the shared overflow counter instead. So a guesser cannot
// escape the limit by adding addresses, but an operator who logs in from
// a new address during such an attack is blocked too.
func (l *failureLimiter) fail(addr string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()

	if _, ok := l.entries[addr]; !ok && len(l.entries) >= l.capacity {
		l.removeExpired(now)
		if len(l.entries) >= l.capacity {
			addr = overflowAddress
		}
	}
	e := l.entries[addr]
	if e.count == 0 || !now.Before(e.start.Add(l.window)) {
		e = failureCount{start: now}
	}
	e.count++
	l.entries[addr] = e
	return e.count
}

// reset clears the failures of addr after it sent the right token.
func (l *failureLimiter) reset(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, addr)
}

func (l *failureLimiter) removeExpired(now time.Time) {
	for addr, e := range l.entries {
		if !now.Before(e.start.Add(l.window)) {
			delete(l.entries, addr)
		}
	}
}
