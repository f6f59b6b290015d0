package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestClaimFillsJob(t *testing.T) {
	s := redistest.NewStore(t)
	before := time.Now()
	job := claimOne(t, s, "u1", "w1")

	if job.Owner != "w1" {
		t.Errorf("owner: got %q, want %q", job.Owner, "w1")
	}
	if job.Attempt != 0 {
		t.Errorf("attempt: got %d, want 0", job.Attempt)
	}
	if !job.FirstFailure.IsZero() {
		t.Errorf("first failure: got %v, want zero", job.FirstFailure)
	}
	if job.NotifiedAt.Before(before.Add(-time.Second)) || job.NotifiedAt.After(time.Now()) {
		t.Errorf("notified at %v, want between %v and now", job.NotifiedAt, before)
	}
	if job.LeaseUntil.Before(before.Add(time.Minute - time.Second)) {
		t.Errorf("lease until %v, want about a minute after %v", job.LeaseUntil, before)
	}
	st := userState(t, s, "u1")
	if !st.LeaseUntil.Equal(job.LeaseUntil) || st.Owner != "w1" {
		t.Errorf("state: got lease until %v owned by %q, want %v owned by w1", st.LeaseUntil, st.Owner, job.LeaseUntil)
	}
	if !st.DueAt.IsZero() {
		t.Errorf("leased user is due at %v, want not due", st.DueAt)
	}
}

func TestClaimHonorsMaxAndDueTime(t *testing.T) {
	s := redistest.NewStore(t)
	enqueue(t, s, "later")
	schedule(t, s, time.Hour)
	enqueue(t, s, "u1", "u2", "u3")
	schedule(t, s, 0)

	if jobs := claim(t, s, "w1", 0, time.Minute); len(jobs) != 0 {
		t.Errorf("Claim with max 0 returned %d jobs, want 0", len(jobs))
	}
	if jobs := claim(t, s, "w1", 2, time.Minute); len(jobs) != 2 {
		t.Errorf("Claim with max 2 returned %d jobs, want 2", len(jobs))
	}
	jobs := claim(t, s, "w1", 10, time.Minute)
	if len(jobs) != 1 {
		t.Fatalf("second Claim returned %d jobs, want 1", len(jobs))
	}
	if jobs[0].UserID == "later" {
		t.Error("Claim returned a user due in an hour")
	}
	next, ok, err := s.NextDue(testContext(t))
	if err != nil {
		t.Fatalf("NextDue: %v", err)
	}
	if !ok || next.Before(time.Now().Add(59*time.Minute)) {
		t.Errorf("NextDue: got %v, %v, want about an hour from now", next, ok)
	}
}

func TestNextDueEmpty(t *testing.T) {
	s := redistest.NewStore(t)
	next, ok, err := s.NextDue(testContext(t))
	if err != nil {
		t.Fatalf("NextDue: %v", err)
	}
	if ok || !next.IsZero() {
		t.Errorf("got %v, %v, want zero, false", next, ok)
	}
}

func TestClaimInvalidLease(t *testing.T) {
	s := redistest.NewStore(t)
	if _, err := s.Claim(testContext(t), "w1", 1, 0); err == nil {
		t.Error("Claim with a zero lease returned no error")
	}
}

