package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// importBatch is how many mappings one HSET of ImportMappings carries.
const importBatch = 1000

// Mapping returns the Atlassian SCIM user ID mapped to an Entra object ID,
// or false when there is none.
func (s *Store) Mapping(ctx context.Context, objectID string) (string, bool, error) {
	id, err := s.rdb.HGet(ctx, s.keys.mapping, userKey(objectID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redisstore: read mapping of %s: %w", objectID, err)
	}
	return id, true, nil
}

// SetMapping maps an Entra object ID to an Atlassian SCIM user ID,
// replacing any earlier mapping.
func (s *Store) SetMapping(ctx context.Context, objectID, scimID string) error {
	if err := s.rdb.HSet(ctx, s.keys.mapping, userKey(objectID), scimID).Err(); err != nil {
		return fmt.Errorf("redisstore: set mapping of %s: %w", objectID, err)
	}
	return nil
}

// DeleteMapping removes the mapping of an Entra object ID; a missing
// mapping is not an error.
func (s *Store) DeleteMapping(ctx context.Context, objectID string) error {
	if err := s.rdb.HDel(ctx, s.keys.mapping, userKey(objectID)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete mapping of %s: %w", objectID, err)
	}
	return nil
}

// ImportMappings stores many mappings (Entra object ID → SCIM user ID) in
// one pipeline. It is not atomic: on error, some batches may be stored.
func (s *Store) ImportMappings(ctx context.Context, m map[string]string) error {
	if len(m) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		batch := make([]any, 0, 2*importBatch)
		for objectID, scimID := range m {
			batch = append(batch, userKey(objectID), scimID)
			if len(batch) == 2*importBatch {
				p.HSet(ctx, s.keys.mapping, batch...)
				batch = make([]any, 0, 2*importBatch)
			}
		}
		if len(batch) > 0 {
			p.HSet(ctx, s.keys.mapping, batch...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: import %d mappings: %w", len(m), err)
	}
	return nil
}

// Mappings calls fn for every mapping, in no particular order, and stops
// at the first error fn returns, which it returns unchanged. As with
// HSCAN, fn may see a mapping twice, and mappings set or deleted during
// the walk may or may not be seen.
func (s *Store) Mappings(ctx context.Context, fn func(objectID, scimID string) error) error {
	var cursor uint64
	for {
		kv, next, err := s.rdb.HScan(ctx, s.keys.mapping, cursor, "", 1000).Result()
		if err != nil {
			return fmt.Errorf("redisstore: scan mappings: %w", err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if err := fn(kv[i], kv[i+1]); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
