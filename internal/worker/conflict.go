package worker

import (
	"context"
	"strings"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// conflictScan is how many of the newest dead letters are searched for
// conflicts a PATCH may have resolved.
const conflictScan = 200

// retryFreedConflicts retries the scim_conflict dead letters that name an
// address this PATCH moved away from. Graph documents no order for
// notifications, so when one user takes over another's old address, the
// taker's PATCH may reach Atlassian first and fail with 409 uniqueness;
// once the holder's rename lands, the taker can be synced. Failures are
// only logged: the dead letter stays for an operator.
func (w *Worker) retryFreedConflicts(ctx context.Context, e bridge.AuditEntry) {
	var freed []string
	if e.BeforeUserName != "" && !strings.EqualFold(e.BeforeUserName, e.AfterUserName) {
		freed = append(freed, strings.ToLower(e.BeforeUserName))
	}
	if e.BeforeEmail != "" && !strings.EqualFold(e.BeforeEmail, e.AfterEmail) {
		freed = append(freed, strings.ToLower(e.BeforeEmail))
	}
	if len(freed) == 0 {
		return
	}

	dls, err := w.store.DeadLetters(ctx, conflictScan)
	if err != nil {
		w.log.Error("read dead letters to retry resolved conflicts failed", "user_id", e.UserID, "err", err)
		return
	}
	for _, dl := range dls {
		if dl.Reason != ReasonSCIMConflict || !mentionsAny(strings.ToLower(dl.Detail), freed) {
			continue
		}
		if err := w.store.RetryDeadLetter(ctx, dl.ID); err != nil {
			w.log.Error("retry resolved conflict failed", "dead_letter_id", dl.ID, "err", err)
			continue
		}
		w.log.Info("retrying a conflict that a rename resolved", "dead_letter_id", dl.ID,
			"user_id", dl.UserID, "freed_by", e.UserID)
	}
}

func mentionsAny(text string, words []string) bool {
	for _, w := range words {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}
