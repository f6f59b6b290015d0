package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Depths counts the work in each state, for metrics, the admin page and
// autoscaling.
type Depths struct {
	// Due counts users whose due time has come.
	Due int64
	// Scheduled counts users due later (debounce or retry backoff).
	Scheduled int64
	// InFlight counts leased users.
	InFlight int64
	// Retrying counts users with at least one failed attempt.
	Retrying int64
	// Dead counts dead letters.
	Dead int64
	// InboxPending counts inbox entries (webhook requests, not items) the
	// scheduler has not yet processed: not yet delivered plus delivered
	// but unacknowledged, in the inbox and the legacy inbox.
	InboxPending int64
	// LifecyclePending counts lifecycle entries the subscription role has
	// not yet acknowledged, in the same way.
	LifecyclePending int64
}

// Depths returns the current counts. They are read in several steps, in
// the order work flows (inbox, due set, leases), so that a user moving
// forward between two reads is counted at least once; under load the counts
// may still not add up to one instant's state.
func (s *Store) Depths(ctx context.Context) (Depths, error) {
	var d Depths
	var err error
	for _, stream := range []string{s.keys.legacyInbox, s.keys.inbox} {
		n, err := s.groupBacklog(ctx, stream, schedulerGroup)
		if err != nil {
			return d, err
		}
		d.InboxPending += n
	}
	if d.LifecyclePending, err = s.groupBacklog(ctx, s.keys.lifecycle, subscriptionGroup); err != nil {
		return d, err
	}
	counts, err := dueCountsScript.Run(ctx, s.rdb, []string{s.keys.due}).Int64Slice()
	if err != nil {
		return d, fmt.Errorf("redisstore: count due users: %w", err)
	}
	if len(counts) != 2 {
		return d, fmt.Errorf("redisstore: count due users: unexpected reply of %d elements", len(counts))
	}
	d.Due, d.Scheduled = counts[0], counts[1]

	var inFlight, retrying, dead *redis.IntCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		inFlight = p.ZCard(ctx, s.keys.leases)
		retrying = p.HLen(ctx, s.keys.attempts)
		dead = p.XLen(ctx, s.keys.dead)
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("redisstore: count leases, retries and dead letters: %w", err)
	}
	d.InFlight, d.Retrying, d.Dead = inFlight.Val(), retrying.Val(), dead.Val()

	return d, nil
}

// groupBacklog counts the entries of stream that group has not
// acknowledged: its lag (not yet delivered) plus its pending entries. A
// missing stream counts 0 and a missing group counts the whole stream.
func (s *Store) groupBacklog(ctx context.Context, stream, group string) (int64, error) {
	groups, err := s.rdb.XInfoGroups(ctx, stream).Result()
	if err != nil && strings.Contains(err.Error(), "no such key") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redisstore: read groups of %s: %w", stream, err)
	}
	for _, g := range groups {
		if g.Name != group {
			continue
		}
		lag, err := s.groupLag(ctx, stream, g)
		if err != nil {
			return 0, err
		}
		return lag + g.Pending, nil
	}
	n, err := s.rdb.XLen(ctx, stream).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: count entries of %s: %w", stream, err)
	}
	return n, nil
}

// groupLag returns how many entries of stream were not yet delivered to
// group. Redis 7 reports this as "lag" along with "entries-read". When
// either is missing (older Redis, or miniredis, whose lag ignores
// deliveries) or the lag is unknown (after XDEL), it counts the entries
// after the last delivered one instead, which takes one XRANGE page per
// 1,000 undelivered entries.
func (s *Store) groupLag(ctx context.Context, stream string, g redis.XInfoGroup) (int64, error) {
	if g.Lag >= 0 && (g.EntriesRead > 0 || g.LastDeliveredID == "0-0") {
		return g.Lag, nil
	}
	var n int64
	start := "(" + g.LastDeliveredID
	for {
		msgs, err := s.rdb.XRangeN(ctx, stream, start, "+", 1000).Result()
		if errors.Is(err, redis.Nil) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("redisstore: count undelivered entries of %s: %w", stream, err)
		}
		n += int64(len(msgs))
		if len(msgs) < 1000 {
			return n, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}
