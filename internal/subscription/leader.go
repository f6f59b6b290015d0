package subscription

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// DefaultLeaderLease is how long a leader keeps its lease without
// renewing it. The leader renews every third of it, so a replica that
// stops takes over after at most this long.
const DefaultLeaderLease = 30 * time.Second

// releaseTimeout bounds the release of the lease on shutdown, which runs
// after the caller's context has ended.
const releaseTimeout = 5 * time.Second

// Elector runs work on one replica at a time. Each replica calls Run with
// the same name and its own owner token, and the one holding the Redis
// lease runs the work.
type Elector struct {
	store LeadershipStore
	name  string
	owner string
	lease time.Duration
	log   *slog.Logger

	leading atomic.Bool
}

// NewElector returns an Elector for the lease name. The owner token must
// be unique per process. A lease of zero means DefaultLeaderLease, and a
// nil log discards the Elector's logs.
func NewElector(store LeadershipStore, name, owner string, lease time.Duration, log *slog.Logger) (*Elector, error) {
	if owner == "" {
		return nil, errors.New("subscription: the leadership owner token is empty: give each process a unique one")
	}
	if lease == 0 {
		lease = DefaultLeaderLease
	}
	if lease < 30*time.Millisecond {
		return nil, fmt.Errorf("subscription: invalid leader lease %s: it must be at least 30ms", lease)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{store: store, name: name, owner: owner, lease: lease, log: log}, nil
}

// Leading reports whether this replica holds the lease now.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Run campaigns for the lease until ctx ends. Whenever this replica holds
// the lease it runs lead with a context that ends when the lease is lost
// or ctx ends, and it waits for lead to return before it campaigns again
// or returns. A lead that returns early gives the lease up. On return, Run
// releases a lease it holds, so another replica takes over at once.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	interval := e.lease / 3
	for {
		acquired, err := e.store.AcquireLeadership(ctx, e.name, e.owner, e.lease)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			e.log.Warn("leadership campaign failed; retrying", "lease", e.name, "err", err, "retry_in", interval)
		case acquired:
			e.lead(ctx, lead)
		}

		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// lead runs work while the lease is held, renewing it every third of the
// lease, and releases the lease when done.
func (e *Elector) lead(ctx context.Context, work func(ctx context.Context) error) {
	e.leading.Store(true)
	defer e.leading.Store(false)
	e.log.Info("leadership acquired", "lease", e.name, "owner", e.owner)

	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- work(leadCtx) }()
	defer e.release()

	ticker := time.NewTicker(e.lease / 3)
	defer ticker.Stop()
	heldSince := time.Now()
	for {
		select {
		case err := <-done:
			e.log.Warn("leader work stopped; giving up leadership", "lease", e.name, "err", err)
			return
		case <-ctx.Done():
			cancel()
			<-done
			return
		case <-ticker.C:
		}

		attempt := time.Now()
		acquired, err := e.store.AcquireLeadership(leadCtx, e.name, e.owner, e.lease)
		switch {
		case err == nil && acquired:
			heldSince = attempt
			continue
		case err == nil:
			e.log.Warn("leadership lost to another replica", "lease", e.name)
		case time.Since(heldSince) < e.lease*2/3:
			e.log.Warn("leadership renewal failed; retrying", "lease", e.name, "err", err)
			continue
		default:
			// The lease may run out before another renewal could
			// succeed, so stop the work before another replica starts it.
			e.log.Error("leadership renewal failed for two thirds of the lease; stepping down",
				"lease", e.name, "err", err)
		}
		cancel()
		<-done
		return
	}
}

// release gives the lease up with a fresh context, because the caller's
// may have ended already.
func (e *Elector) release() {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if err := e.store.ReleaseLeadership(ctx, e.name, e.owner); err != nil {
		e.log.Warn("leadership release failed; another replica takes over when the lease runs out",
			"lease", e.name, "err", err)
		return
	}
	e.log.Info("leadership released", "lease", e.name)
}
