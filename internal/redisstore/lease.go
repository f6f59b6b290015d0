package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// A job's lease is identified by its owner and its LeaseUntil, which must
// lie between the deadline Claim set and the current deadline. So
// Complete, Retry, DeadLetter and ExtendLease accept the Job from Claim or
// from any later ExtendLease of the same claim, while a job from an earlier
// claim of the same user, even by the same owner, gets ErrLeaseLost.
//
// NOTE: this relies on the Redis server's clock not going backwards by more
// than a lease between a reclaim and the next claim of the same user.

// reclaimBatch is how many expired leases one script call moves, to keep
// each call short.
const reclaimBatch = 1000

// Claim leases up to max users whose due time has come to owner until
// now+lease and returns their jobs, with Attempt, FirstFailure and
// NotifiedAt filled in. A user is never returned while another lease on it
// is held.
func (s *Store) Claim(ctx context.Context, owner string, max int, lease time.Duration) ([]bridge.Job, error) {
	if max <= 0 {
		return nil, nil
	}
	if lease < time.Millisecond {
		return nil, fmt.Errorf("redisstore: invalid lease %s: it must be at least 1ms", lease)
	}
	return s.claim(ctx, owner, max, lease, 0)
}

// ClaimBelow claims like Claim, but only while fewer than threshold users
// are due; otherwise it claims nothing, so the caller can resolve them in
// bulk. Counting and claiming are one script.
func (s *Store) ClaimBelow(ctx context.Context, owner string, max int, lease time.Duration, threshold int) ([]bridge.Job, error) {
	if max <= 0 {
		return nil, nil
	}
	if lease < time.Millisecond {
		return nil, fmt.Errorf("redisstore: invalid lease %s: it must be at least 1ms", lease)
	}
	return s.claim(ctx, owner, max, lease, threshold)
}

func (s *Store) claim(ctx context.Context, owner string, max int, lease time.Duration, threshold int) ([]bridge.Job, error) {
	k := s.keys
	res, err := claimScript.Run(ctx, s.rdb,
		[]string{k.due, k.leases, k.owners, k.claims, k.attempts, k.firstFailure, k.notified, k.dirty, k.latest},
		owner, max, lease.Milliseconds(), threshold).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: claim jobs for %s: %w", owner, err)
	}
	return parseJobs(res, owner)
}

func parseJobs(res []any, owner string) ([]bridge.Job, error) {
	if len(res) != 2 {
		return nil, fmt.Errorf("redisstore: claim: unexpected reply of %d elements", len(res))
	}
	deadline, _ := res[0].(string)
	flat, _ := res[1].([]any)
	jobs := make([]bridge.Job, 0, len(flat)/5)
	for i := 0; i+4 < len(flat); i += 5 {
		str := func(j int) string { v, _ := flat[i+j].(string); return v }
		jobs = append(jobs, bridge.Job{
			UserID:       str(0),
			Owner:        owner,
			LeaseUntil:   timeFromMillis(deadline),
			Attempt:      atoi(str(1)),
			FirstFailure: timeFromMillis(str(2)),
			NotifiedAt:   timeFromMillis(str(3)),
			LatestAt:     timeFromMillis(str(4)),
		})
	}
	return jobs, nil
}

// Complete releases the job's lease after a successful sync and clears the
// user's attempts and notified time. If a notification arrived during the
// lease, the user becomes due again at now+debounce. It returns
// ErrLeaseLost when the job no longer holds the lease.
func (s *Store) Complete(ctx context.Context, job bridge.Job, debounce time.Duration) error {
	k := s.keys
	ok, err := completeScript.Run(ctx, s.rdb,
		[]string{k.leases, k.owners, k.claims, k.attempts, k.firstFailure, k.lastError, k.notified, k.dirty, k.due, k.latest},
		job.UserID, job.Owner, millis(job.LeaseUntil), debounce.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redisstore: complete job for user %s: %w", job.UserID, err)
	}
	if ok == 0 {
		return fmt.Errorf("redisstore: complete job for user %s: %w", job.UserID, ErrLeaseLost)
	}
	return nil
}

