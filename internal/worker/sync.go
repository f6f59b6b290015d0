package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// Result is how one sync attempt ended.
type Result string

// The results of a sync attempt.
const (
	// ResultSynced means a PATCH brought Atlassian to Graph's state.
	ResultSynced Result = "synced"
	// ResultUnchanged means Atlassian already held Graph's state.
	ResultUnchanged Result = "unchanged"
	// ResultDryRun means the PATCH was recorded in the audit trail only.
	ResultDryRun Result = "dry_run"
	// ResultUserGone means Graph no longer has the user; nothing was sent.
	ResultUserGone Result = "user_gone"
	// ResultRetry means the sync failed and is due again later.
	ResultRetry Result = "retry"
	// ResultDeadLettered means the sync was given up with a reason.
	ResultDeadLettered Result = "dead_lettered"
)

// errLeaseEnding cancels a sync whose claim is about to lapse.
var errLeaseEnding = errors.New("lease about to lapse")

// process runs one sync and ends its claim according to the outcome.
// read, if not nil, is the user as a batched read found it, and the sync
// does not read Graph again.
func (w *Worker) process(ctx context.Context, job bridge.Job, read *userRead) {
	start := time.Now()
	syncCtx, cancel := context.WithDeadlineCause(ctx, job.LeaseUntil.Add(-w.cfg.leaseMargin()), errLeaseEnding)
	readAt := time.Now()
	if read != nil {
		readAt = read.at
	}
	result, err := w.syncUser(syncCtx, job, read)
	cancel()

	// The claim is ended on a fresh context, so that a shutdown which
	// cancelled the sync still releases its user.
	endCtx, cancelEnd := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelEnd()
	switch {
	case err != nil && ctx.Err() != nil:
		result = w.release(endCtx, job)
	case err != nil:
		result = w.fail(endCtx, job, err)
	default:
		if endErr := w.store.Complete(endCtx, job, w.cfg.Debounce); endErr != nil {
			w.log.Error("complete sync failed; the claim will lapse and the user be synced again",
				"user_id", job.UserID, "err", endErr)
		}
		w.clearChanged(endCtx, job.UserID, readAt)
		w.resolveDeadLetter(endCtx, job.UserID)
	}

	d := time.Since(start)
	w.log.Info("sync finished", "user_id", job.UserID, "result", string(result),
		"attempt", job.Attempt+1, "duration_ms", d.Milliseconds())
	if w.observer != nil {
		w.observer.Synced(job, result, d)
	}
}

// resolveDeadLetter deletes the user's dead letter after a sync that read
// Graph succeeded, because the failure it recorded no longer holds.
func (w *Worker) resolveDeadLetter(ctx context.Context, userID string) {
	resolved, err := w.store.ResolveDeadLetter(ctx, userID)
	if err != nil {
		w.log.Error("delete resolved dead letter failed", "user_id", userID, "err", err)
		return
	}
	if resolved {
		w.log.Info("dead letter resolved by a successful sync", "user_id", userID)
	}
}

// syncUser reads the user from Graph, unless read carries the result of
// a batched read, compares it with what was last synced and with the
// SCIM record, and sends at most one PATCH (two when Atlassian rejects
// the first email path and the other form is tried).
func (w *Worker) syncUser(ctx context.Context, job bridge.Job, read *userRead) (Result, error) {
	var u plan.EntraUser
	var err error
	if read != nil {
		u, err = read.user, read.err
	} else {
		u, err = w.dir.GetUser(ctx, job.UserID)
	}
	if failure.ClassOf(err) == failure.NotFound && err != nil {
		// Deactivating accounts is Entra provisioning's job; the bridge
		// only follows renames.
		w.log.Info("user no longer in Graph; nothing sent", "user_id", job.UserID)
		return ResultUserGone, nil
	}
	if err != nil {
		return "", fmt.Errorf("read graph user: %w", err)
	}

	snap, known, err := w.store.Snapshot(ctx, job.UserID)
	if err != nil {
		return "", fmt.Errorf("read snapshot: %w", err)
	}
	if known && snap.UserPrincipalName == u.UserPrincipalName && snap.Mail == u.Mail {
		return ResultUnchanged, nil
	}
	lastUserName := u.UserPrincipalName
	if known {
		lastUserName = snap.UserPrincipalName
	}
	return w.apply(ctx, u, lastUserName, true)
}