// TestClaimConcurrentNeverDoubleLeases runs 8 claiming workers while
// notifications keep arriving, and checks that no user is handed to a
// worker while another worker holds it.
func TestClaimConcurrentNeverDoubleLeases(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	const (
		workers = 8
		users   = 20
		target  = 400 // claims across all workers
	)
	userIDs := make([]string, users)
	for i := range userIDs {
		userIDs[i] = fmt.Sprintf("u%02d", i)
	}
	enqueue(t, s, userIDs...)
	schedule(t, s, 0)

	var mu sync.Mutex
	holders := make(map[string]string)
	claims := 0
	var failures []error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, err)
	}
	var wg sync.WaitGroup

	stop := make(chan struct{})
	feederDone := make(chan struct{})
	go func() {
		defer close(feederDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Enqueue(ctx, []bridge.Change{change(userIDs[i%users]), change(userIDs[(i+7)%users])}, nil); err != nil {
				fail(fmt.Errorf("Enqueue: %w", err))
				return
			}
			if _, err := s.Schedule(ctx, "feeder", 0, 10, 0); err != nil {
				fail(fmt.Errorf("Schedule: %w", err))
				return
			}
		}
	}()

	for w := range workers {
		owner := fmt.Sprintf("w%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				done := claims >= target
				mu.Unlock()
				if done {
					return
				}
				jobs, err := s.Claim(ctx, owner, 3, time.Minute)
				if err != nil {
					fail(fmt.Errorf("Claim: %w", err))
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if other, ok := holders[j.UserID]; ok {
						failures = append(failures, fmt.Errorf("%s claimed %s while %s held it", owner, j.UserID, other))
					}
					holders[j.UserID] = owner
					claims++
				}
				mu.Unlock()
				for _, j := range jobs {
					// Forget the hold before Redis releases it, so a
					// claim right after the release is not reported.
					mu.Lock()
					delete(holders, j.UserID)
					mu.Unlock()
					if err := s.Complete(ctx, j, 0); err != nil {
						fail(fmt.Errorf("Complete %s: %w", j.UserID, err))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-feederDone
	for _, err := range failures {
		t.Error(err)
	}
	if claims < target {
		t.Errorf("got %d claims, want at least %d", claims, target)
	}
}

func TestReclaimExpiredKeepsAttempts(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")
	if err := s.Retry(ctx, job, time.Now().Add(-time.Second), "status 503"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	jobs := claim(t, s, "w1", 10, time.Millisecond)
	if len(jobs) != 1 {
		t.Fatalf("Claim after Retry returned %d jobs, want 1", len(jobs))
	}
	expired := jobs[0]

	waitFor(t, "the lease to be reclaimed", func() bool {
		n, err := s.ReclaimExpired(ctx)
		if err != nil {
			t.Fatalf("ReclaimExpired: %v", err)
		}
		return n == 1
	})
	jobs = claim(t, s, "w2", 10, time.Minute)
	if len(jobs) != 1 {
		t.Fatalf("Claim after reclaim returned %d jobs, want 1", len(jobs))
	}
	if jobs[0].Attempt != 1 {
		t.Errorf("attempt after reclaim: got %d, want 1", jobs[0].Attempt)
	}
	if !jobs[0].FirstFailure.Equal(expired.FirstFailure) || jobs[0].FirstFailure.IsZero() {
		t.Errorf("first failure after reclaim: got %v, want %v", jobs[0].FirstFailure, expired.FirstFailure)
	}
	if err := s.Complete(ctx, expired, 0); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("Complete of the expired job: got %v, want ErrLeaseLost", err)
	}
	if err := s.Complete(ctx, jobs[0], 0); err != nil {
		t.Errorf("Complete of the new job: %v", err)
	}
}

func TestReclaimExpiredSkipsLiveLeases(t *testing.T) {
	s := redistest.NewStore(t)
	claimOne(t, s, "u1", "w1")
	n, err := s.ReclaimExpired(testContext(t))
	if err != nil {
		t.Fatalf("ReclaimExpired: %v", err)
	}
	if n != 0 {
		t.Errorf("reclaimed %d live leases, want 0", n)
	}
}

func TestLeaseLost(t *testing.T) {
	tests := []struct {
		name  string
		stale func(job bridge.Job) bridge.Job
	}{
		{"other owner", func(j bridge.Job) bridge.Job { j.Owner = "w2"; return j }},
		{"earlier deadline", func(j bridge.Job) bridge.Job { j.LeaseUntil = j.LeaseUntil.Add(-time.Hour); return j }},
		{"later deadline", func(j bridge.Job) bridge.Job { j.LeaseUntil = j.LeaseUntil.Add(time.Hour); return j }},
		{"other user", func(j bridge.Job) bridge.Job { j.UserID = "nobody"; return j }},
	}
	ops := []struct {
		name string
		run  func(context.Context, *redisstore.Store, bridge.Job) error
	}{
		{"Complete", func(ctx context.Context, s *redisstore.Store, j bridge.Job) error {
			return s.Complete(ctx, j, 0)
		}},
		{"Retry", func(ctx context.Context, s *redisstore.Store, j bridge.Job) error {
			return s.Retry(ctx, j, time.Now(), "x")
		}},
		{"DeadLetter", func(ctx context.Context, s *redisstore.Store, j bridge.Job) error {
			_, err := s.DeadLetter(ctx, j, "r", "d", 0)
			return err
		}},
		{"ExtendLease", func(ctx context.Context, s *redisstore.Store, j bridge.Job) error {
			_, err := s.ExtendLease(ctx, j, time.Minute)
			return err
		}},
	}
	for _, tt := range tests {
		for _, op := range ops {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				s := redistest.NewStore(t)
				ctx := testContext(t)
				job := claimOne(t, s, "u1", "w1")
				if err := op.run(ctx, s, tt.stale(job)); !errors.Is(err, redisstore.ErrLeaseLost) {
					t.Errorf("got %v, want ErrLeaseLost", err)
				}
				st := userState(t, s, "u1")
				if st.Owner != "w1" || !st.LeaseUntil.Equal(job.LeaseUntil) {
					t.Errorf("lease changed: got %v owned by %q, want %v owned by w1", st.LeaseUntil, st.Owner, job.LeaseUntil)
				}
				if err := op.run(ctx, s, job); err != nil {
					t.Errorf("with the current job: %v", err)
				}
			})
		}
	}
}

func TestCompleteTwiceLosesLease(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")
	if err := s.Complete(ctx, job, 0); err != nil {
		t.Fatalf("first Complete: %v", err)
	}
	if err := s.Complete(ctx, job, 0); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("second Complete: got %v, want ErrLeaseLost", err)
	}
}

