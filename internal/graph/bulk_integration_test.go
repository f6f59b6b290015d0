package graph_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	entrabridge "github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/scim"
	"github.com/entrabridge/entrabridge/internal/throttle"
	"github.com/entrabridge/entrabridge/internal/worker"
)

// These tests run the worker against the real Graph client and the fake
// Graph, because bulk resolution depends on what users delta returns
// after a change, which the fake's change log models and an in-memory
// directory would have to re-implement.

// bulkBridge is a fake Graph and SCIM with users, a store, and the
// client the workers use.
type bulkBridge struct {
	t      *testing.T
	fakes  fakes
	scim   *fakescim.Server
	store  *redisstore.Store
	client *graph.Client
	scimID map[string]string
}

func startBulkBridge(t *testing.T, users int) *bulkBridge {
	t.Helper()
	f := startFakes(t)
	fakeSCIM, err := fakescim.Start(fakescim.Options{Token: "scim-token"})
	if err != nil {
		t.Fatalf("start fake scim: %v", err)
	}
	t.Cleanup(fakeSCIM.Close)
	b := &bulkBridge{t: t, fakes: f, scim: fakeSCIM, store: redistest.NewStore(t),
		client: newClient(t, f.cfg), scimID: map[string]string{}}
	for i := range users {
		id := bulkUserID(i)
		f.graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: id + "@contoso.com", Mail: id + "@contoso.com"})
		rec := fakeSCIM.AddUser(scim.User{ExternalID: id, UserName: id + "@contoso.com",
			Emails: []scim.Email{{Value: id + "@contoso.com", Type: "work", Primary: true}}})
		b.scimID[id] = rec.ID
	}
	return b
}

func bulkUserID(i int) string { return fmt.Sprintf("user-%04d", i) }

// trackSince starts the bulk delta links as if tracking began at origin.
func (b *bulkBridge) trackSince(origin time.Time) {
	b.t.Helper()
	link, err := b.client.LatestUsersDeltaLink(context.Background())
	if err != nil {
		b.t.Fatalf("LatestUsersDeltaLink: %v", err)
	}
	if err := b.store.SaveBulkLink(context.Background(), link, origin, origin); err != nil {
		b.t.Fatalf("SaveBulkLink: %v", err)
	}
}

func (b *bulkBridge) rename(i int) {
	id := bulkUserID(i)
	b.fakes.graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: id + "@fabrikam.com", Mail: id + "@fabrikam.com"})
}

// notify queues a notification for each user, received at receivedAt.
func (b *bulkBridge) notify(receivedAt time.Time, ids ...string) {
	b.t.Helper()
	changes := make([]entrabridge.Change, len(ids))
	for i, id := range ids {
		changes[i] = entrabridge.Change{UserID: id, ChangeType: "updated", ReceivedAt: receivedAt}
	}
	if err := b.store.Enqueue(context.Background(), changes, nil); err != nil {
		b.t.Fatalf("enqueue: %v", err)
	}
}

