package redisstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/redis/go-redis/v9"
)

// maxUsersPerEntry bounds the users of one inbox entry, so that one
// scheduling script never handles an unbounded list. A 1 MiB webhook body
// contains about 1,800 items of 580 bytes, and a delta round may enqueue
// tens of thousands of changes.
const maxUsersPerEntry = 1000

// usersSeparator joins the user IDs of one inbox entry. User IDs are Entra
// object IDs (GUIDs) without commas. An ID that contains one anyway gets an
// entry of its own with a "user" field, which entryUsers also reads.
const usersSeparator = ","

// Enqueue appends change and lifecycle notifications to the inbox and
// lifecycle streams. It returns nil only after Redis acknowledged every
// write, so a receiver may respond 202 to Graph once it returns, and it
// stores everything or nothing. Empty slices are allowed.
//
// Changes received at the same time share one inbox entry (up to
// maxUsersPerEntry users), because the scheduler needs only the user and
// the received time: one webhook request becomes one XADD, which shares a
// pipeline with the XADDs of concurrent requests. When more than one
// write is needed they run in one MULTI/EXEC transaction of their own.
func (s *Store) Enqueue(ctx context.Context, changes []bridge.Change, lifecycles []bridge.Lifecycle) error {
	if len(changes) == 0 && len(lifecycles) == 0 {
		return nil
	}
	now := time.Now()
	adds, err := s.inboxAdds(changes, now)
	if err != nil {
		return err
	}
	for _, l := range lifecycles {
		adds = append(adds, &redis.XAddArgs{
			Stream: s.keys.lifecycle,
			MaxLen: lifecycleMaxLen,
			Approx: true,
			Values: lifecycleFields(l, now),
		})
	}

	if len(adds) == 1 {
		// One command is atomic on its own, so MULTI and EXEC would
		// only add two commands for Redis to run, and it can share a
		// pipeline with the writes of concurrent requests.
		if err := s.commits.xadd(ctx, adds[0]); err != nil {
			return enqueueError(changes, lifecycles, err)
		}
		return nil
	}
	cmds, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, a := range adds {
			p.XAdd(ctx, a)
		}
		return nil
	})
	if err == nil {
		for _, cmd := range cmds {
			if err = cmd.Err(); err != nil {
				break
			}
		}
	}
	if err != nil {
		return enqueueError(changes, lifecycles, err)
	}
	return nil
}

func enqueueError(changes []bridge.Change, lifecycles []bridge.Lifecycle, err error) error {
	return fmt.Errorf("redisstore: enqueue %d changes and %d lifecycle notifications: %w",
		len(changes), len(lifecycles), err)
}

// inboxAdds groups consecutive changes with the same received time into
// inbox entries of at most maxUsersPerEntry users. An entry's fields are
// "users" (user keys joined by usersSeparator, in order, repeats kept) and
// "received" (unix ms), or "user" for a key that contains the separator.
//
// No MAXLEN on these XADDs: a cap would drop notifications the scheduler
// has not read yet. TrimInbox trims only processed entries.
func (s *Store) inboxAdds(changes []bridge.Change, now time.Time) ([]*redis.XAddArgs, error) {
	var adds []*redis.XAddArgs
	add := func(field, users string, received int64) {
		adds = append(adds, &redis.XAddArgs{
			Stream: s.keys.inbox,
			Values: []string{field, users, "received", millis(time.UnixMilli(received))},
		})
	}

	var users []string
	var received int64
	flush := func() {
		if len(users) > 0 {
			add("users", strings.Join(users, usersSeparator), received)
			users = users[:0]
		}
	}
	for _, c := range changes {
		user := userKey(c.UserID)
		if user == "" {
			return nil, fmt.Errorf("redisstore: enqueue: a change has no user ID")
		}
		at := orNow(c.ReceivedAt, now).UnixMilli()
		if at != received || len(users) == maxUsersPerEntry {
			flush()
			received = at
		}
		if strings.Contains(user, usersSeparator) {
			flush()
			add("user", user, at)
			continue
		}
		users = append(users, user)
	}
	flush()
	return adds, nil
}

// entryUsers returns the users of an inbox entry: the "users" field, or
// the single "user" field, which earlier versions wrote for every entry
// and this one writes for an ID that contains usersSeparator.
func entryUsers(values map[string]any) []string {
	if users := field(values, "users"); users != "" {
		return strings.Split(users, usersSeparator)
	}
	if user := field(values, "user"); user != "" {
		return []string{user}
	}
	return nil
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