// apply resolves the SCIM user and patches it. When SCIM answers 404 and
// reresolve is set, the mapping is invalidated and apply runs once more.
func (w *Worker) apply(ctx context.Context, u plan.EntraUser, lastUserName string, reresolve bool) (Result, error) {
	current, err := w.resolver.Resolve(ctx, u.ID, lastUserName)
	if err != nil {
		return "", err
	}
	change, err := w.cfg.Policy.Plan(u, current)
	if err != nil {
		return "", err
	}
	if len(change.Operations) == 0 {
		return ResultUnchanged, w.saveSnapshot(ctx, u, current.ID)
	}

	entry := bridge.AuditEntry{
		UserID: u.ID, ScimUserID: current.ID,
		BeforeUserName: current.UserName, BeforeEmail: workEmail(current),
		AfterUserName: change.UserName, AfterEmail: change.Email,
	}
	if w.cfg.DryRun {
		entry.Result, entry.DryRun = string(ResultDryRun), true
		w.logPatch(u, entry)
		return ResultDryRun, w.audit(ctx, entry)
	}

	err = w.patch(ctx, current, change)
	if err != nil && reresolve && failure.ClassOf(err) == failure.NotFound {
		w.log.Warn("scim user not found; resolving the mapping again", "user_id", u.ID, "scim_user_id", current.ID)
		if err := w.resolver.Invalidate(ctx, u.ID); err != nil {
			return "", fmt.Errorf("invalidate mapping: %w", err)
		}
		return w.apply(ctx, u, lastUserName, false)
	}
	if err != nil {
		if failure.ClassOf(err) != failure.Retryable {
			entry.Result, entry.Detail = "failed", err.Error()
			w.auditBestEffort(ctx, entry)
		}
		return "", err
	}

	entry.Result = string(ResultSynced)
	w.logPatch(u, entry)
	if err := w.saveSnapshot(ctx, u, current.ID); err != nil {
		return "", err
	}
	w.retryFreedConflicts(ctx, entry)
	return ResultSynced, w.audit(ctx, entry)
}

// patch sends the change. If Atlassian rejects the email path because the
// record's emails differ from what was read (noTarget, invalidPath), it
// retries once with the other form of the email operation.
func (w *Worker) patch(ctx context.Context, current scim.User, change plan.Change) error {
	_, err := w.scim.PatchUser(ctx, current.ID, change.Operations)
	var fe *failure.Error
	if !errors.As(err, &fe) || (fe.Code != "noTarget" && fe.Code != "invalidPath") {
		return err
	}
	ops := slices.Clone(change.Operations)
	replaced := false
	for i, op := range ops {
		if op.Path != "userName" {
			ops[i] = plan.EmailOperation(current, change.Email, true)
			replaced = true
		}
	}
	if !replaced {
		return err
	}
	w.log.Warn("scim rejected the email path; retrying with the other form",
		"scim_user_id", current.ID, "scim_type", fe.Code)
	_, err = w.scim.PatchUser(ctx, current.ID, ops)
	return err
}

func (w *Worker) saveSnapshot(ctx context.Context, u plan.EntraUser, scimID string) error {
	err := w.store.SaveSnapshot(ctx, bridge.Snapshot{
		UserID: u.ID, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail,
		ScimUserID: scimID, SyncedAt: time.Now(),
	})
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	return nil
}

func (w *Worker) audit(ctx context.Context, e bridge.AuditEntry) error {
	e.At = time.Now()
	if err := w.store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// auditBestEffort records a failed PATCH; the failure itself is what the
// caller reports, so an audit error is only logged.
func (w *Worker) auditBestEffort(ctx context.Context, e bridge.AuditEntry) {
	if err := w.audit(ctx, e); err != nil {
		w.log.Error("record failed patch in audit trail", "user_id", e.UserID, "err", err)
	}
}

func (w *Worker) logPatch(u plan.EntraUser, e bridge.AuditEntry) {
	attrs := []any{"user_id", u.ID, "scim_user_id", e.ScimUserID, "result", e.Result}
	if w.cfg.LogUserDetails {
		attrs = append(attrs, "before_user_name", e.BeforeUserName, "after_user_name", e.AfterUserName,
			"before_email", e.BeforeEmail, "after_email", e.AfterEmail)
	}
	msg := "scim user patched"
	if e.DryRun {
		msg = "scim patch recorded, not sent (dry run)"
	}
	w.log.Log(context.Background(), slog.LevelInfo, msg, attrs...)
}

func workEmail(u scim.User) string {
	e, _ := u.WorkEmail()
	return e.Value
}

// clearChanged removes the user's changed mark after a sync that read
// Graph at readAt, unless a delta round marked it again since.
func (w *Worker) clearChanged(ctx context.Context, userID string, readAt time.Time) {
	if w.bulk == nil {
		return
	}
	if err := w.bulk.ClearChanged(ctx, userID, readAt); err != nil {
		w.log.Error("clear changed mark failed; the next bulk round reads the user again",
			"user_id", userID, "err", err)
	}
}
