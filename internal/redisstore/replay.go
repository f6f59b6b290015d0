package redisstore

import (
	"context"
	"fmt"
	"time"
)

// replayPage is how many inbox entries ReplayInbox reads per XRANGE, and
// replayBatch how many users one script call moves.
const (
	replayPage  = 1000
	replayBatch = 500
)

// ReplayInbox makes every distinct user of the inbox entries received at
// or after since (zero means all) due now, or dirty when leased, and
// returns how many notifications those entries held and how many users it
// moved.
// "Received" is the time in the entry ID, when Redis accepted the entry.
// Only entries still in the inbox count, and TrimInbox removes those older
// than the retention.
//
// Each batch of users moves atomically, but the replay as a whole does
// not: after an error, some users are due already and running the replay
// again is safe.
func (s *Store) ReplayInbox(ctx context.Context, since time.Time) (int, int, error) {
	users, entries, err := s.inboxUsers(ctx, since)
	if err != nil {
		return entries, 0, err
	}
	k := s.keys
	moved := 0
	for start := 0; start < len(users); start += replayBatch {
		batch := users[start:min(start+replayBatch, len(users))]
		args := make([]any, len(batch))
		for i, u := range batch {
			args[i] = u
		}
		n, err := replayScript.Run(ctx, s.rdb,
			[]string{k.due, k.leases, k.dirty, k.notified, k.latest}, args...).Int()
		if err != nil {
			return entries, moved, fmt.Errorf("redisstore: replay users: %w", err)
		}
		moved += n
	}
	return entries, moved, nil
}

// inboxUsers returns the distinct users of the inbox entries added at or
// after since, in order of first appearance, and the number of
// notifications those entries held.
func (s *Store) inboxUsers(ctx context.Context, since time.Time) ([]string, int, error) {
	seen := make(map[string]bool)
	var users []string
	entries := 0
	for _, stream := range []string{s.keys.legacyInbox, s.keys.inbox} {
		n, err := s.streamUsers(ctx, stream, since, seen, &users)
		entries += n
		if err != nil {
			return nil, entries, err
		}
	}
	return users, entries, nil
}

// streamUsers appends to users the users of stream's entries added at or
// after since that are not in seen yet, and returns the number of
// notifications those entries held.
func (s *Store) streamUsers(ctx context.Context, stream string, since time.Time, seen map[string]bool, users *[]string) (int, error) {
	start := "-"
	if !since.IsZero() && since.UnixMilli() > 0 {
		start = millis(since) + "-0"
	}
	entries := 0
	for {
		msgs, err := s.rdb.XRangeN(ctx, stream, start, "+", replayPage).Result()
		if err != nil {
			return entries, fmt.Errorf("redisstore: read %s from %s: %w", stream, start, err)
		}
		for _, m := range msgs {
			for _, u := range entryUsers(m.Values) {
				entries++
				if !seen[u] {
					seen[u] = true
					*users = append(*users, u)
				}
			}
		}
		if len(msgs) < replayPage {
			return entries, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// TrimInbox removes inbox entries older than the inbox retention, by the
// Redis server's clock, from the inbox and the legacy inbox. It deletes
// the legacy inbox once every entry in it was scheduled and is older than
// the retention.
func (s *Store) TrimInbox(ctx context.Context) error {
	for _, stream := range []string{s.keys.legacyInbox, s.keys.inbox} {
		err := trimInboxScript.Run(ctx, s.rdb, []string{stream},
			s.opts.InboxRetention.Milliseconds(), schedulerGroup).Err()
		if err != nil {
			return fmt.Errorf("redisstore: trim %s: %w", stream, err)
		}
	}
	err := deleteDrainedStreamScript.Run(ctx, s.rdb, []string{s.keys.legacyInbox},
		schedulerGroup, s.opts.InboxRetention.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redisstore: delete the drained legacy inbox: %w", err)
	}
	return nil
}
