package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/mapping"
	"github.com/entrabridge/entrabridge/internal/plan"
)

// Dead-letter reasons. docs/operations.md explains each with what an admin
// should do.
const (
	ReasonUnmapped         = "unmapped"
	ReasonAmbiguousMapping = "ambiguous_mapping"
	ReasonUnverifiedDomain = "unverified_domain"
	ReasonSCIMConflict     = "scim_conflict"
	ReasonSCIMUnauthorized = "scim_unauthorized"
	ReasonSCIMRejected     = "scim_rejected"
	ReasonSCIMUserNotFound = "scim_user_not_found"
	ReasonGraphRejected    = "graph_rejected"
	ReasonRetriesExhausted = "retries_exhausted"
)

// verdict is what to do with a failed sync.
type verdict struct {
	// reason is empty for a retry.
	reason string
	detail string
}

// classify decides, in one place, whether a failed sync is retried or
// dead-lettered, and with which reason.
func classify(err error) verdict {
	switch {
	case errors.Is(err, mapping.ErrUnmapped):
		return verdict{ReasonUnmapped, withFix(err,
			"provision the user to Atlassian, or map it with `entrabridge mapping set`")}
	case errors.Is(err, mapping.ErrAmbiguous):
		return verdict{ReasonAmbiguousMapping, withFix(err,
			"remove the duplicate SCIM users or map the right one with `entrabridge mapping set`")}
	case errors.Is(err, plan.ErrUnverifiedDomain):
		return verdict{ReasonUnverifiedDomain, withFix(err,
			"verify and claim the domain in Atlassian Administration and add it to "+
				"ATLASSIAN_VERIFIED_DOMAINS, then retry the dead letter")}
	}

	var fe *failure.Error
	if !errors.As(err, &fe) {
		return verdict{detail: err.Error()}
	}
	if fe.Class == failure.Retryable {
		return verdict{detail: err.Error()}
	}
	if fe.Service == "graph" {
		return verdict{ReasonGraphRejected, withFix(err,
			"check the app's User.Read.All permission and admin consent")}
	}
	switch {
	case fe.Status == http.StatusConflict:
		return verdict{ReasonSCIMConflict, withFix(err,
			"another SCIM user holds this address. If that user is being renamed too, the bridge "+
				"retries this entry once the rename frees the address; otherwise rename or remove "+
				"the other account, then retry")}
	case fe.Status == http.StatusUnauthorized || fe.Status == http.StatusForbidden:
		return verdict{ReasonSCIMUnauthorized, withFix(err,
			"renew the directory API key in ATLASSIAN_SCIM_TOKEN, then retry")}
	case fe.Class == failure.NotFound:
		return verdict{ReasonSCIMUserNotFound, withFix(err,
			"the SCIM user was deleted or deactivated; re-provision it or fix the mapping")}
	}
	return verdict{ReasonSCIMRejected, err.Error()}
}

// withFix returns the error text followed by what an admin should do.
func withFix(err error, fix string) string {
	return strings.TrimRight(err.Error(), ". ") + ". Fix: " + fix
}

// fail ends the claim of a failed sync: a retry after a backoff, or a dead
// letter when the failure is permanent or retries are used up.
func (w *Worker) fail(ctx context.Context, job bridge.Job, err error) Result {
	v := classify(err)
	if v.reason == "" && w.retriesExhausted(job) {
		v.reason = ReasonRetriesExhausted
		v.detail = fmt.Sprintf("gave up after %d attempts: %s", job.Attempt+1, v.detail)
	}
	if v.reason != "" {
		return w.deadLetter(ctx, job, v)
	}

	wait := w.backoff(job.Attempt)
	if ra := failure.RetryAfterOf(err); ra > wait {
		wait = ra
	}
	w.pauseAfterThrottling(ctx, err, wait)
	w.log.Warn("sync failed; retrying later", "user_id", job.UserID, "attempt", job.Attempt+1,
		"retry_in_ms", wait.Milliseconds(), "err", w.redact(err.Error()))
	if rerr := w.store.Retry(ctx, job, time.Now().Add(wait), err.Error()); rerr != nil {
		w.log.Error("schedule retry failed; the claim will lapse and the user be synced again",
			"user_id", job.UserID, "err", rerr)
	}
	return ResultRetry
}

// release ends the claim of a sync cancelled by shutdown, making the user
// due again at once so another worker picks it up. The store counts it as
// a failed attempt.
func (w *Worker) release(ctx context.Context, job bridge.Job) Result {
	if err := w.store.Retry(ctx, job, time.Now(), "released at shutdown"); err != nil {
		w.log.Error("release sync at shutdown failed; the claim will lapse and the user be synced again",
			"user_id", job.UserID, "err", err)
	}
	return ResultRetry
}

func (w *Worker) deadLetter(ctx context.Context, job bridge.Job, v verdict) Result {
	id, err := w.store.DeadLetter(ctx, job, v.reason, v.detail, w.cfg.Debounce)
	if err != nil {
		w.log.Error("dead-letter failed; the claim will lapse and the user be synced again",
			"user_id", job.UserID, "reason", v.reason, "err", w.redact(err.Error()))
		return ResultRetry
	}
	w.log.Error("sync dead-lettered", "user_id", job.UserID, "reason", v.reason,
		"dead_letter_id", id, "attempt", job.Attempt+1, "detail", w.redact(v.detail))
	return ResultDeadLettered
}

func (w *Worker) retriesExhausted(job bridge.Job) bool {
	if job.Attempt+1 >= w.cfg.MaxAttempts {
		return true
	}
	return !job.FirstFailure.IsZero() && time.Since(job.FirstFailure) > w.cfg.MaxRetryAge
}

// backoff returns the delay before the retry after attempt failures:
// BackoffBase doubled per attempt and capped at BackoffMax, then drawn at
// random from its upper half so that retries of many users spread out.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.cfg.BackoffMax
	if attempt < 30 {
		d = min(w.cfg.BackoffBase<<attempt, w.cfg.BackoffMax)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// pauseAfterThrottling pauses the whole pool for wait after a SCIM 429 or
// a Graph 429 or 503, because the limit is the service's, not this job's.
func (w *Worker) pauseAfterThrottling(ctx context.Context, err error, wait time.Duration) {
	var fe *failure.Error
	if !errors.As(err, &fe) {
		return
	}
	var pauser Pauser
	switch {
	case fe.Service == "scim" && fe.Status == http.StatusTooManyRequests:
		pauser = w.pauser
	case fe.Service == "graph" && (fe.Status == http.StatusTooManyRequests || fe.Status == http.StatusServiceUnavailable):
		pauser = w.cfg.GraphPauser
	}
	if pauser == nil {
		return
	}
	if perr := pauser.Pause(ctx, wait); perr != nil {
		w.log.Error("pause requests after throttling failed", "service", fe.Service, "err", perr)
	}
}
