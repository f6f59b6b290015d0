package redisstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

func TestDeltaLink(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	if link, err := s.DeltaLink(ctx); err != nil || link != "" {
		t.Fatalf("DeltaLink before any save: got %q, %v, want empty, nil", link, err)
	}
	const link = "https://graph.microsoft.com/v1.0/users/delta()?$deltatoken=abc"
	if err := s.SaveDeltaLink(ctx, link); err != nil {
		t.Fatalf("SaveDeltaLink: %v", err)
	}
	if got, err := s.DeltaLink(ctx); err != nil || got != link {
		t.Errorf("DeltaLink: got %q, %v, want %q, nil", got, err, link)
	}
	if err := s.SaveDeltaLink(ctx, ""); err != nil {
		t.Fatalf("SaveDeltaLink empty: %v", err)
	}
	if got, err := s.DeltaLink(ctx); err != nil || got != "" {
		t.Errorf("DeltaLink after clearing: got %q, %v, want empty, nil", got, err)
	}
}

func TestDeltaRun(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	if _, ok, err := s.LastDeltaRun(ctx); err != nil || ok {
		t.Fatalf("LastDeltaRun before any run: got ok %t, %v, want false, nil", ok, err)
	}
	runs := []redisstore.DeltaRun{
		{
			StartedAt: time.UnixMilli(1_800_000_000_000), FinishedAt: time.UnixMilli(1_800_000_004_000),
			OK: false, Mode: "incremental", Users: 3, Changed: 2, Removed: 1, Resynced: true,
			Error: "graph: status 503 ServiceUnavailable",
		},
		{
			StartedAt: time.UnixMilli(1_800_000_100_000), FinishedAt: time.UnixMilli(1_800_000_100_500),
			OK: true, Mode: "baseline", Users: 10, Baselined: 9, Changed: 1,
		},
	}
	for _, want := range runs {
		if err := s.SaveDeltaRun(ctx, want); err != nil {
			t.Fatalf("SaveDeltaRun: %v", err)
		}
		got, ok, err := s.LastDeltaRun(ctx)
		if err != nil || !ok {
			t.Fatalf("LastDeltaRun: got ok %t, %v, want true, nil", ok, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("delta run mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestDeltaCatchUp(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	if _, ok, err := s.TakeDeltaCatchUp(ctx); err != nil || ok {
		t.Fatalf("TakeDeltaCatchUp with none pending: got %t, %v, want false, nil", ok, err)
	}
	first := time.UnixMilli(1_800_000_000_000)
	for i := range 3 {
		if err := s.RequestDeltaCatchUp(ctx, first.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("RequestDeltaCatchUp: %v", err)
		}
	}
	at, ok, err := s.TakeDeltaCatchUp(ctx)
	if err != nil || !ok {
		t.Fatalf("TakeDeltaCatchUp: got %t, %v, want true, nil", ok, err)
	}
	if !at.Equal(first) {
		t.Errorf("got request time %v, want the oldest, %v", at, first)
	}
	if _, ok, _ := s.TakeDeltaCatchUp(ctx); ok {
		t.Error("second TakeDeltaCatchUp: got a request, want none because three requests coalesce into one")
	}
}

func TestCompareSnapshots(t *testing.T) {
	synced := time.UnixMilli(1_800_000_000_000)
	existing := []bridge.Snapshot{
		{UserID: "same", UserPrincipalName: "same@contoso.com", Mail: "same@contoso.com", ScimUserID: "scim-same", SyncedAt: synced},
		{UserID: "renamed", UserPrincipalName: "old@contoso.com", Mail: "old@contoso.com", ScimUserID: "scim-renamed", SyncedAt: synced},
		{UserID: "no-mail", UserPrincipalName: "nomail@contoso.com", ScimUserID: "scim-no-mail", SyncedAt: synced},
	}
	current := []bridge.Snapshot{
		{UserID: "same", UserPrincipalName: "same@contoso.com", Mail: "same@contoso.com"},
		{UserID: "renamed", UserPrincipalName: "new@contoso.com", Mail: "new@contoso.com"},
		{UserID: "no-mail", UserPrincipalName: "nomail@contoso.com"},
		{UserID: "new", UserPrincipalName: "new.user@contoso.com", Mail: "new.user@contoso.com"},
	}
	tests := []struct {
		name        string
		saveMissing bool
		wantStale   []string
		wantSaved   int
	}{
		{name: "save missing", saveMissing: true, wantStale: []string{"renamed"}, wantSaved: 1},
		{name: "compare only", saveMissing: false, wantStale: []string{"renamed", "new"}, wantSaved: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.NewStore(t)
			ctx := testContext(t)
			for _, snap := range existing {
				if err := s.SaveSnapshot(ctx, snap); err != nil {
					t.Fatalf("SaveSnapshot: %v", err)
				}
			}

			stale, saved, err := s.CompareSnapshots(ctx, current, tt.saveMissing)
			if err != nil {
				t.Fatalf("CompareSnapshots: %v", err)
			}
			if !slices.Equal(stale, tt.wantStale) {
				t.Errorf("got stale users %v, want %v", stale, tt.wantStale)
			}
			if saved != tt.wantSaved {
				t.Errorf("got %d snapshots saved, want %d", saved, tt.wantSaved)
			}

			// Existing snapshots keep their SCIM user ID and values.
			for _, want := range existing {
				got, ok, err := s.Snapshot(ctx, want.UserID)
				if err != nil || !ok {
					t.Fatalf("Snapshot(%s): got ok %t, %v, want true, nil", want.UserID, ok, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("snapshot of %s changed (-want +got):\n%s", want.UserID, diff)
				}
			}
			got, ok, err := s.Snapshot(ctx, "new")
			if err != nil {
				t.Fatalf("Snapshot(new): %v", err)
			}
			if ok != tt.saveMissing {
				t.Fatalf("got snapshot of new user %t, want %t", ok, tt.saveMissing)
			}
			if ok {
				want := bridge.Snapshot{UserID: "new", UserPrincipalName: "new.user@contoso.com", Mail: "new.user@contoso.com"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("baseline snapshot mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestCompareSnapshotsEmpty(t *testing.T) {
	s := redistest.NewStore(t)
	stale, saved, err := s.CompareSnapshots(testContext(t), nil, true)
	if err != nil || len(stale) != 0 || saved != 0 {
		t.Errorf("got %v, %d, %v, want no users, 0, nil", stale, saved, err)
	}
}
