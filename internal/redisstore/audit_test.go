package redisstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/google/go-cmp/cmp"
)

func TestAuditRoundTrip(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	at := time.UnixMilli(time.Now().Add(-time.Minute).UnixMilli())
	want := redisstore.AuditEntry{
		At:             at,
		UserID:         "u1",
		ScimUserID:     "scim-1",
		BeforeUserName: "ada@old.example",
		BeforeEmail:    "ada@old.example",
		AfterUserName:  "ada@new.example",
		AfterEmail:     "ada@new.example",
		Result:         "dry_run",
		DryRun:         true,
		Detail:         "would replace userName and work email",
	}
	if err := s.AppendAudit(ctx, want); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	got, err := s.Audit(ctx, "", time.Time{}, 10)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d entries, want 1", len(got))
	}
	if got[0].ID == "" {
		t.Error("entry has no ID")
	}
	want.ID = got[0].ID
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("entry mismatch (-want +got):\n%s", diff)
	}
}

func TestAuditDefaultsAtToAppendTime(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	before := time.Now().Add(-time.Second)
	if err := s.AppendAudit(ctx, redisstore.AuditEntry{UserID: "u1", Result: "patched"}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	got, err := s.Audit(ctx, "u1", time.Time{}, 1)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if len(got) != 1 || got[0].At.Before(before) || got[0].At.After(time.Now().Add(time.Second)) {
		t.Errorf("got %+v, want one entry at about now", got)
	}
}

func TestAuditOrderAndFilters(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	// 1,200 entries alternate between two users, so filtering crosses
	// several XREVRANGE pages.
	for i := range 1200 {
		e := redisstore.AuditEntry{UserID: fmt.Sprintf("u%d", i%2), Result: "patched", Detail: fmt.Sprint(i)}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit %d: %v", i, err)
		}
	}

	tests := []struct {
		name        string
		user        string
		since       time.Time
		max         int
		wantDetails []string
	}{
		{"newest of all", "", time.Time{}, 3, []string{"1199", "1198", "1197"}},
		{"newest of one user", "u0", time.Time{}, 3, []string{"1198", "1196", "1194"}},
		{"oldest of one user", "u1", time.Time{}, 600, nil},
		{"since the future", "", time.Now().Add(time.Hour), 10, []string{}},
		{"unknown user", "nobody", time.Time{}, 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Audit(ctx, tt.user, tt.since, tt.max)
			if err != nil {
				t.Fatalf("Audit: %v", err)
			}
			if tt.wantDetails == nil {
				if len(got) != tt.max {
					t.Fatalf("got %d entries, want %d", len(got), tt.max)
				}
				if last := got[len(got)-1].Detail; last != "1" {
					t.Errorf("oldest entry: got detail %s, want 1", last)
				}
				return
			}
			details := make([]string, len(got))
			for i, e := range got {
				details[i] = e.Detail
				if tt.user != "" && e.UserID != tt.user {
					t.Errorf("entry %d: got user %s, want %s", i, e.UserID, tt.user)
				}
			}
			if diff := cmp.Diff(tt.wantDetails, details); diff != "" {
				t.Errorf("details mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := s.Audit(ctx, "", time.Time{}, 0); err == nil {
		t.Error("Audit with max 0 returned no error")
	}
}

func TestAuditSince(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if err := s.AppendAudit(ctx, redisstore.AuditEntry{UserID: "u1", Detail: "old"}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	var since time.Time
	waitFor(t, "the clock to pass the first entry", func() bool {
		got, err := s.Audit(ctx, "", time.Time{}, 1)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		since = got[0].At.Add(time.Millisecond)
		return time.Now().After(since)
	})
	if err := s.AppendAudit(ctx, redisstore.AuditEntry{UserID: "u1", Detail: "new"}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}

	got, err := s.Audit(ctx, "u1", since, 10)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if len(got) != 1 || got[0].Detail != "new" {
		t.Errorf("got %+v, want only the entry after %v", got, since)
	}
}

func TestAuditMaxLen(t *testing.T) {
	s := redistest.NewStoreWith(t, redisstore.Options{AuditMaxLen: 10})
	ctx := testContext(t)
	// Approximate trimming keeps whole stream nodes (100 entries by
	// default), so append enough to fill several.
	for i := range 500 {
		if err := s.AppendAudit(ctx, redisstore.AuditEntry{UserID: "u1", Detail: fmt.Sprint(i)}); err != nil {
			t.Fatalf("AppendAudit %d: %v", i, err)
		}
	}
	got, err := s.Audit(ctx, "", time.Time{}, 1000)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if len(got) >= 500 {
		t.Errorf("got %d entries, want the stream trimmed below 500", len(got))
	}
	if len(got) < 10 {
		t.Errorf("got %d entries, want at least the 10 newest", len(got))
	}
}
