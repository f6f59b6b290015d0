package redisstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

// deadLetter claims user and dead-letters it, returning the entry ID.
func deadLetter(t *testing.T, s *redisstore.Store, user, reason string) string {
	t.Helper()
	job := claimOne(t, s, user, "w1")
	id, err := s.DeadLetter(testContext(t), job, reason, "detail of "+user, 0)
	if err != nil {
		t.Fatalf("DeadLetter(%s): %v", user, err)
	}
	return id
}

func TestDeadLettersNewestFirst(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, deadLetter(t, s, fmt.Sprintf("u%d", i), "unmapped"))
	}

	got, err := s.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d dead letters, want 3", len(got))
	}
	for i, dl := range got {
		want := ids[len(ids)-1-i]
		if dl.ID != want {
			t.Errorf("dead letter %d: got ID %s, want %s", i, dl.ID, want)
		}
	}

	got, err = s.DeadLetters(ctx, 2)
	if err != nil {
		t.Fatalf("DeadLetters(2): %v", err)
	}
	if len(got) != 2 || got[0].UserID != "u2" || got[1].UserID != "u1" {
		t.Errorf("DeadLetters(2): got %+v, want u2 then u1", got)
	}
	if _, err := s.DeadLetters(ctx, 0); err == nil {
		t.Error("DeadLetters(0) returned no error")
	}
}

func TestRetryDeadLetter(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	id := deadLetter(t, s, "u1", "scim_conflict")

	if err := s.RetryDeadLetter(ctx, id); err != nil {
		t.Fatalf("RetryDeadLetter: %v", err)
	}
	if _, err := s.DeadLetterByID(ctx, id); !errors.Is(err, redisstore.ErrNotFound) {
		t.Errorf("DeadLetterByID after retry: got %v, want ErrNotFound", err)
	}
	jobs := claim(t, s, "w1", 10, time.Minute)
	if len(jobs) != 1 || jobs[0].UserID != "u1" {
		t.Fatalf("Claim after RetryDeadLetter returned %+v, want u1", jobs)
	}
	if jobs[0].Attempt != 0 {
		t.Errorf("attempt after RetryDeadLetter: got %d, want 0", jobs[0].Attempt)
	}
	if err := s.RetryDeadLetter(ctx, id); !errors.Is(err, redisstore.ErrNotFound) {
		t.Errorf("second RetryDeadLetter: got %v, want ErrNotFound", err)
	}
}

func TestRetryDeadLetterOfLeasedUser(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	id := deadLetter(t, s, "u1", "scim_conflict")
	job := claimOne(t, s, "u1", "w1")

	if err := s.RetryDeadLetter(ctx, id); err != nil {
		t.Fatalf("RetryDeadLetter: %v", err)
	}
	st := userState(t, s, "u1")
	if st.DirtySince.IsZero() || !st.DueAt.IsZero() {
		t.Errorf("leased user: got dirty since %v and due at %v, want dirty and not due", st.DirtySince, st.DueAt)
	}
	if err := s.Complete(ctx, job, 0); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if userState(t, s, "u1").DueAt.IsZero() {
		t.Error("user is not due after Complete of a dirty lease")
	}
}

func TestRetryDeadLetterPullsRetryForward(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	id := deadLetter(t, s, "u1", "scim_conflict")
	job := claimOne(t, s, "u1", "w1")
	if err := s.Retry(ctx, job, time.Now().Add(time.Hour), "status 429"); err != nil {
		t.Fatalf("Retry: %v", err)
	}

	if err := s.RetryDeadLetter(ctx, id); err != nil {
		t.Fatalf("RetryDeadLetter: %v", err)
	}
	if got := userState(t, s, "u1").DueAt; got.After(time.Now().Add(time.Second)) {
		t.Errorf("due at %v, want now", got)
	}
}

func TestDropDeadLetter(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	id := deadLetter(t, s, "u1", "unmapped")

	if err := s.DropDeadLetter(ctx, id); err != nil {
		t.Fatalf("DropDeadLetter: %v", err)
	}
	if _, err := s.DeadLetterByID(ctx, id); !errors.Is(err, redisstore.ErrNotFound) {
		t.Errorf("DeadLetterByID after drop: got %v, want ErrNotFound", err)
	}
	if err := s.DropDeadLetter(ctx, id); !errors.Is(err, redisstore.ErrNotFound) {
		t.Errorf("second DropDeadLetter: got %v, want ErrNotFound", err)
	}
	if st := userState(t, s, "u1"); !st.DueAt.IsZero() {
		t.Errorf("dropped user is due at %v, want not due", st.DueAt)
	}
}

func TestDeadLetterUnknownID(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	deadLetter(t, s, "u1", "unmapped")

	for _, id := range []string{"1-0", "not-an-id", "", "123"} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			if _, err := s.DeadLetterByID(ctx, id); !errors.Is(err, redisstore.ErrNotFound) {
				t.Errorf("DeadLetterByID: got %v, want ErrNotFound", err)
			}
			if err := s.RetryDeadLetter(ctx, id); !errors.Is(err, redisstore.ErrNotFound) {
				t.Errorf("RetryDeadLetter: got %v, want ErrNotFound", err)
			}
			if err := s.DropDeadLetter(ctx, id); !errors.Is(err, redisstore.ErrNotFound) {
				t.Errorf("DropDeadLetter: got %v, want ErrNotFound", err)
			}
		})
	}
}
