package redisstore

import (
	"context"
	"fmt"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// Snapshot returns what the bridge last wrote to, or confirmed in,
// Atlassian for a user, or false when it has no snapshot.
func (s *Store) Snapshot(ctx context.Context, userID string) (bridge.Snapshot, bool, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.user(userID)).Result()
	if err != nil {
		return bridge.Snapshot{}, false, fmt.Errorf("redisstore: read snapshot of user %s: %w", userID, err)
	}
	if len(h) == 0 {
		return bridge.Snapshot{}, false, nil
	}
	return bridge.Snapshot{
		UserID:            userID,
		UserPrincipalName: h["upn"],
		Mail:              h["mail"],
		ScimUserID:        h["scim_id"],
		SyncedAt:          timeFromMillis(h["synced_at"]),
	}, true, nil
}

// SaveSnapshot replaces the snapshot of snap.UserID.
func (s *Store) SaveSnapshot(ctx context.Context, snap bridge.Snapshot) error {
	syncedAt := "0"
	if !snap.SyncedAt.IsZero() {
		syncedAt = millis(snap.SyncedAt)
	}
	err := s.rdb.HSet(ctx, s.keys.user(snap.UserID),
		"upn", snap.UserPrincipalName,
		"mail", snap.Mail,
		"scim_id", snap.ScimUserID,
		"synced_at", syncedAt,
	).Err()
	if err != nil {
		return fmt.Errorf("redisstore: save snapshot of user %s: %w", snap.UserID, err)
	}
	return nil
}

// DeleteSnapshot deletes the record of what the bridge last synced for
// userID, so that its next sync compares Graph with the SCIM record.
func (s *Store) DeleteSnapshot(ctx context.Context, userID string) error {
	if err := s.rdb.Del(ctx, s.keys.user(userID)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete snapshot of user %s: %w", userID, err)
	}
	return nil
}
