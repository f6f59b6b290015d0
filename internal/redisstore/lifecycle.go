package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// LifecycleEntry is a lifecycle notification read from the lifecycle
// stream, with the entry ID to pass to AckLifecycle.
type LifecycleEntry struct {
	ID string
	bridge.Lifecycle
}

// ReadLifecycle returns up to count lifecycle notifications (100 when
// count ≤ 0) for consumer in the consumer group "subscription", blocking
// up to block (below 1 ms it does not block). Entries another consumer read but did not acknowledge
// within 30 s come first. Call AckLifecycle after acting on an entry;
// unacknowledged entries are delivered again.
func (s *Store) ReadLifecycle(ctx context.Context, consumer string, count int64, block time.Duration) ([]LifecycleEntry, error) {
	msgs, err := s.readGroup(ctx, s.keys.lifecycle, subscriptionGroup, consumer, count, block)
	if err != nil {
		return nil, err
	}
	out := make([]LifecycleEntry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, LifecycleEntry{
			ID: m.ID,
			Lifecycle: bridge.Lifecycle{
				SubscriptionID:         field(m.Values, "sub"),
				Event:                  field(m.Values, "event"),
				TenantID:               field(m.Values, "tenant"),
				SubscriptionExpiration: field(m.Values, "expiration"),
				ReceivedAt:             timeFromMillis(receivedAt(m.ID, m.Values)),
			},
		})
	}
	return out, nil
}

// AckLifecycle acknowledges lifecycle entries so they are not delivered
// again.
func (s *Store) AckLifecycle(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.rdb.XAck(ctx, s.keys.lifecycle, subscriptionGroup, ids...).Err(); err != nil {
		return fmt.Errorf("redisstore: acknowledge %d lifecycle entries: %w", len(ids), err)
	}
	return nil
}
