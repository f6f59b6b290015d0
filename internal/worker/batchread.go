package worker

import (
	"context"
	"slices"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/plan"
)

// BatchDirectory reads many users with one call; the graph package's
// client, adapted in cmd/, meets it with Graph JSON batching. A Directory
// that also meets BatchDirectory has users read in batches whenever the
// dispatcher claims more than one at once.
type BatchDirectory interface {
	// GetUsers returns the users it read and an error for every other
	// ID, a failure.NotFound error for a missing user.
	GetUsers(ctx context.Context, ids []string) (map[string]plan.EntraUser, map[string]error)
}

// batchReadSize is how many claimed users one GetUsers call reads before
// their syncs start, so that the first syncs need not wait for the reads
// of a whole bulk batch and no read grows stale while others run.
const batchReadSize = 100

// userRead is the result of reading one user from Graph ahead of its
// sync.
type userRead struct {
	user plan.EntraUser
	err  error
	// at is when the read was sent, for clearing the changed mark.
	at time.Time
}

// readUsers reads the users of jobs with one GetUsers call, or returns nil
// when the directory cannot read in batches or there are fewer than two
// jobs. The reads end before the earliest lease of the jobs would make
// their syncs give up.
func (w *Worker) readUsers(ctx context.Context, jobs []bridge.Job) map[string]userRead {
	if w.batchDir == nil || len(jobs) < 2 {
		return nil
	}
	ids := make([]string, len(jobs))
	deadline := jobs[0].LeaseUntil
	for i, job := range jobs {
		ids[i] = job.UserID
		if job.LeaseUntil.Before(deadline) {
			deadline = job.LeaseUntil
		}
	}
	readCtx, cancel := context.WithDeadlineCause(ctx, deadline.Add(-w.cfg.leaseMargin()), errLeaseEnding)
	defer cancel()

	at := time.Now()
	found, failed := w.batchDir.GetUsers(readCtx, ids)
	reads := make(map[string]userRead, len(ids))
	for _, id := range ids {
		if err, ok := failed[id]; ok {
			reads[id] = userRead{err: err, at: at}
		} else if u, ok := found[id]; ok {
			reads[id] = userRead{user: u, at: at}
		}
	}
	return reads
}

// startSyncs reads the users of jobs in chunks of batchReadSize and
// starts one sync per job, waiting for a free slot for each.
func (w *Worker) startSyncs(syncCtx context.Context, jobs []bridge.Job, slots chan struct{}, syncs syncGroup) {
	for chunk := range slices.Chunk(jobs, batchReadSize) {
		reads := w.readUsers(syncCtx, chunk)
		for _, job := range chunk {
			read, ok := reads[job.UserID]
			slots <- struct{}{}
			syncs.Go(func() {
				defer func() { <-slots }()
				if ok {
					w.process(syncCtx, job, &read)
				} else {
					w.process(syncCtx, job, nil)
				}
			})
		}
	}
}

// syncGroup is the part of sync.WaitGroup startSyncs uses.
type syncGroup interface{ Go(func()) }
