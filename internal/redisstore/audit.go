package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// auditPage is how many audit entries Audit reads per XREVRANGE.
const auditPage = 500

// AuditEntry records one SCIM PATCH, or the PATCH a dry run would have
// sent, for one user. If At is zero, AppendAudit uses the time Redis added
// the entry.
type AuditEntry = bridge.AuditEntry

// AppendAudit adds e to the audit stream, which keeps about the newest
// AuditMaxLen entries.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	values := []string{
		"user", e.UserID,
		"scim_user", e.ScimUserID,
		"before_user_name", e.BeforeUserName,
		"before_email", e.BeforeEmail,
		"after_user_name", e.AfterUserName,
		"after_email", e.AfterEmail,
		"result", e.Result,
		"dry_run", boolField(e.DryRun),
		"detail", e.Detail,
	}
	if !e.At.IsZero() {
		values = append(values, "at", millis(e.At))
	}
	err := s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: s.keys.audit,
		MaxLen: s.opts.AuditMaxLen,
		Approx: true,
		Values: values,
	}).Err()
	if err != nil {
		return fmt.Errorf("redisstore: append audit entry for user %s: %w", e.UserID, err)
	}
	return nil
}

// Audit returns up to max audit entries, newest first, that were added at
// or after since (zero means any time) and, unless userID is "", concern
// that user.
func (s *Store) Audit(ctx context.Context, userID string, since time.Time, max int) ([]AuditEntry, error) {
	if max <= 0 {
		return nil, fmt.Errorf("redisstore: invalid max %d: it must be positive", max)
	}
	stop := "-"
	if !since.IsZero() && since.UnixMilli() > 0 {
		stop = millis(since) + "-0"
	}
	var out []AuditEntry
	start := "+"
	for {
		msgs, err := s.rdb.XRevRangeN(ctx, s.keys.audit, start, stop, auditPage).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: read audit entries: %w", err)
		}
		for _, m := range msgs {
			if userID != "" && field(m.Values, "user") != userID {
				continue
			}
			out = append(out, auditEntryFrom(m))
			if len(out) == max {
				return out, nil
			}
		}
		if len(msgs) < auditPage {
			return out, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

func auditEntryFrom(m redis.XMessage) AuditEntry {
	at := timeFromMillis(field(m.Values, "at"))
	if at.IsZero() {
		at = streamIDTime(m.ID)
	}
	return AuditEntry{
		ID:             m.ID,
		At:             at,
		UserID:         field(m.Values, "user"),
		ScimUserID:     field(m.Values, "scim_user"),
		BeforeUserName: field(m.Values, "before_user_name"),
		BeforeEmail:    field(m.Values, "before_email"),
		AfterUserName:  field(m.Values, "after_user_name"),
		AfterEmail:     field(m.Values, "after_email"),
		Result:         field(m.Values, "result"),
		DryRun:         field(m.Values, "dry_run") == "1",
		Detail:         field(m.Values, "detail"),
	}
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
