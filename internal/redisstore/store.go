package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Defaults for zero Options fields.
const (
	DefaultPrefix         = "entrabridge"
	DefaultInboxRetention = 72 * time.Hour
	DefaultAuditMaxLen    = 100_000
)

// lifecycleMaxLen bounds the lifecycle stream. Graph sends few lifecycle
// notifications, so this keeps months of them while stopping unbounded
// growth of acknowledged entries.
const lifecycleMaxLen = 10_000

// staleReadAfter is how long an entry may stay delivered but unacknowledged
// before another consumer takes it over. Processing a batch is one script
// call, so a live consumer acknowledges far sooner.
const staleReadAfter = 30 * time.Second

var (
	// ErrLeaseLost is returned when a job's lease is held by another owner,
	// or expired and was reclaimed.
	ErrLeaseLost = errors.New("redisstore: lease lost")
	// ErrNotFound is returned when an addressed entry does not exist.
	ErrNotFound = errors.New("redisstore: not found")
)

// Options configures a Store.
type Options struct {
	// Prefix is put in braces at the start of every key. If empty,
	// DefaultPrefix. It must not contain '{' or '}'.
	Prefix string
	// InboxRetention is how long TrimInbox keeps processed inbox entries,
	// so that ReplayInbox has history. If zero, DefaultInboxRetention.
	// Entries the scheduler has not acknowledged are never trimmed, so a
	// long scheduler outage grows the stream instead of losing
	// notifications.
	InboxRetention time.Duration
	// AuditMaxLen caps the audit stream (approximate trimming on each
	// XADD). If zero, DefaultAuditMaxLen.
	AuditMaxLen int64
}

// Validate reports an invalid option, naming the field.
func (o Options) Validate() error {
	if strings.ContainsAny(o.Prefix, "{}") {
		return fmt.Errorf("redisstore: invalid prefix %q: it must not contain '{' or '}', which mark the Redis Cluster hash tag", o.Prefix)
	}
	if o.InboxRetention < 0 {
		return fmt.Errorf("redisstore: invalid inbox retention %s: it must be positive, or zero for %s", o.InboxRetention, DefaultInboxRetention)
	}
	if o.AuditMaxLen < 0 {
		return fmt.Errorf("redisstore: invalid audit max length %d: it must be positive, or zero for %d", o.AuditMaxLen, DefaultAuditMaxLen)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.InboxRetention == 0 {
		o.InboxRetention = DefaultInboxRetention
	}
	if o.AuditMaxLen == 0 {
		o.AuditMaxLen = DefaultAuditMaxLen
	}
	return o
}

// Store keeps the bridge's durable state in Redis. It is safe for
// concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	keys keys
	opts Options

	// staleReadAfter is how long a delivered entry stays unacknowledged
	// before Schedule or ReadLifecycle takes it over; tests shorten it.
	staleReadAfter time.Duration

	// embedded is the in-process server started by OpenEmbedded, or nil.
	embedded *miniredis.Miniredis

	// commits sends the single-command writes of Enqueue in shared
	// pipelines.
	commits *groupCommitter

	mu sync.Mutex
	// groupsReady records the streams whose consumer group exists.
	groupsReady map[string]bool
	// claimCursors holds the XAUTOCLAIM position per stream, so repeated
	// calls walk the whole pending list.
	claimCursors map[string]string
}

// New returns a Store on rdb. It panics when opts is invalid (see
// Options.Validate); Open and OpenEmbedded return the error instead.
// Close closes rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	opts = opts.withDefaults()
	return &Store{
		rdb:            rdb,
		keys:           newKeys(opts.Prefix),
		opts:           opts,
		staleReadAfter: staleReadAfter,
		groupsReady:    make(map[string]bool),
		claimCursors:   make(map[string]string),
		commits:        newGroupCommitter(rdb),
	}
}

// Open parses a redis:// or rediss:// URL, connects and pings, and returns
// a Store on that server.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: invalid Redis URL: %w", err)
	}
	// Without this, go-redis ignores context deadlines on reads and
	// writes, and a Redis that hangs holds a webhook request for the full
	// socket timeout instead of the receiver's enqueue timeout.
	ro.ContextTimeoutEnabled = true
	rdb := redis.NewClient(ro)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redisstore: ping %s: %w", ro.Addr, err)
	}
	return New(rdb, opts), nil
}

// OpenEmbedded starts an in-process miniredis server on a free port of
// 127.0.0.1 and returns a Store on it and the server's address. The data
// lives in memory only and is lost on Close.
func OpenEmbedded(opts Options) (*Store, string, error) {
	if err := opts.Validate(); err != nil {
		return nil, "", err
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, "", fmt.Errorf("redisstore: start embedded Redis: %w", err)
	}
	// Without this, miniredis keys with a TTL never expire on their own,
	// and a Pause would never end.
	m.ClockTTL(true)
	s := New(redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true}), opts)
	s.embedded = m
	return s, m.Addr(), nil
}

// Close closes the Redis client and stops the embedded server, if any.
func (s *Store) Close() error {
	s.commits.shutdown()
	err := s.rdb.Close()
	if s.embedded != nil {
		s.embedded.Close()
	}
	if err != nil {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// Ping checks that Redis responds.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Prefix returns the key prefix in use.
func (s *Store) Prefix() string { return s.keys.prefix }

// Purge deletes every key under the store's prefix (SCAN MATCH, then DEL)
// and returns how many it deleted. Keys of other prefixes stay. It is
// meant for tests and for retiring a prefix, never for a running bridge.
func (s *Store) Purge(ctx context.Context) (int, error) {
	deleted := 0
	var cursor uint64
	for {
		batch, next, err := s.rdb.Scan(ctx, cursor, s.keys.pattern(), 1000).Result()
		if err != nil {
			return deleted, fmt.Errorf("redisstore: scan keys: %w", err)
		}
		if len(batch) > 0 {
			n, err := s.rdb.Del(ctx, batch...).Result()
			if err != nil {
				return deleted, fmt.Errorf("redisstore: delete keys: %w", err)
			}
			deleted += int(n)
		}
		if next == 0 {
			return deleted, nil
		}
		cursor = next
	}
}
