package redisstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/google/go-cmp/cmp"
)

func TestMapping(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	if _, ok, err := s.Mapping(ctx, "obj-1"); err != nil || ok {
		t.Fatalf("Mapping of an unmapped ID: got ok %v, err %v, want false, nil", ok, err)
	}
	if err := s.SetMapping(ctx, "obj-1", "scim-1"); err != nil {
		t.Fatalf("SetMapping: %v", err)
	}
	if err := s.SetMapping(ctx, "obj-1", "scim-2"); err != nil {
		t.Fatalf("SetMapping again: %v", err)
	}
	id, ok, err := s.Mapping(ctx, "obj-1")
	if err != nil || !ok || id != "scim-2" {
		t.Errorf("Mapping: got %q, %v, %v, want scim-2, true, nil", id, ok, err)
	}
	if err := s.DeleteMapping(ctx, "obj-1"); err != nil {
		t.Fatalf("DeleteMapping: %v", err)
	}
	if _, ok, err := s.Mapping(ctx, "obj-1"); err != nil || ok {
		t.Errorf("Mapping after delete: got ok %v, err %v, want false, nil", ok, err)
	}
	if err := s.DeleteMapping(ctx, "obj-1"); err != nil {
		t.Errorf("DeleteMapping of a missing mapping: %v", err)
	}
}

func TestImportAndWalkMappings(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	want := make(map[string]string)
	for i := range 2500 {
		want[fmt.Sprintf("obj-%d", i)] = fmt.Sprintf("scim-%d", i)
	}
	if err := s.ImportMappings(ctx, want); err != nil {
		t.Fatalf("ImportMappings: %v", err)
	}

	got := make(map[string]string)
	err := s.Mappings(ctx, func(objectID, scimID string) error {
		got[objectID] = scimID
		return nil
	})
	if err != nil {
		t.Fatalf("Mappings: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mappings mismatch (-want +got):\n%s", diff)
	}

	stop := errors.New("stop")
	calls := 0
	err = s.Mappings(ctx, func(string, string) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("Mappings with a failing callback: got %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("got %d calls after the error, want 1", calls)
	}
}

func TestSnapshot(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)

	if _, ok, err := s.Snapshot(ctx, "u1"); err != nil || ok {
		t.Fatalf("Snapshot of an unknown user: got ok %v, err %v, want false, nil", ok, err)
	}
	want := bridge.Snapshot{
		UserID:            "u1",
		UserPrincipalName: "ada@example.com",
		Mail:              "",
		ScimUserID:        "scim-1",
		SyncedAt:          time.UnixMilli(time.Now().UnixMilli()),
	}
	if err := s.SaveSnapshot(ctx, want); err != nil {
		t.Fatalf("SaveSnapshot: %v", err)
	}
	got, ok, err := s.Snapshot(ctx, "u1")
	if err != nil || !ok {
		t.Fatalf("Snapshot: got ok %v, err %v, want true, nil", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot mismatch (-want +got):\n%s", diff)
	}

	want.Mail = "ada@example.com"
	want.SyncedAt = time.Time{}
	if err := s.SaveSnapshot(ctx, want); err != nil {
		t.Fatalf("SaveSnapshot again: %v", err)
	}
	got, _, err = s.Snapshot(ctx, "u1")
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replaced snapshot mismatch (-want +got):\n%s", diff)
	}
}

func TestMappingIgnoresObjectIDCase(t *testing.T) {
	s := redistest.NewStore(t)
	ctx := testContext(t)
	if err := s.SetMapping(ctx, "AAAAAAAA-0000-4000-8000-000000000002", "scim-2"); err != nil {
		t.Fatalf("SetMapping: %v", err)
	}
	id, ok, err := s.Mapping(ctx, "aaaaaaaa-0000-4000-8000-000000000002")
	if err != nil || !ok || id != "scim-2" {
		t.Errorf("Mapping(lower case) = %q, %v, %v; want scim-2", id, ok, err)
	}
	if err := s.ImportMappings(ctx, map[string]string{"BBBBBBBB-0000-4000-8000-000000000003": "scim-3"}); err != nil {
		t.Fatalf("ImportMappings: %v", err)
	}
	if id, ok, _ := s.Mapping(ctx, "bbbbbbbb-0000-4000-8000-000000000003"); !ok || id != "scim-3" {
		t.Errorf("imported upper-case ID not found in lower case: %q, %v", id, ok)
	}
}
