package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

// DeltaDirectory reads users delta rounds for bulk resolution;
// *graph.Client meets it.
type DeltaDirectory interface {
	// LatestUsersDeltaLink returns a delta link that tracks changes from
	// now on ($deltaToken=latest).
	LatestUsersDeltaLink(ctx context.Context) (string, error)
	// ChangedUserIDs reads one users delta round from link and returns
	// the IDs of the users it reports, and the delta link of the next
	// round.
	ChangedUserIDs(ctx context.Context, link string) (ids []string, deltaLink string, err error)
}

// BulkStore is the state of bulk resolution; redisstore.Store meets it.
type BulkStore interface {
	DueNow(ctx context.Context) (int, error)
	ClaimBelow(ctx context.Context, owner string, max int, lease time.Duration, threshold int) ([]bridge.Job, error)
	BulkLink(ctx context.Context) (string, time.Time, error)
	SaveBulkLink(ctx context.Context, link string, origin, roundStart time.Time) error
	MarkChanged(ctx context.Context, userIDs []string, at time.Time) error
	ChangedMarks(ctx context.Context, userIDs []string) (map[string]time.Time, error)
	ClearChanged(ctx context.Context, userID string, readAt time.Time) error
	Postpone(ctx context.Context, job bridge.Job, at time.Time) error
	Enqueue(ctx context.Context, changes []bridge.Change, lifecycles []bridge.Lifecycle) error
}

// bulkRound is the result of one users delta round for a claimed batch.
type bulkRound struct {
	start time.Time
	// origin is when the chain of bulk delta links started tracking.
	origin time.Time
	// readAll is set when the round started a new chain, which reports
	// no earlier changes.
	readAll bool
	changed map[string]bool
	// link is the delta link the next round starts from. It is stored
	// only after the round's changes are marked, so that a failure in
	// between repeats the round instead of losing its changes.
	link string
}

// bulkEnabled reports whether bulk resolution is configured.
func (w *Worker) bulkEnabled() bool {
	return w.cfg.Delta != nil && w.bulk != nil && w.cfg.BulkThreshold > 0
}

// bulkDue reports whether enough users are due for a bulk round.
func (w *Worker) bulkDue(ctx context.Context) bool {
	if !w.bulkEnabled() {
		return false
	}
	n, err := w.bulk.DueNow(ctx)
	if err != nil {
		w.log.Error("count due users failed; claiming per user", "err", err)
		return false
	}
	return n >= w.cfg.BulkThreshold
}

// runBulk claims up to BulkBatch due users, resolves them with one users
// delta round, and returns the jobs that must be read from Graph. Every
// other claimed job is completed or postponed here.
func (w *Worker) runBulk(ctx context.Context) []bridge.Job {
	jobs, err := w.store.Claim(ctx, w.cfg.Owner, w.cfg.BulkBatch, w.cfg.Lease)
	if err != nil || len(jobs) == 0 {
		if err != nil && ctx.Err() == nil {
			w.log.Error("bulk claim failed", "err", err)
		}
		return nil
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()

	round, err := w.bulkRound(ctx)
	if err != nil {
		w.releaseBatch(endCtx, jobs, err)
		return nil
	}
	if err := w.markRound(endCtx, round, jobs); err != nil {
		w.releaseBatch(endCtx, jobs, err)
		return nil
	}
	origin := time.Time{} // keep the stored origin
	if round.readAll {
		origin = round.start
	}
	if err := w.bulk.SaveBulkLink(endCtx, round.link, origin, round.start); err != nil {
		w.releaseBatch(endCtx, jobs, err)
		return nil
	}
	return w.resolveBatch(endCtx, round, jobs)
}

// bulkRound reads the users delta round from the stored bulk link. With
// no link, or one Graph rejected, it starts a new chain from now on.
func (w *Worker) bulkRound(ctx context.Context) (bulkRound, error) {
	round := bulkRound{start: time.Now(), changed: map[string]bool{}}
	link, origin, err := w.bulk.BulkLink(ctx)
	if err != nil {
		return round, err
	}
	if link != "" {
		ids, next, err := w.cfg.Delta.ChangedUserIDs(ctx, link)
		switch {
		case err == nil:
			for _, id := range ids {
				round.changed[id] = true
			}
			round.origin, round.link = origin, next
			return round, nil
		case !subscription.ResyncRequired(err):
			return round, fmt.Errorf("read bulk users delta round: %w", err)
		}
		w.log.Warn("graph rejected the bulk delta link; tracking changes from now on", "err", err)
	}

	latest, err := w.cfg.Delta.LatestUsersDeltaLink(ctx)
	if err != nil {
		return round, fmt.Errorf("start bulk users delta tracking: %w", err)
	}
	// NOTE: a new chain reads the whole batch, BulkBatch/20 JSON batches
	// with a BatchDirectory, else one request per user, which may outlast
	// the lease at a low GRAPH_RATE. Lapsed claims are reclaimed and
	// synced again, so nothing is lost, but the reads are repeated.
	round.origin, round.readAll, round.link = round.start, true, latest
	return round, nil
}

// markRound marks every user the round reported as changed and queues a
// sync for those outside the batch.
func (w *Worker) markRound(ctx context.Context, round bulkRound, jobs []bridge.Job) error {
	if len(round.changed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(round.changed))
	for id := range round.changed {
		ids = append(ids, id)
	}
	if err := w.bulk.MarkChanged(ctx, ids, round.start); err != nil {
		return err
	}

	claimed := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		claimed[j.UserID] = true
	}
	var changes []bridge.Change
	for _, id := range ids {
		if !claimed[id] {
			changes = append(changes, bridge.Change{UserID: id, ChangeType: subscription.DeltaChangeType, ReceivedAt: round.start})
		}
	}
	return w.bulk.Enqueue(ctx, changes, nil)
}

