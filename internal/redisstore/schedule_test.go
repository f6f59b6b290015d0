package redisstore_test

import (
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestScheduleCoalescesBurst(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	const debounce = time.Hour

	enqueue(t, s, "u1")
	if got := schedule(t, s, debounce); got != 1 {
		t.Fatalf("first Schedule processed %d entries, want 1", got)
	}
	first := userState(t, s, "u1")
	if first.DueAt.IsZero() {
		t.Fatal("u1 is not due after Schedule")
	}

	burst := make([]bridge.Change, 199)
	for i := range burst {
		burst[i] = change("u1")
	}
	if err := s.Enqueue(ctx, burst, nil); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	// One Enqueue call is one inbox entry, whatever it holds.
	if got := schedule(t, s, debounce); got != 1 {
		t.Fatalf("second Schedule processed %d entries, want 1", got)
	}

	after := userState(t, s, "u1")
	if !after.DueAt.Equal(first.DueAt) {
		t.Errorf("due time moved: got %v, want %v", after.DueAt, first.DueAt)
	}
	if !after.NotifiedAt.Equal(first.NotifiedAt) {
		t.Errorf("notified time: got %v, want the oldest %v", after.NotifiedAt, first.NotifiedAt)
	}
	d, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.Scheduled != 1 || d.Due != 0 {
		t.Errorf("got %d scheduled and %d due, want 1 scheduled and 0 due", d.Scheduled, d.Due)
	}
	if d.InboxPending != 0 {
		t.Errorf("got %d inbox entries pending, want 0", d.InboxPending)
	}
}

func TestScheduleDueAfterDebounce(t *testing.T) {
	s := redistest.NewStore(t)
	const debounce = time.Hour

	before := time.Now()
	enqueue(t, s, "u1")
	schedule(t, s, debounce)
	after := time.Now()

	// The due time comes from the Redis server's clock, which on the test
	// machine agrees with the local one to well within a second.
	got := userState(t, s, "u1").DueAt
	lo, hi := before.Add(debounce-time.Second), after.Add(debounce+time.Second)
	if got.Before(lo) || got.After(hi) {
		t.Errorf("due at %v, want between %v and %v", got, lo, hi)
	}
	if jobs := claim(t, s, "w1", 10, time.Minute); len(jobs) != 0 {
		t.Errorf("Claim before the debounce returned %d jobs, want 0", len(jobs))
	}
}

func TestScheduleCountLimitsBatch(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	enqueue(t, s, "u1", "u2", "u3", "u4", "u5")

	n, err := s.Schedule(ctx, "c1", 0, 2, 0)
	if err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	if n != 2 {
		t.Errorf("got %d entries processed, want 2", n)
	}
	if got := schedule(t, s, 0); got != 3 {
		t.Errorf("got %d remaining entries processed, want 3", got)
	}
}

func TestScheduleBlocksUntilEntry(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	done := make(chan int, 1)
	errs := make(chan error, 1)
	go func() {
		n, err := s.Schedule(ctx, "c1", 0, 10, 10*time.Second)
		errs <- err
		done <- n
	}()
	// The blocked read returns as soon as an entry arrives; enqueue until
	// it does, since the read may start after the first Enqueue.
	waitFor(t, "blocked Schedule to return", func() bool {
		enqueue(t, s, "u1")
		return len(done) == 1
	})
	if err := <-errs; err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	if n := <-done; n < 1 {
		t.Errorf("got %d entries processed, want at least 1", n)
	}
}

func TestScheduleMarksLeasedUserDirty(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")

	enqueue(t, s, "u1")
	schedule(t, s, 0)
	st := userState(t, s, "u1")
	if st.DirtySince.IsZero() {
		t.Error("u1 is not dirty after a notification during its lease")
	}
	if !st.DueAt.IsZero() {
		t.Errorf("leased u1 is due at %v, want not due", st.DueAt)
	}
	if jobs := claim(t, s, "w2", 10, time.Minute); len(jobs) != 0 {
		t.Fatalf("Claim during the lease returned %+v, want none", jobs)
	}

	if err := s.Complete(ctx, job, 0); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	st = userState(t, s, "u1")
	if st.DueAt.IsZero() {
		t.Fatal("dirty u1 is not due after Complete")
	}
	if !st.DirtySince.IsZero() {
		t.Errorf("u1 still dirty since %v after Complete", st.DirtySince)
	}
	jobs := claim(t, s, "w2", 10, time.Minute)
	if len(jobs) != 1 {
		t.Fatalf("Claim after Complete returned %d jobs, want 1", len(jobs))
	}
	if jobs[0].NotifiedAt.IsZero() {
		t.Error("job after dirty Complete has no NotifiedAt")
	}
}

func TestScheduleRecoversCrashedConsumer(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	enqueue(t, s, "u1", "u2", "u3")

	n, err := redisstore.ReadInboxWithoutAck(ctx, s, "crashed", 10)
	if err != nil {
		t.Fatalf("read as crashed consumer: %v", err)
	}
	if n != 3 {
		t.Fatalf("crashed consumer read %d entries, want 3", n)
	}

	// With the default 30 s, entries read a moment ago stay with their
	// consumer.
	if got := schedule(t, s, 0); got != 0 {
		t.Fatalf("Schedule took over %d fresh entries, want 0", got)
	}
	d, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.InboxPending != 3 {
		t.Errorf("got %d inbox entries pending, want 3", d.InboxPending)
	}

	redisstore.SetStaleReadAfter(s, time.Millisecond)
	takenOver := 0
	waitFor(t, "Schedule to take over the stale entries", func() bool {
		takenOver += schedule(t, s, 0)
		return takenOver >= 3
	})
	if takenOver != 3 {
		t.Errorf("took over %d entries, want 3", takenOver)
	}
	for _, u := range []string{"u1", "u2", "u3"} {
		if userState(t, s, u).DueAt.IsZero() {
			t.Errorf("%s is not due after recovery", u)
		}
	}
	d, err = s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.InboxPending != 0 {
		t.Errorf("got %d inbox entries pending after recovery, want 0", d.InboxPending)
	}
}
