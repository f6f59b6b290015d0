package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// Keys of bulk resolution, which resolves a large batch of due users with
// one users delta round instead of one Graph read each. They follow the
// "{prefix}:name" form of keys.go:
//
//   - {prefix}:bulk:link is the delta link that starts the next bulk round.
//     It is separate from the Reconciler's link, so neither kind of round
//     skips the other's changes.
//   - {prefix}:bulk:origin is when that chain of links started tracking
//     (unix ms). Changes before it are in no bulk round.
//   - {prefix}:bulk:round is the start of the last bulk round (unix ms).
//   - {prefix}:changed is a hash: user ID → unix ms when a delta round last
//     reported the user changed. The mark stays until a sync read the user
//     from Graph after it.
func (k keys) bulkLink() string   { return "{" + k.prefix + "}:bulk:link" }
func (k keys) bulkOrigin() string { return "{" + k.prefix + "}:bulk:origin" }
func (k keys) bulkRound() string  { return "{" + k.prefix + "}:bulk:round" }
func (k keys) changed() string    { return "{" + k.prefix + "}:changed" }

// BulkLink returns the delta link of the next bulk round and when its
// chain started tracking changes, or "" and the zero time when none is
// stored.
func (s *Store) BulkLink(ctx context.Context) (string, time.Time, error) {
	vals, err := s.rdb.MGet(ctx, s.keys.bulkLink(), s.keys.bulkOrigin()).Result()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("redisstore: read bulk delta link: %w", err)
	}
	link, _ := vals[0].(string)
	origin, _ := vals[1].(string)
	if link == "" {
		return "", time.Time{}, nil
	}
	return link, timeFromMillis(origin), nil
}

// SaveBulkLink stores the delta link that ends a bulk round started at
// roundStart. A non-zero origin starts a new chain of links, as after
// $deltaToken=latest; a zero origin keeps the chain's origin.
func (s *Store) SaveBulkLink(ctx context.Context, link string, origin, roundStart time.Time) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.keys.bulkLink(), link, 0)
		if !origin.IsZero() {
			p.Set(ctx, s.keys.bulkOrigin(), millis(origin), 0)
		}
		p.Set(ctx, s.keys.bulkRound(), millis(roundStart), 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: save bulk delta link: %w", err)
	}
	return nil
}

// MarkChanged records that a delta round reported the users changed at
// at. A later mark replaces an earlier one.
func (s *Store) MarkChanged(ctx context.Context, userIDs []string, at time.Time) error {
	for start := 0; start < len(userIDs); start += 500 {
		chunk := userIDs[start:min(start+500, len(userIDs))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, millis(at))
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := markChangedScript.Run(ctx, s.rdb, []string{s.keys.changed()}, args...).Err(); err != nil {
			return fmt.Errorf("redisstore: mark %d users changed: %w", len(userIDs), err)
		}
	}
	return nil
}

// ChangedMarks returns, for each of userIDs that is marked changed, the
// time of its mark.
func (s *Store) ChangedMarks(ctx context.Context, userIDs []string) (map[string]time.Time, error) {
	marks := make(map[string]time.Time)
	if len(userIDs) == 0 {
		return marks, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.keys.changed(), userIDs...).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read changed marks: %w", err)
	}
	for i, v := range vals {
		if ms, ok := v.(string); ok && ms != "" {
			marks[userIDs[i]] = timeFromMillis(ms)
		}
	}
	return marks, nil
}

// ClearChanged deletes the user's changed mark unless it is newer than
// readAt, the time a sync read the user from Graph: a newer mark belongs
// to a change that read may not have seen.
func (s *Store) ClearChanged(ctx context.Context, userID string, readAt time.Time) error {
	err := clearChangedScript.Run(ctx, s.rdb, []string{s.keys.changed()}, userID, millis(readAt)).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: clear changed mark of user %s: %w", userID, err)
	}
	return nil
}

// Postpone releases the job's lease and makes the user due again at at,
// without counting a failed attempt. The user's notified time stays, and
// a notification that arrived during the lease is folded in. It returns
// ErrLeaseLost when the job no longer holds the lease.
func (s *Store) Postpone(ctx context.Context, job bridge.Job, at time.Time) error {
	k := s.keys
	ok, err := postponeScript.Run(ctx, s.rdb,
		[]string{k.leases, k.owners, k.claims, k.notified, k.dirty, k.due},
		job.UserID, job.Owner, millis(job.LeaseUntil), millis(at)).Int()
	if err != nil {
		return fmt.Errorf("redisstore: postpone job for user %s: %w", job.UserID, err)
	}
	if ok == 0 {
		return fmt.Errorf("redisstore: postpone job for user %s: %w", job.UserID, ErrLeaseLost)
	}
	return nil
}

// DueNow returns how many users are due by the server's clock.
func (s *Store) DueNow(ctx context.Context) (int, error) {
	counts, err := dueCountsScript.Run(ctx, s.rdb, []string{s.keys.due}).Int64Slice()
	if err != nil || len(counts) != 2 {
		return 0, fmt.Errorf("redisstore: count due users: %w", errors.Join(err, errors.New("unexpected reply")))
	}
	return int(counts[0]), nil
}

// markChangedScript sets changed marks, keeping the later of two.
//
// KEYS: changed.
// ARGV: mark unix ms, then user IDs.
// Returns the number of users.
var markChangedScript = newScript(`
local at = tonumber(ARGV[1])
for i = 2, #ARGV do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or tonumber(current) < at then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  end
end
return #ARGV - 1
`)

// clearChangedScript deletes a changed mark that is not newer than a read.
//
// KEYS: changed.
// ARGV: user, read unix ms.
// Returns 1 when the mark was deleted, else 0.
var clearChangedScript = newScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and tonumber(current) <= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
`)

// postponeScript releases a lease and makes the user due at a given time
// without touching the failure bookkeeping.
//
// KEYS: leases, owners, claims, notified, dirty, due.
// ARGV: user, owner, lease until ms, due at ms.
// Returns 1, or 0 when the lease is lost.
var postponeScript = newScript(`
local leases, owners, claims = KEYS[1], KEYS[2], KEYS[3]
local notified, dirty, due = KEYS[4], KEYS[5], KEYS[6]
local user, owner, lease_until, at = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if not holds(leases, owners, claims, user, owner, lease_until) then
  return 0
end
release(leases, owners, claims, user)
local received = redis.call('HGET', dirty, user)
if received then
  redis.call('HDEL', dirty, user)
  keep_oldest(notified, user, received)
end
due_by(due, user, at)
return 1
`)