// start runs one worker with bulk resolution until the test ends.
func (b *bulkBridge) start(threshold int, allowance time.Duration) {
	b.t.Helper()
	sc, err := scim.New(b.scim.BaseURL(), "scim-token", scim.Options{HTTPClient: b.scim.Client()})
	if err != nil {
		b.t.Fatalf("scim client: %v", err)
	}
	w, err := worker.New(worker.Config{
		Owner: "bulk-worker", Concurrency: 8, Lease: 30 * time.Second,
		PollInterval: 10 * time.Millisecond, Delta: b.client,
		BulkThreshold: threshold, BulkLagAllowance: allowance,
		Logger: slog.New(slog.NewTextHandler(b.t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, b.store, directory{b.client}, sc, throttle.New(b.store, "scim", 0, 1))
	if err != nil {
		b.t.Fatalf("new worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx, 5*time.Second); close(done) }()
	b.t.Cleanup(func() { cancel(); <-done })
}

// settle waits until nothing is queued, due or in flight, three times in
// a row.
func (b *bulkBridge) settle() {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	quiet := 0
	for quiet < 3 {
		if time.Now().After(deadline) {
			d, _ := b.store.Depths(context.Background())
			b.t.Fatalf("timed out waiting for the queue to drain: %+v", d)
		}
		d, err := b.store.Depths(context.Background())
		if err == nil && d.Due == 0 && d.Scheduled == 0 && d.InFlight == 0 && d.InboxPending == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// userReads returns how many GET /users/{id} requests fake Graph got.
func (b *bulkBridge) userReads() int {
	return b.fakes.graph.Requests("/v1.0/users/") - b.deltaRequests()
}

func (b *bulkBridge) deltaRequests() int {
	return b.fakes.graph.Requests("/v1.0/users/delta")
}

func (b *bulkBridge) patches() int {
	n := 0
	for _, r := range b.scim.Requests() {
		if r.Method == http.MethodPatch {
			n++
		}
	}
	return n
}

func TestBulkRoundReadsOnlyRenamed(t *testing.T) {
	const users, renamed = 2000, 20
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

	b.start(500, time.Second)
	b.settle()

	if got := b.patches(); got != renamed {
		t.Errorf("got %d PATCH requests, want %d", got, renamed)
	}
	if got := b.userReads(); got != renamed {
		t.Errorf("got %d Graph user reads, want %d (one per renamed user)", got, renamed)
	}
	if got := b.deltaRequests(); got > 10 {
		t.Errorf("got %d users delta requests, want at most 10", got)
	}
	for i := range renamed {
		id := bulkUserID(i * (users / renamed))
		u, _ := b.scim.User(b.scimID[id])
		if u.UserName != id+"@fabrikam.com" {
			t.Errorf("user %s: got SCIM userName %q, want %q", id, u.UserName, id+"@fabrikam.com")
		}
	}
}

func TestBulkRecentNotificationRechecked(t *testing.T) {
	b := startBulkBridge(t, 1)
	b.trackSince(time.Now().Add(-time.Hour))
	id := bulkUserID(0)
	b.notify(time.Now(), id)

	b.start(1, 300*time.Millisecond)
	b.settle()

	if got := b.deltaRequests(); got < 3 {
		t.Errorf("got %d users delta requests, want at least 3 (start, round, recheck round)", got)
	}
	if got := b.userReads(); got != 0 {
		t.Errorf("got %d Graph user reads, want 0 for an unchanged user", got)
	}
	if got := b.patches(); got != 0 {
		t.Errorf("got %d PATCH requests, want 0", got)
	}
}

func TestBulkMarkedUserIsRead(t *testing.T) {
	b := startBulkBridge(t, 2)
	b.trackSince(time.Now().Add(-time.Hour))
	marked, other := bulkUserID(0), bulkUserID(1)
	// The fake's delta log does not show this rename, as when another
	// round, such as the Reconciler's, already consumed it.
	b.rename(0)
	b.trackSince(time.Now().Add(-time.Hour))
	if err := b.store.MarkChanged(context.Background(), []string{marked}, time.Now()); err != nil {
		t.Fatalf("MarkChanged: %v", err)
	}
	b.notify(time.Now().Add(-time.Minute), marked, other)

	b.start(1, time.Second)
	b.settle()

	if got := b.userReads(); got != 1 {
		t.Errorf("got %d Graph user reads, want 1 (the marked user)", got)
	}
	if got := b.patches(); got != 1 {
		t.Errorf("got %d PATCH requests, want 1", got)
	}
	marks, err := b.store.ChangedMarks(context.Background(), []string{marked})
	if err != nil {
		t.Fatalf("ChangedMarks: %v", err)
	}
	if len(marks) != 0 {
		t.Errorf("got changed marks %v after the sync, want none", marks)
	}
}

func TestBulkExpiredLinkReadsBatch(t *testing.T) {
	const users = 30
	b := startBulkBridge(t, users)
	b.trackSince(time.Now().Add(-time.Hour))
	b.rename(3)
	b.fakes.graph.ExpireDeltaTokens(http.StatusGone)
	var ids []string
	for i := range users {
		ids = append(ids, bulkUserID(i))
	}
	b.notify(time.Now().Add(-time.Minute), ids...)

	b.start(10, time.Second)
	b.settle()

	if got := b.userReads(); got != users {
		t.Errorf("got %d Graph user reads, want %d (the whole batch after the link expired)", got, users)
	}
	if got := b.patches(); got != 1 {
		t.Errorf("got %d PATCH requests, want 1", got)
	}
	_, origin, err := b.store.BulkLink(context.Background())
	if err != nil {
		t.Fatalf("BulkLink: %v", err)
	}
	if time.Since(origin) > time.Minute {
		t.Errorf("got bulk origin %s ago, want a new chain started by the test", time.Since(origin))
	}
}
