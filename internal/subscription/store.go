package subscription

import (
	"context"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// LeadershipStore keeps leadership leases; redisstore.Store meets it.
type LeadershipStore interface {
	AcquireLeadership(ctx context.Context, name, owner string, lease time.Duration) (bool, error)
	ReleaseLeadership(ctx context.Context, name, owner string) error
}

// ReconcilerStore is the durable state the Reconciler uses;
// redisstore.Store meets it.
type ReconcilerStore interface {
	Enqueue(ctx context.Context, changes []bridge.Change, lifecycles []bridge.Lifecycle) error
	CompareSnapshots(ctx context.Context, users []bridge.Snapshot, saveMissing bool) (stale []string, saved int, err error)
	DeltaLink(ctx context.Context) (string, error)
	SaveDeltaLink(ctx context.Context, link string) error
	SaveDeltaRun(ctx context.Context, run redisstore.DeltaRun) error
	LastDeltaRun(ctx context.Context) (redisstore.DeltaRun, bool, error)
}

// Store is the durable state the Manager uses; redisstore.Store meets it.
type Store interface {
	LeadershipStore

	SaveSubscription(ctx context.Context, st redisstore.SubscriptionState) error
	Subscription(ctx context.Context) (redisstore.SubscriptionState, bool, error)
	DeleteSubscription(ctx context.Context, id string) (bool, error)
	ReserveSubscriptionAction(ctx context.Context, action, id string, interval time.Duration) (bool, error)
	ReleaseSubscriptionAction(ctx context.Context, action, id string) error

	ReadLifecycle(ctx context.Context, consumer string, count int64, block time.Duration) ([]redisstore.LifecycleEntry, error)
	AckLifecycle(ctx context.Context, ids ...string) error

	LastDeltaRun(ctx context.Context) (redisstore.DeltaRun, bool, error)
	RequestDeltaCatchUp(ctx context.Context, at time.Time) error
	TakeDeltaCatchUp(ctx context.Context) (time.Time, bool, error)
}
