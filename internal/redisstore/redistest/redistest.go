// Package redistest gives tests a Redis server and a store on a key prefix
// of their own, so tests can run in parallel against one shared Redis and
// clean up only their keys.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/redis/go-redis/v9"
)

// localURL is the Redis tests use when REDIS_URL is unset and it responds.
// It is a variable so this package's tests can point it at a closed port.
var localURL = "redis://127.0.0.1:6379/0"

// probeTimeout bounds the PING that decides whether localURL is usable.
const probeTimeout = 300 * time.Millisecond

// URL returns a Redis URL for tests: REDIS_URL when set; otherwise
// redis://127.0.0.1:6379/0 when it responds to PING within 300 ms;
// otherwise an in-process miniredis started for the test and closed in
// Cleanup. When CI=true and no real Redis responds, it calls tb.Fatal
// instead of falling back. It logs which one it used.
func URL(tb testing.TB) string {
	tb.Helper()
	if url := os.Getenv("REDIS_URL"); url != "" {
		tb.Logf("redistest: using REDIS_URL")
		return url
	}
	if responds(localURL) {
		tb.Logf("redistest: using %s", localURL)
		return localURL
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("redistest: no Redis at %s and REDIS_URL is unset; CI=true requires a real Redis", localURL)
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		tb.Fatalf("redistest: start miniredis: %v", err)
	}
	m.ClockTTL(true)
	tb.Cleanup(m.Close)
	tb.Logf("redistest: no Redis at %s, using miniredis at %s", localURL, m.Addr())
	return "redis://" + m.Addr()
}

func responds(url string) bool {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return false
	}
	opts.DialTimeout = probeTimeout
	opts.ReadTimeout = probeTimeout
	opts.WriteTimeout = probeTimeout
	opts.MaxRetries = -1
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	return rdb.Ping(ctx).Err() == nil
}

// Prefix returns a key prefix unique to one test ("ebtest-<random hex>")
// and registers a Cleanup that deletes every key under it with SCAN and
// DEL. It never flushes the database.
func Prefix(tb testing.TB, url string) string {
	tb.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("redistest: random prefix: %v", err)
	}
	prefix := "ebtest-" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := redisstore.Open(ctx, url, redisstore.Options{Prefix: prefix})
		if err != nil {
			tb.Errorf("redistest: delete keys of %s: %v", prefix, err)
			return
		}
		defer s.Close()
		if _, err := s.Purge(ctx); err != nil {
			tb.Errorf("redistest: delete keys of %s: %v", prefix, err)
		}
	})
	return prefix
}

// NewStore returns a Store on URL(tb) with its own Prefix(tb, ...), closed
// in Cleanup.
func NewStore(tb testing.TB) *redisstore.Store {
	tb.Helper()
	return NewStoreWith(tb, redisstore.Options{})
}

// NewStoreWith is NewStore with options; opts.Prefix is replaced by a
// unique prefix.
func NewStoreWith(tb testing.TB, opts redisstore.Options) *redisstore.Store {
	tb.Helper()
	url := URL(tb)
	opts.Prefix = Prefix(tb, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, url, opts)
	if err != nil {
		tb.Fatalf("redistest: open store: %v", err)
	}
	// Registered after Prefix's cleanup, so it runs first: the store is
	// closed before its keys are deleted.
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
