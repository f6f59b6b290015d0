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
// Each entry makes its user due at now+debounce unless the user is already
// due (so a burst coalesces into one sync and never delays it), or marks
// the user dirty when it is leased. The batch is applied and acknowledged
// in one script.
func (s *Store) Schedule(ctx context.Context, consumer string, debounce time.Duration, count int64, block time.Duration) (int, error) {
	msgs, err := s.readGroup(ctx, s.keys.inbox, schedulerGroup, consumer, count, block)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}

	args := make([]any, 0, 2+3*len(msgs))
	args = append(args, schedulerGroup, debounce.Milliseconds())
	for _, m := range msgs {
		args = append(args, m.ID, field(m.Values, "user"), receivedAt(m.ID, m.Values))
	}
	k := s.keys
	n, err := scheduleScript.Run(ctx, s.rdb,
		[]string{k.inbox, k.due, k.leases, k.dirty, k.notified, k.latest}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: schedule %d inbox entries: %w", len(msgs), err)
	}
	return n, nil
}

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
