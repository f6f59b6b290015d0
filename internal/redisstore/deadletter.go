package redisstore

import (
	"context"
	"fmt"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/redis/go-redis/v9"
)

// DeadLetters returns up to max dead letters, newest first.
func (s *Store) DeadLetters(ctx context.Context, max int) ([]bridge.DeadLetter, error) {
	if max <= 0 {
		return nil, fmt.Errorf("redisstore: invalid max %d: it must be positive", max)
	}
	msgs, err := s.rdb.XRevRangeN(ctx, s.keys.dead, "+", "-", int64(max)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read dead letters: %w", err)
	}
	out := make([]bridge.DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, deadLetterFrom(m))
	}
	return out, nil
}

// DeadLetterByID returns one dead letter, or an error wrapping ErrNotFound
// when id is not a dead letter's ID.
func (s *Store) DeadLetterByID(ctx context.Context, id string) (bridge.DeadLetter, error) {
	if !validStreamID(id) {
		return bridge.DeadLetter{}, fmt.Errorf("redisstore: dead letter %q: %w", id, ErrNotFound)
	}
	msgs, err := s.rdb.XRange(ctx, s.keys.dead, id, id).Result()
	if err != nil {
		return bridge.DeadLetter{}, fmt.Errorf("redisstore: read dead letter %s: %w", id, err)
	}
	if len(msgs) == 0 {
		return bridge.DeadLetter{}, fmt.Errorf("redisstore: dead letter %s: %w", id, ErrNotFound)
	}
	return deadLetterFrom(msgs[0]), nil
}

// RetryDeadLetter deletes a dead letter and makes its user due now, or
// marks it dirty when the user is leased, in one atomic step. It returns
// an error wrapping ErrNotFound when id is not a dead letter's ID.
func (s *Store) RetryDeadLetter(ctx context.Context, id string) error {
	if !validStreamID(id) {
		return fmt.Errorf("redisstore: retry dead letter %q: %w", id, ErrNotFound)
	}
	k := s.keys
	ok, err := retryDeadLetterScript.Run(ctx, s.rdb,
		[]string{k.dead, k.due, k.leases, k.dirty, k.notified, k.latest, k.deadIndex}, id).Int()
	if err != nil {
		return fmt.Errorf("redisstore: retry dead letter %s: %w", id, err)
	}
	if ok == 0 {
		return fmt.Errorf("redisstore: retry dead letter %s: %w", id, ErrNotFound)
	}
	return nil
}

// DropDeadLetter deletes a dead letter. It returns an error wrapping
// ErrNotFound when id is not a dead letter's ID.
func (s *Store) DropDeadLetter(ctx context.Context, id string) error {
	if !validStreamID(id) {
		return fmt.Errorf("redisstore: drop dead letter %q: %w", id, ErrNotFound)
	}
	n, err := dropDeadLetterScript.Run(ctx, s.rdb, []string{s.keys.dead, s.keys.deadIndex}, id).Int()
	if err != nil {
		return fmt.Errorf("redisstore: drop dead letter %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("redisstore: drop dead letter %s: %w", id, ErrNotFound)
	}
	return nil
}

// ResolveDeadLetter deletes userID's dead letter, if it has one, and
// reports whether it did. The worker calls it after the user synced.
func (s *Store) ResolveDeadLetter(ctx context.Context, userID string) (bool, error) {
	n, err := resolveDeadLetterScript.Run(ctx, s.rdb, []string{s.keys.dead, s.keys.deadIndex},
		userKey(userID)).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: resolve dead letter of user %s: %w", userID, err)
	}
	return n > 0, nil
}

func deadLetterFrom(m redis.XMessage) bridge.DeadLetter {
	return bridge.DeadLetter{
		ID:       m.ID,
		UserID:   field(m.Values, "user"),
		Reason:   field(m.Values, "reason"),
		Detail:   field(m.Values, "detail"),
		Attempts: atoi(field(m.Values, "attempts")),
		At:       timeFromMillis(field(m.Values, "at")),
	}
}