func TestStaleJobOfSameOwnerLosesLease(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	enqueue(t, s, "u1")
	schedule(t, s, 0)
	old := claim(t, s, "w1", 1, time.Millisecond)
	if len(old) != 1 {
		t.Fatalf("Claim returned %d jobs, want 1", len(old))
	}
	waitFor(t, "the lease to be reclaimed", func() bool {
		n, err := s.ReclaimExpired(ctx)
		if err != nil {
			t.Fatalf("ReclaimExpired: %v", err)
		}
		return n == 1
	})
	current := claim(t, s, "w1", 1, time.Minute)
	if len(current) != 1 {
		t.Fatalf("second Claim returned %d jobs, want 1", len(current))
	}

	if _, err := s.ExtendLease(ctx, old[0], time.Hour); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("ExtendLease of the old job: got %v, want ErrLeaseLost", err)
	}
	if err := s.Complete(ctx, old[0], 0); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("Complete of the old job: got %v, want ErrLeaseLost", err)
	}
	if err := s.Complete(ctx, current[0], 0); err != nil {
		t.Errorf("Complete of the current job: %v", err)
	}
}

func TestExtendLease(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")

	extended, err := s.ExtendLease(ctx, job, time.Hour)
	if err != nil {
		t.Fatalf("ExtendLease: %v", err)
	}
	if !extended.LeaseUntil.After(job.LeaseUntil.Add(58 * time.Minute)) {
		t.Errorf("lease until %v, want about an hour after %v", extended.LeaseUntil, job.LeaseUntil)
	}
	if got := userState(t, s, "u1").LeaseUntil; !got.Equal(extended.LeaseUntil) {
		t.Errorf("stored lease until %v, want %v", got, extended.LeaseUntil)
	}

	shorter, err := s.ExtendLease(ctx, extended, time.Second)
	if err != nil {
		t.Fatalf("ExtendLease with a shorter lease: %v", err)
	}
	if !shorter.LeaseUntil.Equal(extended.LeaseUntil) {
		t.Errorf("shorter lease moved the deadline to %v, want %v kept", shorter.LeaseUntil, extended.LeaseUntil)
	}

	// A job from Claim stays valid after an extension by, say, a heartbeat.
	if err := s.Complete(ctx, job, 0); err != nil {
		t.Errorf("Complete with the job from Claim: %v", err)
	}
}

func TestRetryBookkeeping(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")
	notified := job.NotifiedAt

	at := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	if err := s.Retry(ctx, job, at, "status 503"); err != nil {
		t.Fatalf("first Retry: %v", err)
	}
	st := userState(t, s, "u1")
	if !st.DueAt.Equal(at) {
		t.Errorf("due at %v, want %v", st.DueAt, at)
	}
	if st.Attempts != 1 || st.LastError != "status 503" || st.FirstFailure.IsZero() {
		t.Errorf("after first Retry: got attempts %d, last error %q, first failure %v; want 1, %q, set",
			st.Attempts, st.LastError, st.FirstFailure, "status 503")
	}
	firstFailure := st.FirstFailure

	jobs := claim(t, s, "w1", 10, time.Minute)
	if len(jobs) != 1 {
		t.Fatalf("Claim after Retry returned %d jobs, want 1", len(jobs))
	}
	if jobs[0].Attempt != 1 || !jobs[0].FirstFailure.Equal(firstFailure) || !jobs[0].NotifiedAt.Equal(notified) {
		t.Errorf("job after Retry: got attempt %d, first failure %v, notified %v; want 1, %v, %v",
			jobs[0].Attempt, jobs[0].FirstFailure, jobs[0].NotifiedAt, firstFailure, notified)
	}

	// A notification during the second attempt is folded into the retry.
	enqueue(t, s, "u1")
	schedule(t, s, 0)
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := s.Retry(ctx, jobs[0], later, "timeout"); err != nil {
		t.Fatalf("second Retry: %v", err)
	}
	st = userState(t, s, "u1")
	if st.Attempts != 2 || st.LastError != "timeout" || !st.FirstFailure.Equal(firstFailure) {
		t.Errorf("after second Retry: got attempts %d, last error %q, first failure %v; want 2, %q, %v",
			st.Attempts, st.LastError, st.FirstFailure, "timeout", firstFailure)
	}
	if !st.DueAt.Equal(later) {
		t.Errorf("due at %v, want %v", st.DueAt, later)
	}
	if !st.DirtySince.IsZero() {
		t.Errorf("still dirty since %v after Retry, want the mark folded in", st.DirtySince)
	}
	if !st.NotifiedAt.Equal(notified) {
		t.Errorf("notified at %v, want the oldest %v", st.NotifiedAt, notified)
	}

	d, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.Retrying != 1 {
		t.Errorf("got %d retrying, want 1", d.Retrying)
	}
}

