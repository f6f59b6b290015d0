package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestReplayInbox(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	old := time.Now().Add(-2 * time.Hour)
	if err := redisstore.AddInboxEntryAt(ctx, s, old, "old-user"); err != nil {
		t.Fatalf("add old entry: %v", err)
	}
	schedule(t, s, time.Hour)
	job := claimOne(t, s, "leased", "w1")
	enqueue(t, s, "u1", "u2", "u1")
	schedule(t, s, time.Hour)

	entries, users, err := s.ReplayInbox(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatalf("ReplayInbox: %v", err)
	}
	if entries != 4 || users != 3 {
		t.Errorf("got %d entries and %d users, want 4 and 3", entries, users)
	}
	for _, u := range []string{"u1", "u2"} {
		if got := userState(t, s, u).DueAt; got.After(time.Now().Add(time.Second)) {
			t.Errorf("%s due at %v, want now", u, got)
		}
	}
	if got := userState(t, s, "old-user").DueAt; got.Before(time.Now().Add(59 * time.Minute)) {
		t.Errorf("user of an older entry due at %v, want unchanged, about an hour from now", got)
	}
	st := userState(t, s, "leased")
	if st.DirtySince.IsZero() || !st.DueAt.IsZero() {
		t.Errorf("leased user: got dirty since %v and due at %v, want dirty and not due", st.DirtySince, st.DueAt)
	}
	if err := s.Complete(ctx, job, 0); err != nil {
		t.Errorf("Complete: %v", err)
	}

	entries, users, err = s.ReplayInbox(ctx, time.Time{})
	if err != nil {
		t.Fatalf("ReplayInbox of everything: %v", err)
	}
	if entries != 5 || users != 4 {
		t.Errorf("everything: got %d entries and %d users, want 5 and 4", entries, users)
	}
	if got := userState(t, s, "old-user").DueAt; got.After(time.Now().Add(time.Second)) {
		t.Errorf("user of the older entry due at %v after replaying everything, want now", got)
	}
}

func TestReplayInboxPages(t *testing.T) {
	s := redistest.NewStore(t)
	users := make([]string, 2500)
	for i := range users {
		users[i] = fmt.Sprintf("u%04d", i)
	}
	enqueue(t, s, users...)

	entries, moved, err := s.ReplayInbox(testContext(t), time.Time{})
	if err != nil {
		t.Fatalf("ReplayInbox: %v", err)
	}
	if entries != 2500 || moved != 2500 {
		t.Errorf("got %d entries and %d users, want 2500 and 2500", entries, moved)
	}
	d, err := s.Depths(testContext(t))
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	if d.Due != 2500 {
		t.Errorf("got %d due, want 2500", d.Due)
	}
}

func TestTrimInbox(t *testing.T) {
	s := redistest.NewStoreWith(t, redisstore.Options{InboxRetention: time.Hour})
	ctx := testContext(t)
	for _, age := range []time.Duration{3 * time.Hour, 2 * time.Hour} {
		if err := redisstore.AddInboxEntryAt(ctx, s, time.Now().Add(-age), "old"); err != nil {
			t.Fatalf("add old entry: %v", err)
		}
	}
	enqueue(t, s, "u1", "u2")
	inboxLen := func() int64 {
		t.Helper()
		n, err := redisstore.InboxLen(ctx, s)
		if err != nil {
			t.Fatalf("inbox length: %v", err)
		}
		return n
	}

	// Nothing is processed yet, so even the old entries must stay.
	if err := s.TrimInbox(ctx); err != nil {
		t.Fatalf("TrimInbox: %v", err)
	}
	if n := inboxLen(); n != 4 {
		t.Errorf("got %d inbox entries after trimming unprocessed ones, want 4", n)
	}

	schedule(t, s, 0)
	if err := s.TrimInbox(ctx); err != nil {
		t.Fatalf("TrimInbox: %v", err)
	}
	if n := inboxLen(); n != 2 {
		t.Errorf("got %d inbox entries after trim, want 2", n)
	}
}
