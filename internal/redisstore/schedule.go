package redisstore

import (
	"context"
	"fmt"
	"time"
)

// Schedule moves inbox entries into the due set through the consumer group
// "scheduler" and returns how many entries it processed. It first takes
// over entries a crashed consumer left unacknowledged for 30 s. When there
// are none, it reads up to count new entries (100 when count ≤ 0) and
// waits up to block for them (below 1 ms it does not wait).
//
// Each user of an entry becomes due at now+debounce unless it is already
// due (so a burst coalesces into one sync and never delays it), or is
// marked dirty when it is leased. Whole entries are applied and
// acknowledged together, in scripts of about scheduleChunk users.
//
// While the legacy inbox exists, its entries come first, without waiting.
func (s *Store) Schedule(ctx context.Context, consumer string, debounce time.Duration, count int64, block time.Duration) (int, error) {
	legacy, err := s.rdb.Exists(ctx, s.keys.legacyInbox).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: check the legacy inbox: %w", err)
	}
	if legacy > 0 {
		n, err := s.scheduleStream(ctx, s.keys.legacyInbox, consumer, debounce, count, 0)
		if err != nil || n > 0 {
			return n, err
		}
	}
	return s.scheduleStream(ctx, s.keys.inbox, consumer, debounce, count, block)
}

// scheduleStream runs Schedule on one inbox stream.
func (s *Store) scheduleStream(ctx context.Context, stream, consumer string, debounce time.Duration, count int64, block time.Duration) (int, error) {
	msgs, err := s.readGroup(ctx, stream, schedulerGroup, consumer, count, block)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}

	done := 0
	for start := 0; start < len(msgs); {
		args := []any{schedulerGroup, debounce.Milliseconds()}
		end, users := start, 0
		for end < len(msgs) && (end == start || users < scheduleChunk) {
			m := msgs[end]
			entry := entryUsers(m.Values)
			args = append(args, m.ID, receivedAt(m.ID, m.Values), len(entry))
			for _, u := range entry {
				args = append(args, u)
			}
			users += len(entry)
			end++
		}
		k := s.keys
		n, err := scheduleScript.Run(ctx, s.rdb,
			[]string{stream, k.due, k.leases, k.dirty, k.notified, k.latest}, args...).Int()
		if err != nil {
			return done, fmt.Errorf("redisstore: schedule %d entries of %s: %w", end-start, stream, err)
		}
		done += n
		start = end
	}
	return done, nil
}

// scheduleChunk is about how many users one scheduling script handles.
// It bounds how long one script blocks Redis; an entry is never split.
const scheduleChunk = 1000

// NextDue returns the earliest due time, or false when no user is due.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.keys.due, 0, 0).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("redisstore: read next due time: %w", err)
	}
	if len(zs) == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(int64(zs[0].Score)), true, nil
}