// Retry releases the job's lease after a failed attempt and makes the
// user due again at at. It increments the attempts, sets the first-failure
// time if unset and stores lastErr. A notification that arrived during the
// lease needs no extra sync, because the retry reads the user again. It
// returns ErrLeaseLost when the job no longer holds the lease.
func (s *Store) Retry(ctx context.Context, job bridge.Job, at time.Time, lastErr string) error {
	k := s.keys
	ok, err := retryScript.Run(ctx, s.rdb,
		[]string{k.leases, k.owners, k.claims, k.attempts, k.firstFailure, k.lastError, k.notified, k.dirty, k.due},
		job.UserID, job.Owner, millis(job.LeaseUntil), millis(at), lastErr).Int()
	if err != nil {
		return fmt.Errorf("redisstore: retry job for user %s: %w", job.UserID, err)
	}
	if ok == 0 {
		return fmt.Errorf("redisstore: retry job for user %s: %w", job.UserID, ErrLeaseLost)
	}
	return nil
}

// DeadLetter releases the job's lease, records a dead letter with
// Attempts = job.Attempt+1 and clears the user's attempts. If a
// notification arrived during the lease, the user becomes due again at
// now+debounce. It returns the dead letter's ID, or ErrLeaseLost when the
// job no longer holds the lease.
func (s *Store) DeadLetter(ctx context.Context, job bridge.Job, reason, detail string, debounce time.Duration) (string, error) {
	k := s.keys
	id, err := deadLetterScript.Run(ctx, s.rdb,
		[]string{k.leases, k.owners, k.claims, k.attempts, k.firstFailure, k.lastError, k.notified, k.dirty, k.due,
			k.dead, k.latest, k.deadIndex},
		job.UserID, job.Owner, millis(job.LeaseUntil), reason, detail, job.Attempt+1, debounce.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("redisstore: dead-letter job for user %s: %w", job.UserID, err)
	}
	if id == "" {
		return "", fmt.Errorf("redisstore: dead-letter job for user %s: %w", job.UserID, ErrLeaseLost)
	}
	return id, nil
}

// ExtendLease pushes the job's lease deadline to now+lease (never earlier
// than it is) and returns the job with the new LeaseUntil. It returns
// ErrLeaseLost when the job no longer holds the lease.
func (s *Store) ExtendLease(ctx context.Context, job bridge.Job, lease time.Duration) (bridge.Job, error) {
	k := s.keys
	deadline, err := extendScript.Run(ctx, s.rdb,
		[]string{k.leases, k.owners, k.claims},
		job.UserID, job.Owner, millis(job.LeaseUntil), lease.Milliseconds()).Text()
	if err != nil {
		return job, fmt.Errorf("redisstore: extend lease for user %s: %w", job.UserID, err)
	}
	if deadline == "" {
		return job, fmt.Errorf("redisstore: extend lease for user %s: %w", job.UserID, ErrLeaseLost)
	}
	ms, err := strconv.ParseInt(deadline, 10, 64)
	if err != nil {
		return job, fmt.Errorf("redisstore: extend lease for user %s: invalid deadline %q: %w", job.UserID, deadline, err)
	}
	job.LeaseUntil = time.UnixMilli(ms)
	return job, nil
}

// ReclaimExpired makes every user whose lease deadline has passed due now,
// keeping its attempts, and returns how many it moved. Every worker runs it
// periodically, so a crashed worker's jobs are picked up again.
func (s *Store) ReclaimExpired(ctx context.Context) (int, error) {
	k := s.keys
	total := 0
	for {
		n, err := reclaimScript.Run(ctx, s.rdb,
			[]string{k.leases, k.owners, k.claims, k.dirty, k.notified, k.due}, reclaimBatch).Int()
		if err != nil {
			return total, fmt.Errorf("redisstore: reclaim expired leases: %w", err)
		}
		total += n
		if n < reclaimBatch {
			return total, nil
		}
	}
}
