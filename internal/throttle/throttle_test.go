package throttle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/throttle"
)

func TestWaitHonoursPause(t *testing.T) {
	store := redistest.NewStore(t)
	l := throttle.New(store, "scim", 0, 1)
	ctx := t.Context()

	if err := l.Pause(ctx, 300*time.Millisecond); err != nil {
		t.Fatalf("pause: %v", err)
	}
	// A second limiter on the same store stands for another replica.
	other := throttle.New(store, "scim", 0, 1)
	paused, err := other.PausedFor(ctx)
	if err != nil {
		t.Fatalf("paused for: %v", err)
	}
	if paused <= 0 {
		t.Fatalf("other replica sees no pause")
	}
	start := time.Now()
	if err := other.Wait(ctx); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("Wait returned after %s during a 300ms pause", waited)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	store := redistest.NewStore(t)
	l := throttle.New(store, "scim", 0, 1)
	if err := l.Pause(t.Context(), time.Minute); err != nil {
		t.Fatalf("pause: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}

func TestWaitSharesRateAcrossLimiters(t *testing.T) {
	store := redistest.NewStore(t)
	a := throttle.New(store, "scim", 20, 1)
	b := throttle.New(store, "scim", 20, 1)
	ctx := t.Context()

	// 10 requests at 20/s shared by two limiters need about 450 ms in
	// all, whichever limiter makes them.
	start := time.Now()
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("wait: %v", err)
		}
	}
	if elapsed := time.Since(start); elapsed < 400*time.Millisecond {
		t.Errorf("10 requests at a shared 20/s took %s, want at least 400ms", elapsed)
	}
}
