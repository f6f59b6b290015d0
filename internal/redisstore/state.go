package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// UserState is the queue state of one user, for the admin page and for
// tests that check the store's bookkeeping without knowing its keys.
type UserState struct {
	// DueAt is when the user's sync becomes due; zero when not due.
	DueAt time.Time
	// LeaseUntil is the lease deadline; zero when not leased.
	LeaseUntil time.Time
	// Owner is the lease owner; "" when not leased.
	Owner string
	// DirtySince is when the oldest notification that arrived during the
	// lease was received; zero when none did.
	DirtySince time.Time
	// NotifiedAt is when the oldest notification the pending sync covers
	// was received; zero when none is pending.
	NotifiedAt time.Time
	// Attempts counts failed attempts since the last success or dead
	// letter.
	Attempts     int
	FirstFailure time.Time
	LastError    string
}

// UserState returns the queue state of one user, read in one MULTI/EXEC
// so the fields agree with each other.
func (s *Store) UserState(ctx context.Context, userID string) (UserState, error) {
	k := s.keys
	var due, lease *redis.FloatCmd
	var owner, dirty, notified, attempts, first, lastErr *redis.StringCmd
	cmds, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		due = p.ZScore(ctx, k.due, userID)
		lease = p.ZScore(ctx, k.leases, userID)
		owner = p.HGet(ctx, k.owners, userID)
		dirty = p.HGet(ctx, k.dirty, userID)
		notified = p.HGet(ctx, k.notified, userID)
		attempts = p.HGet(ctx, k.attempts, userID)
		first = p.HGet(ctx, k.firstFailure, userID)
		lastErr = p.HGet(ctx, k.lastError, userID)
		return nil
	})
	// A missing field or member makes its command, and so the
	// transaction, report redis.Nil, which only means "unset".
	if err != nil && !errors.Is(err, redis.Nil) {
		return UserState{}, fmt.Errorf("redisstore: read state of user %s: %w", userID, err)
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return UserState{}, fmt.Errorf("redisstore: read state of user %s: %w", userID, err)
		}
	}
	return UserState{
		DueAt:        scoreTime(due),
		LeaseUntil:   scoreTime(lease),
		Owner:        owner.Val(),
		DirtySince:   timeFromMillis(dirty.Val()),
		NotifiedAt:   timeFromMillis(notified.Val()),
		Attempts:     atoi(attempts.Val()),
		FirstFailure: timeFromMillis(first.Val()),
		LastError:    lastErr.Val(),
	}, nil
}

func scoreTime(cmd *redis.FloatCmd) time.Time {
	if cmd.Err() != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(cmd.Val()))
}
