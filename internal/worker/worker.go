// Package worker turns queued notifications into synced Atlassian users.
//
// A Worker runs three loops against the store: the scheduler moves accepted
// notifications from the inbox into the due set, where notifications for
// one user coalesce; the reclaimer returns claims of crashed workers to the
// due set; and the dispatcher claims due users and syncs each one (read
// Graph, compare, PATCH SCIM) on a bounded pool of goroutines. A claim is a
// lease in the store, so no two workers in any replica sync one user at
// once, and every outcome ends the claim in exactly one way: completed,
// retried later, or dead-lettered with a reason.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/mapping"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// Store is the durable queue and memory the worker uses; redisstore.Store
// meets it.
type Store interface {
	mapping.Store
	Schedule(ctx context.Context, consumer string, debounce time.Duration, count int64, block time.Duration) (int, error)
	Claim(ctx context.Context, owner string, max int, lease time.Duration) ([]bridge.Job, error)
	NextDue(ctx context.Context) (time.Time, bool, error)
	Complete(ctx context.Context, job bridge.Job, debounce time.Duration) error
	Retry(ctx context.Context, job bridge.Job, at time.Time, lastErr string) error
	DeadLetter(ctx context.Context, job bridge.Job, reason, detail string, debounce time.Duration) (string, error)
	ReclaimExpired(ctx context.Context) (int, error)
	TrimInbox(ctx context.Context) error
	Snapshot(ctx context.Context, userID string) (bridge.Snapshot, bool, error)
	SaveSnapshot(ctx context.Context, snap bridge.Snapshot) error
	AppendAudit(ctx context.Context, e bridge.AuditEntry) error
	DeadLetters(ctx context.Context, max int) ([]bridge.DeadLetter, error)
	RetryDeadLetter(ctx context.Context, id string) error
	ResolveDeadLetter(ctx context.Context, userID string) (bool, error)
}

// Directory reads users from Entra; the graph package's client, adapted in
// cmd/, meets it. It returns a failure.NotFound error for a missing user.
type Directory interface {
	GetUser(ctx context.Context, id string) (plan.EntraUser, error)
}

// SCIM is the part of the Atlassian SCIM client the worker uses.
type SCIM interface {
	mapping.Directory
	PatchUser(ctx context.Context, id string, ops []scim.Operation) (scim.User, error)
}

// Pauser stops SCIM requests across the worker pool; throttle.Limiter
// meets it.
type Pauser interface {
	Pause(ctx context.Context, d time.Duration) error
	PausedFor(ctx context.Context) (time.Duration, error)
}

// Config is the worker's behaviour. Zero fields take the defaults named.
type Config struct {
	// Owner names this worker in leases; it must be unique per process.
	Owner string
	// Concurrency is how many syncs run at once; 0 means 8.
	Concurrency int
	// Debounce is the window in which notifications for one user coalesce.
	// Zero means no wait.
	Debounce time.Duration
	// Lease is how long a claim lasts; 0 means 60 s. A sync is cancelled
	// MaxLeaseMargin (or a quarter of the lease, if less) before its lease
	// ends, so a lapsed claim never overlaps a running sync.
	Lease time.Duration
	// MaxAttempts is how many failed attempts dead-letter a sync; 0 means 10.
	MaxAttempts int
	// MaxRetryAge is how long after its first failure a sync is
	// dead-lettered; 0 means 24 h.
	MaxRetryAge time.Duration
	// BackoffBase and BackoffMax bound the retry delay, which doubles per
	// attempt with full jitter; 0 means 1 s and 5 min.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// PollInterval is the longest the dispatcher sleeps when nothing is
	// due; 0 means 100 ms.
	PollInterval time.Duration
	// DryRun records each PATCH in the audit trail instead of sending it.
	DryRun bool
	// GraphPauser, when set, stops Graph requests across the worker pool
	// after Graph answered 429 or 503, and the dispatcher claims nothing
	// while Graph is paused. If nil, a throttled Graph read is only
	// retried.
	GraphPauser Pauser
	Policy      plan.Policy
	// Delta, when set and the store is a BulkStore, turns on bulk
	// resolution: once BulkThreshold users are due, the dispatcher claims
	// up to BulkBatch of them and reads Graph only for those one users
	// delta round reports changed (docs/architecture.md).
	Delta DeltaDirectory
	// BulkThreshold is how many due users start a bulk round; 0 means
	// 500 and a negative value turns bulk resolution off.
	BulkThreshold int
	// BulkBatch is how many users one bulk round claims; 0 means 5000.
	BulkBatch int
	// BulkLagAllowance is how long a change may take to show in users
	// delta; 0 means 30 s.
	BulkLagAllowance time.Duration
	// LogUserDetails allows userPrincipalName and mail in logs.
	LogUserDetails bool
	Logger         *slog.Logger
}

