package subscription

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// Kinds of delta round, as recorded in redisstore.DeltaRun.Mode.
const (
	// ModeBaseline is the first full round with apply off: it records
	// each user's current values as the snapshot instead of queueing a
	// sync, because the bridge has nothing to compare them with.
	ModeBaseline = "baseline"
	// ModeFull is a full round that queues a sync for every user whose
	// snapshot is missing or differs: the first round with apply on, or a
	// resync after Graph rejected the delta link.
	ModeFull = "full"
	// ModeIncremental continues from the stored delta link and queues a
	// sync for every user Graph reports as changed.
	ModeIncremental = "incremental"
)

// DeltaChangeType is the ChangeType of the changes the Reconciler queues.
const DeltaChangeType = "delta"

// maxDeltaPages bounds one round, so that a server that keeps sending
// new next links cannot keep a run going forever. At Graph's default page
// size of 100 users it allows 10 million users.
// NOTE: Graph documents no default page size for users delta; 100 is the
// usual page size of directory collections.
const maxDeltaPages = 100_000

// ReconcilerConfig configures a Reconciler.
type ReconcilerConfig struct {
	// Observer, if not nil, receives the outcome of every run.
	Observer Observer
	// Logger receives the Reconciler's logs. If nil, they are discarded.
	Logger *slog.Logger
	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
}

// Reconciler catches up on user changes that no notification reported,
// through Graph's users delta query. It is safe for concurrent use, and
// runs one round at a time per process. Rounds on two replicas at once,
// such as a manual run beside the leader's, are safe but do the work
// twice: both queue the same users, which the queue coalesces, and the
// delta link of the round that ends last is kept.
type Reconciler struct {
	source DeltaSource
	store  ReconcilerStore
	cfg    ReconcilerConfig
	log    *slog.Logger

	mu sync.Mutex
}

// NewReconciler returns a Reconciler that reads source and keeps its
// state in store.
func NewReconciler(source DeltaSource, store ReconcilerStore, cfg ReconcilerConfig) *Reconciler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reconciler{source: source, store: store, cfg: cfg, log: cfg.Logger}
}

// LastRun returns the outcome of the last run of any replica, or false
// when none was recorded.
func (r *Reconciler) LastRun(ctx context.Context) (redisstore.DeltaRun, bool, error) {
	run, ok, err := r.store.LastDeltaRun(ctx)
	if err != nil {
		return run, false, fmt.Errorf("read last delta run: %w", err)
	}
	return run, ok, nil
}

// Run reads one delta round and queues a sync, with ChangeType "delta",
// for each user whose userPrincipalName or mail may have changed.
//
// Without a stored delta link it reads every user. With apply off, that
// first round records a baseline: each user without a snapshot gets one
// with the current values, and only users whose existing snapshot differs
// are queued. With apply on, every user whose snapshot is missing or
// differs is queued. With a stored delta link it reads only the changes
// since, and queues every changed user that Graph did not report as
// removed. When Graph rejects the stored link (see ResyncRequired), Run
// starts over with a full round as if apply were on, because changes may
// have been missed meanwhile.
//
// The new delta link is stored only after the whole round succeeded, so a
// failed run is repeated from the same link. Run records its outcome in
// the store, reports it to the Observer and returns it.
func (r *Reconciler) Run(ctx context.Context, apply bool) (redisstore.DeltaRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	run := redisstore.DeltaRun{StartedAt: r.cfg.Now()}
	err := r.run(ctx, apply, &run)
	run.FinishedAt = r.cfg.Now()
	run.OK = err == nil
	if err != nil {
		run.Error = err.Error()
	}

	// The outcome is recorded even when ctx ended, so that the next run
	// is scheduled from this one.
	if saveErr := r.store.SaveDeltaRun(context.WithoutCancel(ctx), run); saveErr != nil {
		err = errors.Join(err, fmt.Errorf("record delta run: %w", saveErr))
	}
	if r.cfg.Observer != nil {
		r.cfg.Observer.DeltaRun(run.OK, run.FinishedAt, run.Changed)
	}
	r.logRun(run, err)
	return run, err
}

func (r *Reconciler) run(ctx context.Context, apply bool, run *redisstore.DeltaRun) error {
	link, err := r.store.DeltaLink(ctx)
	if err != nil {
		return fmt.Errorf("read delta link: %w", err)
	}
	mode := ModeIncremental
	switch {
	case link == "" && apply:
		mode = ModeFull
	case link == "":
		mode = ModeBaseline
	}

	err = r.round(ctx, link, mode, run)
	if link == "" || !ResyncRequired(err) {
		return err
	}

	r.log.Warn("graph rejected the stored delta link; starting a full resync", "err", err)
	run.Resynced = true
	if err := r.store.SaveDeltaLink(ctx, ""); err != nil {
		return fmt.Errorf("clear rejected delta link: %w", err)
	}
	return r.round(ctx, "", ModeFull, run)
}

