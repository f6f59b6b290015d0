package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestPostponeKeepsAttempts(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	job := claimOne(t, s, "u1", "w1")
	before := userState(t, s, "u1")

	at := time.Now().Add(time.Hour)
	if err := s.Postpone(ctx, job, at); err != nil {
		t.Fatalf("Postpone: %v", err)
	}
	st := userState(t, s, "u1")
	if st.Owner != "" {
		t.Errorf("got owner %q after Postpone, want none", st.Owner)
	}
	if got := st.DueAt.UnixMilli(); got != at.UnixMilli() {
		t.Errorf("got due at %d, want %d", got, at.UnixMilli())
	}
	if st.Attempts != before.Attempts {
		t.Errorf("got %d attempts, want %d (a postponement is no failure)", st.Attempts, before.Attempts)
	}
	if st.NotifiedAt.IsZero() {
		t.Error("got no notified time after Postpone, want the original one kept")
	}
	if err := s.Postpone(ctx, job, at); !errors.Is(err, redisstore.ErrLeaseLost) {
		t.Errorf("got %v for a second Postpone, want ErrLeaseLost", err)
	}
}

func TestClearChangedKeepsNewerMark(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	mark := time.Now()
	if err := s.MarkChanged(ctx, []string{"old", "new"}, mark); err != nil {
		t.Fatalf("MarkChanged: %v", err)
	}
	// An earlier mark does not replace a later one.
	if err := s.MarkChanged(ctx, []string{"new"}, mark.Add(-time.Minute)); err != nil {
		t.Fatalf("MarkChanged: %v", err)
	}

	if err := s.ClearChanged(ctx, "old", mark); err != nil {
		t.Fatalf("ClearChanged: %v", err)
	}
	if err := s.ClearChanged(ctx, "new", mark.Add(-time.Second)); err != nil {
		t.Fatalf("ClearChanged: %v", err)
	}
	marks, err := s.ChangedMarks(ctx, []string{"old", "new", "none"})
	if err != nil {
		t.Fatalf("ChangedMarks: %v", err)
	}
	if _, ok := marks["old"]; ok {
		t.Error("got a mark for a user read after it, want it cleared")
	}
	if got := marks["new"].UnixMilli(); got != mark.UnixMilli() {
		t.Errorf("got mark %d for a user read before it, want %d kept", got, mark.UnixMilli())
	}
	if len(marks) != 1 {
		t.Errorf("got %d marks, want 1", len(marks))
	}
}

func TestBulkLinkKeepsOrigin(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if link, origin, err := s.BulkLink(ctx); err != nil || link != "" || !origin.IsZero() {
		t.Fatalf("got %q, %v, %v before any save, want empty", link, origin, err)
	}
	origin := time.Now().Add(-time.Hour)
	if err := s.SaveBulkLink(ctx, "link-1", origin, origin); err != nil {
		t.Fatalf("SaveBulkLink: %v", err)
	}
	if err := s.SaveBulkLink(ctx, "link-2", time.Time{}, time.Now()); err != nil {
		t.Fatalf("SaveBulkLink: %v", err)
	}
	link, got, err := s.BulkLink(ctx)
	if err != nil {
		t.Fatalf("BulkLink: %v", err)
	}
	if link != "link-2" {
		t.Errorf("got link %q, want link-2", link)
	}
	if got.UnixMilli() != origin.UnixMilli() {
		t.Errorf("got origin %d, want %d kept", got.UnixMilli(), origin.UnixMilli())
	}
}
