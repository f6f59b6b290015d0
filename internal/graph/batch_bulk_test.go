package graph_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/scim"
	"github.com/entrabridge/entrabridge/internal/throttle"
	"github.com/entrabridge/entrabridge/internal/worker"
)

// batchDirectory adds the batched reads of cmd/entrabridge's adapter to
// directory, so the worker reads users with JSON batches.
type batchDirectory struct{ directory }

func (d batchDirectory) GetUsers(ctx context.Context, ids []string) (map[string]plan.EntraUser, map[string]error) {
	found, failed := d.c.GetUsers(ctx, ids)
	users := make(map[string]plan.EntraUser, len(found))
	for id, u := range found {
		users[id] = plan.EntraUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail}
	}
	return users, failed
}

// startBatched runs one worker with bulk resolution and batched reads
// until the test ends.
func (b *bulkBridge) startBatched(threshold int, allowance time.Duration) {
	b.t.Helper()
	sc, err := scim.New(b.scim.BaseURL(), "scim-token", scim.Options{HTTPClient: b.scim.Client()})
	if err != nil {
		b.t.Fatalf("scim client: %v", err)
	}
	w, err := worker.New(worker.Config{
		Owner: "batch-worker", Concurrency: 8, Lease: 30 * time.Second,
		PollInterval: 10 * time.Millisecond, Delta: b.client,
		BulkThreshold: threshold, BulkLagAllowance: allowance,
		Logger: slog.New(slog.NewTextHandler(b.t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, b.store, batchDirectory{directory{b.client}}, sc, throttle.New(b.store, "scim", 0, 1))
	if err != nil {
		b.t.Fatalf("new worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx, 5*time.Second); close(done) }()
	b.t.Cleanup(func() { cancel(); <-done })
}

func TestBulkRoundReadsRenamedInBatches(t *testing.T) {
	const users, renamed = 1000, 40
	b := startBulkBridge(t, users)
	b.trackSince(time.Now().Add(-time.Hour))
	for i := range renamed {
		b.rename(i * (users / renamed))
	}
	var ids []string
	for i := range users {
		ids = append(ids, bulkUserID(i))
	}
	b.notify(time.Now().Add(-time.Minute), ids...)

	b.startBatched(500, time.Second)
	b.settle()

	if got := b.patches(); got != renamed {
		t.Errorf("got %d PATCH requests, want %d", got, renamed)
	}
	if got := b.userReads(); got != 0 {
		t.Errorf("got %d single Graph user reads, want 0", got)
	}
	if got := b.fakes.graph.BatchItems("/v1.0/users/"); got != renamed {
		t.Errorf("got %d user reads inside batches, want %d (one per renamed user)", got, renamed)
	}
	// The 40 renamed users need 2 JSON batches of 20, or up to 4 when the
	// worker claims them in two bulk rounds.
	if got := b.fakes.graph.Requests("/v1.0/$batch"); got > 4 {
		t.Errorf("got %d batch requests, want at most 4", got)
	}
	for i := range renamed {
		id := bulkUserID(i * (users / renamed))
		u, _ := b.scim.User(b.scimID[id])
		if u.UserName != id+"@fabrikam.com" {
			t.Errorf("user %s: got SCIM userName %q, want %q", id, u.UserName, id+"@fabrikam.com")
		}
	}
}
