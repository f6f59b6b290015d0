package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultReadCount is the batch size when a caller passes count ≤ 0;
// without it XREADGROUP would return the whole backlog at once.
const defaultReadCount = 100

// readGroup returns up to count entries of stream for consumer in group.
// It first takes over entries another consumer read but did not
// acknowledge within s.staleReadAfter (that consumer crashed), and only
// when there are none reads new entries, blocking up to block. A block
// below one millisecond does not block.
func (s *Store) readGroup(ctx context.Context, stream, group, consumer string, count int64, block time.Duration) ([]redis.XMessage, error) {
	if count <= 0 {
		count = defaultReadCount
	}
	msgs, err := s.readGroupOnce(ctx, stream, group, consumer, count, block)
	if isNoGroup(err) {
		// The stream or group vanished, e.g. after a Redis restart
		// without persistence: create it again and retry once.
		s.setGroupReady(stream, false)
		msgs, err = s.readGroupOnce(ctx, stream, group, consumer, count, block)
	}
	return msgs, err
}

func (s *Store) readGroupOnce(ctx context.Context, stream, group, consumer string, count int64, block time.Duration) ([]redis.XMessage, error) {
	if err := s.ensureGroup(ctx, stream, group); err != nil {
		return nil, err
	}
	stale, err := s.claimStale(ctx, stream, group, consumer, count)
	if err != nil || len(stale) > 0 {
		return stale, err
	}

	// go-redis sends BLOCK 0, which waits forever, for any Block ≥ 0 that
	// rounds to 0 ms; -1 omits BLOCK.
	b := time.Duration(-1)
	if block >= time.Millisecond {
		b = block
	}
	streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    group,
		Consumer: consumer,
		Streams:  []string{stream, ">"},
		Count:    count,
		Block:    b,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: read group %s of %s: %w", group, stream, err)
	}
	var msgs []redis.XMessage
	for _, st := range streams {
		msgs = append(msgs, st.Messages...)
	}
	return msgs, nil
}

// claimStale takes over up to count entries pending longer than
// s.staleReadAfter. It walks the pending list from where the last call
// stopped, so a long list is covered over several calls.
func (s *Store) claimStale(ctx context.Context, stream, group, consumer string, count int64) ([]redis.XMessage, error) {
	s.mu.Lock()
	start := s.claimCursors[stream]
	s.mu.Unlock()
	if start == "" {
		start = "0-0"
	}
	msgs, next, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream:   stream,
		Group:    group,
		Consumer: consumer,
		MinIdle:  s.staleReadAfter,
		Start:    start,
		Count:    count,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: claim stale entries of %s: %w", stream, err)
	}
	s.mu.Lock()
	s.claimCursors[stream] = next
	s.mu.Unlock()
	return msgs, nil
}

// ensureGroup creates group on stream, and the stream if missing, starting
// at the first entry so that entries added before any consumer ran are
// delivered too.
func (s *Store) ensureGroup(ctx context.Context, stream, group string) error {
	s.mu.Lock()
	ready := s.groupsReady[stream]
	s.mu.Unlock()
	if ready {
		return nil
	}
	err := s.rdb.XGroupCreateMkStream(ctx, stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("redisstore: create group %s on %s: %w", group, stream, err)
	}
	s.setGroupReady(stream, true)
	return nil
}

func (s *Store) setGroupReady(stream string, ready bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groupsReady[stream] = ready
	if !ready {
		delete(s.claimCursors, stream)
	}
}

func isNoGroup(err error) bool {
	return err != nil && strings.Contains(err.Error(), "NOGROUP")
}
