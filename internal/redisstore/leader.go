package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// leader returns the key of a leadership lease: a string holding the
// owner's token, with the lease as its TTL.
func (k keys) leader(name string) string { return "{" + k.prefix + "}:leader:" + name }

// acquireLeadershipScript takes a free leadership lease or extends one the
// owner already holds, so that acquiring and renewing are one step.
//
// KEYS: leader key.
// ARGV: owner token, lease ms.
// Returns 1 when the owner holds the lease afterwards, 0 when another
// owner does.
var acquireLeadershipScript = newScript(`
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if current then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// releaseLeadershipScript deletes a leadership lease if the owner holds
// it, so a former leader cannot delete its successor's lease.
//
// KEYS: leader key.
// ARGV: owner token.
// Returns 1 when the lease was deleted, 0 otherwise.
var releaseLeadershipScript = newScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// AcquireLeadership makes owner the holder of the leadership lease name
// for lease, if the lease is free or owner already holds it, and reports
// whether owner holds it afterwards. A holder calls it again before the
// lease ends to keep it. The lease runs on the Redis server's clock.
func (s *Store) AcquireLeadership(ctx context.Context, name, owner string, lease time.Duration) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("redisstore: acquire leadership %s: the owner token is empty", name)
	}
	if lease < time.Millisecond {
		return false, fmt.Errorf("redisstore: acquire leadership %s: invalid lease %s: it must be at least 1ms", name, lease)
	}
	result, err := acquireLeadershipScript.Run(ctx, s.rdb, []string{s.keys.leader(name)},
		owner, lease.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: acquire leadership %s for %s: %w", name, owner, err)
	}
	return result == 1, nil
}

// ReleaseLeadership ends owner's leadership lease name at once, so another
// replica can take over without waiting for the lease to run out. It does
// nothing when another owner holds the lease.
func (s *Store) ReleaseLeadership(ctx context.Context, name, owner string) error {
	err := releaseLeadershipScript.Run(ctx, s.rdb, []string{s.keys.leader(name)}, owner).Err()
	if err != nil {
		return fmt.Errorf("redisstore: release leadership %s for %s: %w", name, owner, err)
	}
	return nil
}

// Leader returns the owner token holding the leadership lease name, or ""
// when no owner holds it.
func (s *Store) Leader(ctx context.Context, name string) (string, error) {
	owner, err := s.rdb.Get(ctx, s.keys.leader(name)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redisstore: read leadership %s: %w", name, err)
	}
	return owner, nil
}