// resolveBatch completes the unchanged jobs, postpones the recent ones
// and returns those that must be read.
func (w *Worker) resolveBatch(ctx context.Context, round bulkRound, jobs []bridge.Job) []bridge.Job {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.UserID
	}
	marks, err := w.bulk.ChangedMarks(ctx, ids)
	if err != nil {
		w.log.Error("read changed marks failed; reading the whole batch", "err", err)
		round.readAll = true
	}

	var mustRead []bridge.Job
	var unchanged, postponed int
	allowance := w.cfg.BulkLagAllowance
	for _, job := range jobs {
		_, marked := marks[job.UserID]
		switch {
		case round.readAll || round.changed[job.UserID] || marked:
			mustRead = append(mustRead, job)
		case job.NotifiedAt.Before(round.origin.Add(allowance)):
			// The change may predate the tracking of the bulk links.
			mustRead = append(mustRead, job)
		case newestNotification(job).After(round.start.Add(-allowance)):
			// Graph's replication may not show the change in delta yet.
			postponed++
			w.endClaim(ctx, job, "postpone", w.bulk.Postpone(ctx, job, round.start.Add(allowance)))
		default:
			unchanged++
			w.endClaim(ctx, job, "complete", w.store.Complete(ctx, job, w.cfg.Debounce))
		}
	}
	w.log.Info("bulk round resolved", "claimed", len(jobs), "changed_in_round", len(round.changed),
		"must_read", len(mustRead), "postponed", postponed, "unchanged", unchanged, "new_chain", round.readAll)
	return mustRead
}

// newestNotification returns when the newest notification the job covers
// was accepted, or the oldest when the store did not record the newest.
func newestNotification(job bridge.Job) time.Time {
	if job.LatestAt.IsZero() {
		return job.NotifiedAt
	}
	return job.LatestAt
}

// releaseBatch makes every job of a failed round due again without
// counting an attempt: after Retry-After when Graph throttled the round,
// else after the first backoff.
func (w *Worker) releaseBatch(ctx context.Context, jobs []bridge.Job, err error) {
	wait := w.backoff(0)
	if ra := failure.RetryAfterOf(err); ra > wait {
		wait = ra
	}
	w.pauseAfterThrottling(ctx, err, wait)
	w.log.Warn("bulk round failed; releasing the batch", "users", len(jobs), "retry_in_ms", wait.Milliseconds(), "err", err)
	at := time.Now().Add(wait)
	for _, job := range jobs {
		w.endClaim(ctx, job, "postpone", w.bulk.Postpone(ctx, job, at))
	}
}

func (w *Worker) endClaim(ctx context.Context, job bridge.Job, action string, err error) {
	if err != nil && ctx.Err() == nil {
		w.log.Error("end bulk claim failed; the claim will lapse and the user be synced again",
			"user_id", job.UserID, "action", action, "err", err)
	}
}
