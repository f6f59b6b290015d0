package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// keyspace hands out the Redis key prefixes of one run and deletes their
// keys. Every prefix starts with "benchbridge-" and the run's random ID,
// so runs never touch each other's keys or anyone else's.
type keyspace struct {
	rdb   *redis.Client
	runID string

	mu       sync.Mutex
	prefixes []string
}

func openKeyspace(ctx context.Context, url string) (*keyspace, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL is invalid: %w", err)
	}
	rdb := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pingCtx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("ping redis at %s: %w: start Redis or set REDIS_URL", opts.Addr, err)
	}
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	return &keyspace{rdb: rdb, runID: "benchbridge-" + hex.EncodeToString(id)}, nil
}

// prefix returns a new prefix for one server under test, valid as
// entrabridge's REDIS_KEY_PREFIX.
func (k *keyspace) prefix(name string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := fmt.Sprintf("%s-%d-%s", k.runID, len(k.prefixes), name)
	k.prefixes = append(k.prefixes, p)
	return p
}

// purge deletes the keys under every prefix handed out so far and returns
// how many it deleted.
func (k *keyspace) purge(ctx context.Context) (int, error) {
	k.mu.Lock()
	prefixes := append([]string(nil), k.prefixes...)
	k.mu.Unlock()

	total := 0
	for _, p := range prefixes {
		// The store is only a view on k.rdb, so it is not closed, which would
		// close rdb.
		n, err := redisstore.New(k.rdb, redisstore.Options{Prefix: p}).Purge(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete keys under %s: %w", p, err)
		}
	}
	return total, nil
}

// streamKey returns the key the bare baseline appends to under prefix, in
// the "{prefix}:name" form that purge deletes.
func streamKey(prefix string) string { return "{" + prefix + "}:bare" }

// version returns the Redis server version from INFO.
func (k *keyspace) version(ctx context.Context) string {
	info, err := k.rdb.Info(ctx, "server").Result()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return "unknown"
}

func (k *keyspace) close() error { return k.rdb.Close() }
