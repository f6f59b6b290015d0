package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// renameDeadline is the target time from the last notification until
// every rename is in SCIM.
const renameDeadline = 2 * time.Minute

// notificationsPerGraphCall is the target ratio of notifications to
// Graph calls.
const notificationsPerGraphCall = 500

// run sets up the fakes, Redis and the bridge, runs the burst and
// reports. It returns errTargetMissed when the run completed but missed
// a target.
func run(ctx context.Context, o options, out io.Writer) (err error) {
	dir, err := os.MkdirTemp("", "bulkbench-")
	if err != nil {
		return fmt.Errorf("create work folder: %w", err)
	}
	defer func() {
		if err == nil && !o.keep {
			os.RemoveAll(dir)
			return
		}
		fmt.Fprintf(out, "work folder with the bridge log: %s\n", dir)
	}()

	binary := o.binary
	if binary == "" {
		if binary, err = build(ctx, dir); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "seeding %d users in the fake Graph and SCIM\n", o.users)
	fk, err := startFakes(dir, o.users)
	if err != nil {
		return err
	}
	defer fk.close()

	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	prefix := fmt.Sprintf("bulkbench-%d", time.Now().UnixNano())
	rdb, store, err := openStore(ctx, redisURL, prefix)
	if err != nil {
		return err
	}
	defer rdb.Close()
	defer deleteKeys(rdb, prefix)

	if err := trackSinceAnHourAgo(ctx, fk, store); err != nil {
		return err
	}
	renamed := renameUsers(fk, o.users, o.renamed)
	fk.Graph.SetThrottle(o.graphUnits)

	memoryBefore, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}
	b, err := startBridge(ctx, binary, dir, bridgeEnv(fk, redisURL, prefix))
	if err != nil {
		return err
	}
	defer b.stop()

	fmt.Fprintf(out, "posting %d notifications for %d users\n", o.users*notificationsPerUser, o.users)
	before := countGraph(fk)
	ld := &burst{client: &http.Client{Timeout: 10 * time.Second}, url: b.base + "/webhooks/graph"}
	start := time.Now()
	if err := ld.send(ctx, fk.ids); err != nil {
		return fmt.Errorf("send the burst: %w", err)
	}
	last := ld.lastAccepted()
	fmt.Fprintf(out, "burst accepted in %s; waiting for the renames and the queue\n", last.Sub(start).Round(time.Millisecond))

	burstKeys, err := prefixMemory(ctx, rdb, prefix)
	if err != nil {
		return err
	}
	renamesDone, err := waitRenames(ctx, fk, renamed)
	if err != nil {
		return err
	}
	if err := waitDrained(ctx, store); err != nil {
		return err
	}
	memoryAfter, err := usedMemory(ctx, rdb)
	if err != nil {
		return err
	}
	drainedKeys, err := prefixMemory(ctx, rdb, prefix)
	if err != nil {
		return err
	}

	r := result{
		notifications: o.users * notificationsPerUser,
		posts:         ld.posts.Load(),
		postRetries:   ld.retries.Load(),
		graph:         countGraph(fk).minus(before),
		patches:       countPatches(fk),
		scimRequests:  len(fk.SCIM.Requests()),
		renamed:       len(renamed),
		renameLag:     max(0, renamesDone.Sub(last)),
		memoryBefore:  memoryBefore,
		memoryAfter:   memoryAfter,
		burstKeys:     burstKeys,
		drainedKeys:   drainedKeys,
	}
	r.print(out)
	return r.verdict(out)
}

func openStore(ctx context.Context, redisURL, prefix string) (*redis.Client, *redisstore.Store, error) {
	ro, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("parse REDIS_URL %q: %w", redisURL, err)
	}
	rdb := redis.NewClient(ro)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("ping redis at %s: %w", redisURL, err)
	}
	return rdb, redisstore.New(rdb, redisstore.Options{Prefix: prefix}), nil
}

// deleteKeys deletes the run's keys, every one under {prefix}, and no
// others.
func deleteKeys(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			rdb.Unlink(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Unlink(ctx, keys...)
	}
	if err := iter.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "bulkbench: delete keys under {%s}: %v\n", prefix, err)
	}
}

// trackSinceAnHourAgo stores a bulk delta link as a bridge that has
// resolved bursts for an hour would have it, so the burst's bulk rounds
// read only the users a delta round reports.
func trackSinceAnHourAgo(ctx context.Context, fk *fakes, store *redisstore.Store) error {
	link, err := fk.latestDeltaLink(ctx)
	if err != nil {
		return fmt.Errorf("read the latest users delta link: %w", err)
	}
	origin := time.Now().Add(-time.Hour)
	if err := store.SaveBulkLink(ctx, link, origin, origin); err != nil {
		return fmt.Errorf("store the bulk delta link: %w", err)
	}
	return nil
}

// renameUsers renames n users spread evenly over the directory and
// returns their numbers.
func renameUsers(fk *fakes, users, n int) []int {
	var renamed []int
	for k := range n {
		i := k * (users / n)
		upn := userPrincipalName(i, true)
		u, _ := fk.Graph.User(fk.ids[i])
		u.UserPrincipalName, u.Mail = upn, upn
		fk.Graph.PutUser(u)
		renamed = append(renamed, i)
	}
	return renamed
}

// waitRenames polls the fake SCIM until every renamed user has its new
// userName and returns when that was first seen.
func waitRenames(ctx context.Context, fk *fakes, renamed []int) (time.Time, error) {
	pending := renamed
	for {
		var still []int
		for _, i := range pending {
			if u, _ := fk.SCIM.User(fk.scimIDs[i]); u.UserName != userPrincipalName(i, true) {
				still = append(still, i)
			}
		}
		if len(still) == 0 {
			return time.Now(), nil
		}
		pending = still
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("timed out with %d of %d renames not in SCIM: %w", len(pending), len(renamed), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitDrained polls the queue until nothing is in the inbox, due,
// scheduled or in flight three times in a row.
func waitDrained(ctx context.Context, store *redisstore.Store) error {
	quiet := 0
	var d redisstore.Depths
	for quiet < 3 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the queue to drain, last depths %+v: %w", d, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
		var err error
		d, err = store.Depths(ctx)
		if err == nil && d.InboxPending == 0 && d.Due == 0 && d.Scheduled == 0 && d.InFlight == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	return nil
}

// usedMemory returns used_memory from INFO memory, in bytes. It covers
// the whole Redis server, not only this run's keys.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("read redis INFO memory: %w", err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(value, 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO memory has no used_memory")
}

// keyMemory is the number of keys under a prefix and their MEMORY USAGE
// sum, in bytes.
type keyMemory struct {
	keys  int
	bytes int64
}

// prefixMemory sums MEMORY USAGE over the run's keys. Unlike used_memory
// it excludes other users of the same Redis server.
func prefixMemory(ctx context.Context, rdb *redis.Client, prefix string) (keyMemory, error) {
	var m keyMemory
	iter := rdb.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
	for iter.Next(ctx) {
		n, err := rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
		if err != nil && err != redis.Nil {
			return m, fmt.Errorf("read MEMORY USAGE of %s: %w", iter.Val(), err)
		}
		m.keys++
		m.bytes += n
	}
	if err := iter.Err(); err != nil {
		return m, fmt.Errorf("scan keys under {%s}: %w", prefix, err)
	}
	return m, nil
}

func countPatches(fk *fakes) int {
	n := 0
	for _, r := range fk.SCIM.Requests() {
		if r.Method == http.MethodPatch {
			n++
		}
	}
	return n
}