// round reads the pages of one delta round from link ("" for a full
// round) and stores the delta link that ends it.
func (r *Reconciler) round(ctx context.Context, link string, mode string, run *redisstore.DeltaRun) error {
	run.Mode = mode
	queued := make(map[string]bool)
	next := link
	for page := 1; page <= maxDeltaPages; page++ {
		p, err := r.source.UsersDelta(ctx, next)
		if err != nil {
			return fmt.Errorf("read users delta page %d: %w", page, err)
		}
		if err := r.applyPage(ctx, p, mode, run, queued); err != nil {
			return fmt.Errorf("apply users delta page %d: %w", page, err)
		}

		switch {
		case p.DeltaLink != "":
			if err := r.store.SaveDeltaLink(ctx, p.DeltaLink); err != nil {
				return fmt.Errorf("save delta link: %w", err)
			}
			return nil
		case p.NextLink == "":
			return fmt.Errorf("users delta page %d has neither @odata.nextLink nor @odata.deltaLink", page)
		case p.NextLink == next:
			return fmt.Errorf("users delta page %d links to itself", page)
		}
		next = p.NextLink
	}
	return fmt.Errorf("users delta round ended after %d pages without @odata.deltaLink", maxDeltaPages)
}

// applyPage counts a page's users and queues a sync for those the mode
// selects. queued holds the users queued earlier in the round, which are
// not queued again.
func (r *Reconciler) applyPage(ctx context.Context, p DeltaPage, mode string, run *redisstore.DeltaRun, queued map[string]bool) error {
	var present []bridge.Snapshot
	for _, u := range p.Users {
		switch {
		case u.ID == "":
			r.log.Warn("users delta entry without an id ignored")
		case u.Removed != "":
			run.Removed++
			r.log.Debug("user removed from the directory; nothing queued", "user_id", u.ID, "reason", u.Removed)
		default:
			run.Users++
			present = append(present, bridge.Snapshot{UserID: u.ID, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail})
		}
	}

	var changed []string
	if mode == ModeIncremental {
		for _, u := range present {
			changed = append(changed, u.UserID)
		}
	} else {
		stale, saved, err := r.store.CompareSnapshots(ctx, present, mode == ModeBaseline)
		if err != nil {
			return err
		}
		run.Baselined += saved
		changed = stale
	}
	return r.enqueue(ctx, changed, run, queued)
}

// enqueue queues a sync for each user not queued yet in this round.
func (r *Reconciler) enqueue(ctx context.Context, userIDs []string, run *redisstore.DeltaRun, queued map[string]bool) error {
	now := r.cfg.Now()
	var changes []bridge.Change
	for _, id := range userIDs {
		if queued[id] {
			continue
		}
		queued[id] = true
		changes = append(changes, bridge.Change{UserID: id, ChangeType: DeltaChangeType, ReceivedAt: now})
	}
	if len(changes) == 0 {
		return nil
	}
	// The worker's bulk rounds read marked users although their own delta
	// link no longer reports the change.
	if marker, ok := r.store.(changeMarker); ok {
		ids := make([]string, len(changes))
		for i, c := range changes {
			ids[i] = c.UserID
		}
		if err := marker.MarkChanged(ctx, ids, now); err != nil {
			return fmt.Errorf("mark %d changed users: %w", len(ids), err)
		}
	}
	if err := r.store.Enqueue(ctx, changes, nil); err != nil {
		return fmt.Errorf("queue %d changed users: %w", len(changes), err)
	}
	run.Changed += len(changes)
	return nil
}

// changeMarker records users a delta round reported changed;
// redisstore.Store meets it.
type changeMarker interface {
	MarkChanged(ctx context.Context, userIDs []string, at time.Time) error
}

func (r *Reconciler) logRun(run redisstore.DeltaRun, err error) {
	attrs := []any{
		"mode", run.Mode, "users", run.Users, "changed", run.Changed, "removed", run.Removed,
		"baselined", run.Baselined, "resynced", run.Resynced,
		"duration_ms", run.FinishedAt.Sub(run.StartedAt).Milliseconds(),
	}
	if err != nil {
		r.log.Error("delta run failed", append(attrs, "err", err)...)
		return
	}
	r.log.Info("delta run finished", attrs...)
}
