package graph_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
)

// countingLimiter counts Wait calls and fails them once err is set.
type countingLimiter struct {
	waits atomic.Int64
	err   error
}

func (l *countingLimiter) Wait(context.Context) error {
	l.waits.Add(1)
	return l.err
}

func TestLimiterWaitsBeforeGraphRequests(t *testing.T) {
	f := startFakes(t)
	f.graph.PutUser(fakegraph.User{ID: "u1", UserPrincipalName: "ana@contoso.com"})
	limiter := &countingLimiter{}
	cfg := f.cfg
	cfg.Limiter = limiter
	client := newClient(t, cfg)

	for range 3 {
		if _, err := client.GetUser(context.Background(), "u1"); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
	}

	// The first call also fetched a token, which must not wait.
	if got, want := limiter.waits.Load(), int64(f.graph.TotalRequests()); got != want {
		t.Errorf("got %d limiter waits, want %d (one per Graph request)", got, want)
	}
	if got := f.graph.TotalRequests(); got != 3 {
		t.Errorf("got %d Graph requests, want 3", got)
	}
}

func TestLimiterErrorIsRetryable(t *testing.T) {
	f := startFakes(t)
	f.graph.PutUser(fakegraph.User{ID: "u1", UserPrincipalName: "ana@contoso.com"})
	cfg := f.cfg
	cfg.Limiter = &countingLimiter{err: errors.New("redis unavailable")}
	client := newClient(t, cfg)

	_, err := client.GetUser(context.Background(), "u1")
	if got := failure.ClassOf(err); got != failure.Retryable {
		t.Errorf("got class %v for a failed limiter wait, want Retryable (err %v)", got, err)
	}
	if got := f.graph.TotalRequests(); got != 0 {
		t.Errorf("got %d Graph requests after a failed wait, want 0", got)
	}
}