func TestCompleteClearsAttempts(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")
	if err := s.Retry(ctx, job, time.Now().Add(-time.Second), "status 503"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	jobs := claim(t, s, "w1", 10, time.Minute)
	if len(jobs) != 1 {
		t.Fatalf("Claim returned %d jobs, want 1", len(jobs))
	}
	if err := s.Complete(ctx, jobs[0], 0); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := redisstore.UserState{}
	if got := userState(t, s, "u1"); got != want {
		t.Errorf("state after Complete: got %+v, want all zero", got)
	}
}

func TestDeadLetterBookkeeping(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")
	if err := s.Retry(ctx, job, time.Now().Add(-time.Second), "status 503"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	job = claim(t, s, "w1", 1, time.Minute)[0]

	before := time.Now().Add(-time.Second)
	id, err := s.DeadLetter(ctx, job, "scim_conflict", "409 uniqueness", 0)
	if err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	dl, err := s.DeadLetterByID(ctx, id)
	if err != nil {
		t.Fatalf("DeadLetterByID: %v", err)
	}
	if dl.ID != id || dl.UserID != "u1" || dl.Reason != "scim_conflict" || dl.Detail != "409 uniqueness" || dl.Attempts != 2 {
		t.Errorf("dead letter: got %+v, want ID %s, user u1, reason scim_conflict, detail 409 uniqueness, 2 attempts", dl, id)
	}
	if dl.At.Before(before) || dl.At.After(time.Now().Add(time.Second)) {
		t.Errorf("dead letter at %v, want about now", dl.At)
	}
	want := redisstore.UserState{}
	if got := userState(t, s, "u1"); got != want {
		t.Errorf("state after DeadLetter: got %+v, want all zero", got)
	}
}

func TestDeadLetterDirtyUserDueAgain(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")
	enqueue(t, s, "u1")
	schedule(t, s, 0)
	dirty := userState(t, s, "u1").DirtySince

	if _, err := s.DeadLetter(ctx, job, "unmapped", "no SCIM user", time.Hour); err != nil {
		t.Fatalf("DeadLetter: %v", err)
	}
	st := userState(t, s, "u1")
	if st.DueAt.Before(time.Now().Add(59 * time.Minute)) {
		t.Errorf("due at %v, want about an hour from now", st.DueAt)
	}
	if !st.NotifiedAt.Equal(dirty) || !st.DirtySince.IsZero() {
		t.Errorf("got notified %v and dirty %v, want notified %v and not dirty", st.NotifiedAt, st.DirtySince, dirty)
	}
	if st.Attempts != 0 {
		t.Errorf("got %d attempts, want 0", st.Attempts)
	}
}

func TestClaimReportsOldestAndNewestNotification(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	first := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	last := first.Add(40 * time.Second)
	for _, at := range []time.Time{first, last, first.Add(10 * time.Second)} {
		c := change("u1")
		c.ReceivedAt = at
		if err := s.Enqueue(ctx, []bridge.Change{c}, nil); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	schedule(t, s, 0)
	jobs := claim(t, s, "w1", 10, time.Minute)
	if len(jobs) != 1 {
		t.Fatalf("got %d jobs, want 1", len(jobs))
	}
	if !jobs[0].NotifiedAt.Equal(first) {
		t.Errorf("NotifiedAt = %s, want the oldest %s", jobs[0].NotifiedAt, first)
	}
	if !jobs[0].LatestAt.Equal(last) {
		t.Errorf("LatestAt = %s, want the newest %s", jobs[0].LatestAt, last)
	}

	if err := s.Complete(ctx, jobs[0], 0); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	next := claimOne(t, s, "u1", "w1")
	if !next.LatestAt.After(last) {
		t.Errorf("LatestAt after a completed sync = %s, want only the new notification's time", next.LatestAt)
	}
}
