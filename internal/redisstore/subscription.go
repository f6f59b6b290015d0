package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscription returns the key of the hash that describes the Graph
// subscription the bridge maintains: id, resource, change_type,
// notification_url, lifecycle_url, and expires, created and renewed in
// unix ms.
func (k keys) subscription() string { return "{" + k.prefix + "}:subscription" }

// subscriptionAction returns the key of a mark, with a TTL, that an action
// on one subscription ran recently.
func (k keys) subscriptionAction(action, id string) string {
	return "{" + k.prefix + "}:subscription:action:" + action + ":" + id
}

// SubscriptionState is the stored record of the Graph subscription the
// bridge maintains.
type SubscriptionState struct {
	ID                       string
	Resource                 string
	ChangeType               string
	NotificationURL          string
	LifecycleNotificationURL string
	// ExpiresAt is the subscription's expirationDateTime as Graph last
	// confirmed it.
	ExpiresAt time.Time
	// CreatedAt is when the bridge created or adopted the subscription.
	CreatedAt time.Time
	// RenewedAt is when the bridge last renewed it, or zero before the
	// first renewal.
	RenewedAt time.Time
}

// SaveSubscription replaces the stored subscription state.
func (s *Store) SaveSubscription(ctx context.Context, st SubscriptionState) error {
	key := s.keys.subscription()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key,
			"id", st.ID,
			"resource", st.Resource,
			"change_type", st.ChangeType,
			"notification_url", st.NotificationURL,
			"lifecycle_url", st.LifecycleNotificationURL,
			"expires", millisOrZero(st.ExpiresAt),
			"created", millisOrZero(st.CreatedAt),
			"renewed", millisOrZero(st.RenewedAt),
		)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: save subscription %s: %w", st.ID, err)
	}
	return nil
}

// Subscription returns the stored subscription state, or false when the
// bridge maintains no subscription.
func (s *Store) Subscription(ctx context.Context) (SubscriptionState, bool, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.subscription()).Result()
	if err != nil {
		return SubscriptionState{}, false, fmt.Errorf("redisstore: read subscription: %w", err)
	}
	if h["id"] == "" {
		return SubscriptionState{}, false, nil
	}
	return SubscriptionState{
		ID:                       h["id"],
		Resource:                 h["resource"],
		ChangeType:               h["change_type"],
		NotificationURL:          h["notification_url"],
		LifecycleNotificationURL: h["lifecycle_url"],
		ExpiresAt:                timeFromMillis(h["expires"]),
		CreatedAt:                timeFromMillis(h["created"]),
		RenewedAt:                timeFromMillis(h["renewed"]),
	}, true, nil
}

// DeleteSubscription deletes the stored subscription state if its ID is
// id, and reports whether it did. The subscription at Graph is untouched.
func (s *Store) DeleteSubscription(ctx context.Context, id string) (bool, error) {
	n, err := deleteSubscriptionScript.Run(ctx, s.rdb, []string{s.keys.subscription()}, id).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: delete subscription %s: %w", id, err)
	}
	return n == 1, nil
}

// deleteSubscriptionScript deletes the subscription hash if it describes
// the given subscription, so that deleting the state of an old subscription cannot
// drop the state of its replacement.
//
// KEYS: subscription.
// ARGV: subscription ID.
// Returns 1 when the hash was deleted, 0 otherwise.
var deleteSubscriptionScript = newScript(`
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// ReserveSubscriptionAction reports whether action may run on subscription
// id now: it returns true, and marks the action as taken for every replica
// for interval, unless an earlier call did so less than interval ago. This
// coalesces a flood of lifecycle notifications into one Graph call per
// interval.
func (s *Store) ReserveSubscriptionAction(ctx context.Context, action, id string, interval time.Duration) (bool, error) {
	if interval < time.Millisecond {
		return true, nil
	}
	ok, err := s.rdb.SetNX(ctx, s.keys.subscriptionAction(action, id), "1", interval).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: reserve %s of subscription %s: %w", action, id, err)
	}
	return ok, nil
}

// ReleaseSubscriptionAction removes the mark set by
// ReserveSubscriptionAction, so that a failed action may be tried again
// before its interval ends.
func (s *Store) ReleaseSubscriptionAction(ctx context.Context, action, id string) error {
	err := s.rdb.Del(ctx, s.keys.subscriptionAction(action, id)).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: release %s of subscription %s: %w", action, id, err)
	}
	return nil
}

// millisOrZero formats t as unix ms, or "0" for the zero time, which
// timeFromMillis reads back as the zero time.
func millisOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return millis(t)
}
