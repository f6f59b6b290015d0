package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetStaleReadAfter shortens how long a delivered entry stays
// unacknowledged before another consumer takes it over.
func SetStaleReadAfter(s *Store, d time.Duration) { s.staleReadAfter = d }

// AddInboxEntryAt appends an inbox entry for user with an ID at time at,
// as if Redis had accepted it then.
func AddInboxEntryAt(ctx context.Context, s *Store, at time.Time, user string) error {
	return s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: s.keys.inbox,
		ID:     strconv.FormatInt(at.UnixMilli(), 10) + "-*",
		Values: []string{"users", user, "received", millis(at)},
	}).Err()
}

// AddLegacyInboxEntryAt appends an entry for user with an ID at time at to
// the legacy inbox, as versions that wrote one entry per notification did.
func AddLegacyInboxEntryAt(ctx context.Context, s *Store, at time.Time, user string) error {
	return s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: s.keys.legacyInbox,
		ID:     strconv.FormatInt(at.UnixMilli(), 10) + "-*",
		Values: []string{"user", user, "type", "updated", "received", millis(at)},
	}).Err()
}

// LegacyInboxLen returns the number of entries in the legacy inbox, and
// -1 when the stream does not exist.
func LegacyInboxLen(ctx context.Context, s *Store) (int64, error) {
	exists, err := s.rdb.Exists(ctx, s.keys.legacyInbox).Result()
	if err != nil || exists == 0 {
		return -1, err
	}
	return s.rdb.XLen(ctx, s.keys.legacyInbox).Result()
}

// ReadInboxWithoutAck reads inbox entries through the scheduler group as
// consumer and leaves them unacknowledged, as a scheduler that crashed
// right after reading would.
func ReadInboxWithoutAck(ctx context.Context, s *Store, consumer string, count int64) (int, error) {
	msgs, err := s.readGroup(ctx, s.keys.inbox, schedulerGroup, consumer, count, 0)
	return len(msgs), err
}

// InboxLen returns the number of entries in the inbox stream.
func InboxLen(ctx context.Context, s *Store) (int64, error) {
	return s.rdb.XLen(ctx, s.keys.inbox).Result()
}

// Client returns the store's Redis client.
func Client(s *Store) redis.UniversalClient { return s.rdb }

// MaxUsersPerEntry is the most users one inbox entry holds.
const MaxUsersPerEntry = maxUsersPerEntry

// GroupCommitFlushers is how many pipelines of inbox writes may be in
// flight at once.
const GroupCommitFlushers = groupCommitFlushers

// QueuedWrites returns how many writes wait for a flusher.
func QueuedWrites(s *Store) int { return len(s.commits.queue) }

// SetStallAfter sets how long every flusher must be busy before writes
// bypass the queue.
func SetStallAfter(s *Store, d time.Duration) { s.commits.stallAfter = d }

// FlushersStalled reports whether new writes would bypass the queue.
func FlushersStalled(s *Store) bool { return s.commits.stalled() }

// FlushersDegraded reports whether writes go out as direct commands after
// a round trip failed without a reply.
func FlushersDegraded(s *Store) bool { return s.commits.degraded.Load() }

// InboxKey returns the key of the inbox stream.
func InboxKey(s *Store) string { return s.keys.inbox }