// MaxLeaseMargin is the longest a sync is cancelled before its lease
// ends; shorter leases use a quarter of their length.
const MaxLeaseMargin = 5 * time.Second

// leaseMargin returns how long before its lease ends a sync is cancelled.
func (c *Config) leaseMargin() time.Duration {
	return min(MaxLeaseMargin, c.Lease/4)
}

func (c *Config) setDefaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Lease <= 0 {
		c.Lease = 60 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.MaxRetryAge <= 0 {
		c.MaxRetryAge = 24 * time.Hour
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BulkThreshold == 0 {
		c.BulkThreshold = 500
	}
	if c.BulkBatch <= 0 {
		c.BulkBatch = 5000
	}
	if c.BulkLagAllowance <= 0 {
		c.BulkLagAllowance = 30 * time.Second
	}
}

// Worker syncs claimed users. Create it with New.
type Worker struct {
	cfg      Config
	store    Store
	dir      Directory
	scim     SCIM
	pauser   Pauser
	resolver *mapping.Resolver
	log      *slog.Logger
	observer Observer
	// bulk is the store as a BulkStore, or nil when it is not one.
	bulk BulkStore
	// batchDir is dir as a BatchDirectory, or nil when it is not one.
	batchDir BatchDirectory
}

// Observer receives the outcome of every sync; nil means none.
type Observer interface {
	Synced(job bridge.Job, result Result, d time.Duration)
}

// New returns a Worker. pauser may be nil, which disables the pool-wide
// pause after a SCIM 429.
func New(cfg Config, store Store, dir Directory, client SCIM, pauser Pauser) (*Worker, error) {
	if cfg.Owner == "" {
		return nil, errors.New("worker: Config.Owner is empty")
	}
	cfg.setDefaults()
	if cfg.Lease < time.Second {
		return nil, fmt.Errorf("worker: lease %s is too short: use at least 1s", cfg.Lease)
	}
	bulk, _ := store.(BulkStore)
	batchDir, _ := dir.(BatchDirectory)
	return &Worker{
		bulk:     bulk,
		batchDir: batchDir,
		cfg:      cfg,
		store:    store,
		dir:      dir,
		scim:     client,
		pauser:   pauser,
		resolver: &mapping.Resolver{Store: store, Directory: client},
		log:      cfg.Logger,
	}, nil
}

// SetObserver sets the receiver of sync outcomes. Call it before Run.
func (w *Worker) SetObserver(o Observer) { w.observer = o }

// Run runs the scheduler, reclaimer and dispatcher until ctx ends, then
// stops claiming and waits for the syncs in flight. Syncs still running
// after grace are cancelled and their users made due again at once, so
// another worker picks them up. Run returns nil after a clean stop.
func (w *Worker) Run(ctx context.Context, grace time.Duration) error {
	w.log.Info("worker started", "owner", w.cfg.Owner, "concurrency", w.cfg.Concurrency,
		"debounce", w.cfg.Debounce, "lease", w.cfg.Lease, "dry_run", w.cfg.DryRun)

	var loops sync.WaitGroup
	loops.Go(func() { w.scheduleLoop(ctx) })
	loops.Go(func() { w.reclaimLoop(ctx) })

	// Syncs run on their own context so that shutdown can let them finish.
	syncCtx, cancelSyncs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSyncs()
	var syncs sync.WaitGroup
	w.dispatch(ctx, syncCtx, &syncs)

	done := make(chan struct{})
	go func() { syncs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		w.log.Warn("shutdown grace ended with syncs in flight; releasing them", "grace", grace)
		cancelSyncs()
		<-done
	}
	loops.Wait()
	w.log.Info("worker stopped", "owner", w.cfg.Owner)
	return nil
}

// dispatch claims due users while ctx lasts and starts one sync per claim,
// at most Concurrency at a time.
func (w *Worker) dispatch(ctx, syncCtx context.Context, syncs *sync.WaitGroup) {
	slots := make(chan struct{}, w.cfg.Concurrency)
	for ctx.Err() == nil {
		if !w.waitForPause(ctx, w.pauser, "scim") || !w.waitForPause(ctx, w.cfg.GraphPauser, "graph") {
			return
		}
		free := w.cfg.Concurrency - len(slots)
		if free == 0 {
			// Wait for a slot: acquire one, then give it back to count.
			select {
			case slots <- struct{}{}:
				<-slots
			case <-ctx.Done():
				return
			}
			continue
		}
		if w.bulkDue(ctx) {
			w.startSyncs(syncCtx, w.runBulk(ctx), slots, syncs)
			continue
		}
		jobs, err := w.claim(ctx, free)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("claim failed", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(jobs) == 0 {
			sleep(ctx, w.idleWait(ctx))
			continue
		}
		w.startSyncs(syncCtx, jobs, slots, syncs)
	}
}

// claim claims up to max due users one by one. With bulk resolution on,
// it claims nothing once BulkThreshold users are due, in the same step as
// the count, so users the scheduler adds after bulkDue looked are left to
// the next bulk round instead of being read one at a time.
func (w *Worker) claim(ctx context.Context, max int) ([]bridge.Job, error) {
	if w.bulkEnabled() {
		return w.bulk.ClaimBelow(ctx, w.cfg.Owner, max, w.cfg.Lease, w.cfg.BulkThreshold)
	}
	return w.store.Claim(ctx, w.cfg.Owner, max, w.cfg.Lease)
}

// waitForPause sleeps while requests to service are paused pool-wide, so
// no worker holds a claim it cannot act on. A nil pauser never pauses. It
// reports false when ctx ended.
func (w *Worker) waitForPause(ctx context.Context, pauser Pauser, service string) bool {
	if pauser == nil {
		return true
	}
	d, err := pauser.PausedFor(ctx)
	if err != nil {
		return ctx.Err() == nil
	}
	if d > 0 {
		w.log.Info("requests paused after throttling", "service", service, "wait_ms", d.Milliseconds())
		sleep(ctx, d)
	}
	return ctx.Err() == nil
}

// idleWait returns how long to sleep when nothing is due: until the next
// due time, but at most PollInterval, because a notification may arrive.
func (w *Worker) idleWait(ctx context.Context) time.Duration {
	wait := w.cfg.PollInterval
	next, ok, err := w.store.NextDue(ctx)
	if err == nil && ok {
		if d := time.Until(next); d < wait {
			wait = max(d, 5*time.Millisecond)
		}
	}
	return wait
}

func (w *Worker) scheduleLoop(ctx context.Context) {
	for ctx.Err() == nil {
		_, err := w.store.Schedule(ctx, w.cfg.Owner, w.cfg.Debounce, 500, time.Second)
		if err != nil && ctx.Err() == nil {
			w.log.Error("schedule notifications failed", "err", err)
			sleep(ctx, time.Second)
		}
	}
}

// reclaimLoop returns lapsed claims to the due set every few seconds and
// trims the inbox history once a minute.
func (w *Worker) reclaimLoop(ctx context.Context) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	lastTrim := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := w.store.ReclaimExpired(ctx); err != nil {
			w.log.Error("reclaim lapsed claims failed", "err", err)
		} else if n > 0 {
			w.log.Warn("reclaimed lapsed claims of stopped workers", "users", n)
		}
		if time.Since(lastTrim) > time.Minute {
			lastTrim = time.Now()
			if err := w.store.TrimInbox(ctx); err != nil {
				w.log.Error("trim inbox failed", "err", err)
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
