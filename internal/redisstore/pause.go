package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pause pauses name for every replica for d, unless a pause with a later
// deadline is already set. A d below 1 ms does nothing.
func (s *Store) Pause(ctx context.Context, name string, d time.Duration) error {
	if d < time.Millisecond {
		return nil
	}
	if err := pauseScript.Run(ctx, s.rdb, []string{s.keys.pause(name)}, d.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("redisstore: pause %s for %s: %w", name, d, err)
	}
	return nil
}

// PausedFor returns how long name stays paused, or 0 when it is not.
func (s *Store) PausedFor(ctx context.Context, name string) (time.Duration, error) {
	ttl, err := s.rdb.PTTL(ctx, s.keys.pause(name)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redisstore: read pause %s: %w", name, err)
	}
	if ttl <= 0 {
		// go-redis reports a missing key (-2) and a key without expiry
		// (-1) as negative durations; neither is an active pause.
		return 0, nil
	}
	return ttl, nil
}
