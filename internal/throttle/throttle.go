// Package throttle paces calls to a downstream service for the whole worker
// pool across replicas: a shared request rate, and a pause that every
// replica honours after the service answered 429.
package throttle

import (
	"context"
	"fmt"
	"time"
)

// Store keeps the shared limiter state; redisstore.Store meets it.
type Store interface {
	Reserve(ctx context.Context, name string, perSecond float64, burst int) (time.Duration, error)
	PausedFor(ctx context.Context, name string) (time.Duration, error)
	Pause(ctx context.Context, name string, d time.Duration) error
}

// Limiter paces the calls to one service.
type Limiter struct {
	store Store
	name  string
	rate  float64
	burst int
}

// New returns a Limiter for the service called name allowing perSecond
// requests per second across every replica, with bursts of up to burst.
// perSecond ≤ 0 means no rate limit, though pauses still apply.
func New(store Store, name string, perSecond float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{store: store, name: name, rate: perSecond, burst: burst}
}

// Wait blocks until a request may go: after any pool-wide pause, and once
// the shared rate allows it. It returns ctx's error if ctx ends first.
func (l *Limiter) Wait(ctx context.Context) error {
	paused, err := l.store.PausedFor(ctx, l.name)
	if err != nil {
		return fmt.Errorf("read %s pause: %w", l.name, err)
	}
	if err := sleep(ctx, paused); err != nil {
		return err
	}
	if l.rate <= 0 {
		return nil
	}
	wait, err := l.store.Reserve(ctx, l.name, l.rate, l.burst)
	if err != nil {
		return fmt.Errorf("reserve %s request: %w", l.name, err)
	}
	return sleep(ctx, wait)
}

// Pause stops every replica's requests to the service for d.
func (l *Limiter) Pause(ctx context.Context, d time.Duration) error {
	return l.store.Pause(ctx, l.name, d)
}

// PausedFor returns how long requests to the service are still paused.
func (l *Limiter) PausedFor(ctx context.Context) (time.Duration, error) {
	return l.store.PausedFor(ctx, l.name)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
