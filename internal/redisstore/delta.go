package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// Keys of the Graph delta query state, each a plain string or hash:
//   - delta:link (string): the @odata.deltaLink of the last complete round.
//   - delta:last_run (hash): the outcome of the last run, see DeltaRun.
//   - delta:catch_up (string): unix ms of a pending catch-up request.
func (k keys) deltaLink() string    { return "{" + k.prefix + "}:delta:link" }
func (k keys) deltaLastRun() string { return "{" + k.prefix + "}:delta:last_run" }
func (k keys) deltaCatchUp() string { return "{" + k.prefix + "}:delta:catch_up" }

// DeltaLink returns the stored @odata.deltaLink, or "" when no delta round
// has completed yet.
func (s *Store) DeltaLink(ctx context.Context) (string, error) {
	link, err := s.rdb.Get(ctx, s.keys.deltaLink()).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redisstore: read delta link: %w", err)
	}
	return link, nil
}

// SaveDeltaLink stores the @odata.deltaLink that ends a complete delta
// round. An empty link deletes the stored one.
func (s *Store) SaveDeltaLink(ctx context.Context, link string) error {
	var err error
	if link == "" {
		err = s.rdb.Del(ctx, s.keys.deltaLink()).Err()
	} else {
		err = s.rdb.Set(ctx, s.keys.deltaLink(), link, 0).Err()
	}
	if err != nil {
		return fmt.Errorf("redisstore: save delta link: %w", err)
	}
	return nil
}

// DeltaRun is the outcome of one run of the delta reconciler.
type DeltaRun struct {
	// StartedAt and FinishedAt bound the run.
	StartedAt  time.Time
	FinishedAt time.Time
	// OK is false when the run ended with an error.
	OK bool
	// Mode is the kind of round that ran last: "baseline", "full" or
	// "incremental".
	Mode string
	// Users counts the users the run read, removed ones excluded.
	Users int
	// Changed counts the users the run queued for a sync.
	Changed int
	// Removed counts the users Graph reported as deleted.
	Removed int
	// Baselined counts the snapshots a baseline round saved.
	Baselined int
	// Resynced is true when Graph rejected the stored delta link and the
	// run started over with a full round.
	Resynced bool
	// Error is the error of a failed run.
	Error string
}

// SaveDeltaRun replaces the stored outcome of the last delta run.
func (s *Store) SaveDeltaRun(ctx context.Context, run DeltaRun) error {
	key := s.keys.deltaLastRun()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key,
			"started", millisOrZero(run.StartedAt),
			"finished", millisOrZero(run.FinishedAt),
			"ok", strconv.FormatBool(run.OK),
			"mode", run.Mode,
			"users", run.Users,
			"changed", run.Changed,
			"removed", run.Removed,
			"baselined", run.Baselined,
			"resynced", strconv.FormatBool(run.Resynced),
			"error", run.Error,
		)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: save delta run: %w", err)
	}
	return nil
}

// LastDeltaRun returns the outcome of the last delta run, or false when
// none was recorded.
func (s *Store) LastDeltaRun(ctx context.Context) (DeltaRun, bool, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.deltaLastRun()).Result()
	if err != nil {
		return DeltaRun{}, false, fmt.Errorf("redisstore: read last delta run: %w", err)
	}
	if len(h) == 0 {
		return DeltaRun{}, false, nil
	}
	return DeltaRun{
		StartedAt:  timeFromMillis(h["started"]),
		FinishedAt: timeFromMillis(h["finished"]),
		OK:         h["ok"] == "true",
		Mode:       h["mode"],
		Users:      atoi(h["users"]),
		Changed:    atoi(h["changed"]),
		Removed:    atoi(h["removed"]),
		Baselined:  atoi(h["baselined"]),
		Resynced:   h["resynced"] == "true",
		Error:      h["error"],
	}, true, nil
}

// RequestDeltaCatchUp records that a delta run should start soon, for
// every replica. Requests made before TakeDeltaCatchUp returns coalesce
// into one.
func (s *Store) RequestDeltaCatchUp(ctx context.Context, at time.Time) error {
	if err := s.rdb.SetNX(ctx, s.keys.deltaCatchUp(), millis(at), 0).Err(); err != nil {
		return fmt.Errorf("redisstore: request delta catch-up: %w", err)
	}
	return nil
}

// TakeDeltaCatchUp removes a pending catch-up request and returns when the
// oldest coalesced request was made, or false when none is pending.
func (s *Store) TakeDeltaCatchUp(ctx context.Context) (time.Time, bool, error) {
	at, err := s.rdb.GetDel(ctx, s.keys.deltaCatchUp()).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("redisstore: take delta catch-up: %w", err)
	}
	return timeFromMillis(at), true, nil
}

// compareSnapshotsScript compares users' current userPrincipalName and
// mail with their snapshots. A user without a snapshot gets one with an
// empty SCIM user ID and sync time when ARGV[1] is "save", and counts as
// out of date otherwise.
//
// KEYS: the snapshot hash (user:<id>) of each user.
// ARGV: "save" or "compare", then one pair per key: userPrincipalName,
// mail.
// Returns {number of snapshots saved, {1-based indexes of the users whose
// snapshot is missing or differs, ...}}.
var compareSnapshotsScript = newScript(`
local save = ARGV[1] == 'save'
local saved, stale = 0, {}
for i, key in ipairs(KEYS) do
  local upn, mail = ARGV[2 * i], ARGV[2 * i + 1]
  if redis.call('EXISTS', key) == 1 then
    local current = redis.call('HMGET', key, 'upn', 'mail')
    if (current[1] or '') ~= upn or (current[2] or '') ~= mail then
      stale[#stale + 1] = i
    end
  elseif save then
    redis.call('HSET', key, 'upn', upn, 'mail', mail, 'scim_id', '', 'synced_at', '0')
    saved = saved + 1
  else
    stale[#stale + 1] = i
  end
end
return {saved, stale}
`)

// CompareSnapshots compares the userPrincipalName and mail of users with
// their snapshots and returns the IDs of the users whose snapshot differs.
// A user without a snapshot is returned too, unless saveMissing is set: then
// its current values are saved as its snapshot, with no SCIM user ID, and
// counted in saved. The check and the save of each user are atomic, so a
// snapshot the worker writes meanwhile is never overwritten.
func (s *Store) CompareSnapshots(ctx context.Context, users []bridge.Snapshot, saveMissing bool) (stale []string, saved int, err error) {
	if len(users) == 0 {
		return nil, 0, nil
	}
	keys := make([]string, len(users))
	args := make([]any, 0, 1+2*len(users))
	mode := "compare"
	if saveMissing {
		mode = "save"
	}
	args = append(args, mode)
	for i, u := range users {
		keys[i] = s.keys.user(u.UserID)
		args = append(args, u.UserPrincipalName, u.Mail)
	}

	res, err := compareSnapshotsScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: compare %d snapshots: %w", len(users), err)
	}
	if len(res) != 2 {
		return nil, 0, fmt.Errorf("redisstore: compare snapshots: unexpected reply of %d elements", len(res))
	}
	savedCount, _ := res[0].(int64)
	indexes, _ := res[1].([]any)
	for _, v := range indexes {
		i, ok := v.(int64)
		if !ok || i < 1 || int(i) > len(users) {
			return nil, 0, fmt.Errorf("redisstore: compare snapshots: unexpected index %v", v)
		}
		stale = append(stale, users[i-1].UserID)
	}
	return stale, int(savedCount), nil
}
