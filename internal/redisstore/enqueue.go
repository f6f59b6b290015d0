package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/redis/go-redis/v9"
)

// Enqueue appends change and lifecycle notifications to the inbox and
// lifecycle streams in one MULTI/EXEC transaction. It returns nil only
// after Redis acknowledged every XADD, so a receiver may answer Graph with
// 202 once it returns. Empty slices are allowed.
func (s *Store) Enqueue(ctx context.Context, changes []bridge.Change, lifecycles []bridge.Lifecycle) error {
	if len(changes) == 0 && len(lifecycles) == 0 {
		return nil
	}
	now := time.Now()
	cmds, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range changes {
			// No MAXLEN here: a cap would drop notifications the scheduler
			// has not read yet. TrimInbox trims only processed entries.
			p.XAdd(ctx, &redis.XAddArgs{
				Stream: s.keys.inbox,
				Values: changeFields(c, now),
			})
		}
		for _, l := range lifecycles {
			p.XAdd(ctx, &redis.XAddArgs{
				Stream: s.keys.lifecycle,
				MaxLen: lifecycleMaxLen,
				Approx: true,
				Values: lifecycleFields(l, now),
			})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: enqueue %d changes and %d lifecycle notifications: %w",
			len(changes), len(lifecycles), err)
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("redisstore: enqueue: %w", err)
		}
	}
	return nil
}

func changeFields(c bridge.Change, now time.Time) []string {
	return []string{
		"user", userKey(c.UserID),
		"type", c.ChangeType,
		"sub", c.SubscriptionID,
		"tenant", c.TenantID,
		"seq", c.SequenceNumber,
		"event_time", c.EventTime,
		"received", millis(orNow(c.ReceivedAt, now)),
	}
}

func lifecycleFields(l bridge.Lifecycle, now time.Time) []string {
	return []string{
		"sub", l.SubscriptionID,
		"event", l.Event,
		"tenant", l.TenantID,
		"expiration", l.SubscriptionExpiration,
		"received", millis(orNow(l.ReceivedAt, now)),
	}
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// receivedAt returns an entry's received time in unix ms, falling back to
// the time in the entry ID (when Redis added it).
func receivedAt(id string, values map[string]any) string {
	if r := field(values, "received"); !timeFromMillis(r).IsZero() {
		return r
	}
	return millis(streamIDTime(id))
}
