package subscription_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

// putUsers adds alex, blake and casey to the fixture's directory.
func putUsers(f fixture) {
	f.graph.putUser("alex", "alex@contoso.com", "alex@contoso.com")
	f.graph.putUser("blake", "blake@contoso.com", "blake@contoso.com")
	f.graph.putUser("casey", "casey@contoso.com", "")
}

func runDelta(t *testing.T, f fixture, apply bool) redisstore.DeltaRun {
	t.Helper()
	run, err := f.reconciler.Run(testContext(t), apply)
	if err != nil {
		t.Fatalf("Run(apply=%t): %v", apply, err)
	}
	return run
}

// checkRun compares the counters and mode of a run.
func checkRun(t *testing.T, got, want redisstore.DeltaRun) {
	t.Helper()
	got.StartedAt, got.FinishedAt = time.Time{}, time.Time{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delta run mismatch (-want +got):\n%s", diff)
	}
}

func snapshot(t *testing.T, store *redisstore.Store, id string) (bridge.Snapshot, bool) {
	t.Helper()
	snap, ok, err := store.Snapshot(testContext(t), id)
	if err != nil {
		t.Fatalf("Snapshot(%s): %v", id, err)
	}
	return snap, ok
}

func TestReconcilerBaseline(t *testing.T) {
	f := newFixture(t)
	putUsers(f)

	run := runDelta(t, f, false)

	checkRun(t, run, redisstore.DeltaRun{OK: true, Mode: subscription.ModeBaseline, Users: 3, Baselined: 3})
	if got := f.graph.callCount(opDelta); got != 2 {
		t.Errorf("got %d delta pages read, want 2 pages of at most 2 users", got)
	}
	if due := dueUsers(t, f.store, "alex", "blake", "casey"); len(due) != 0 {
		t.Errorf("got users %v queued by a baseline, want none", due)
	}
	snap, ok := snapshot(t, f.store, "casey")
	if !ok || snap.UserPrincipalName != "casey@contoso.com" || snap.Mail != "" {
		t.Errorf("got snapshot %+v (stored %t), want casey@contoso.com without mail", snap, ok)
	}
	link, err := f.store.DeltaLink(testContext(t))
	if err != nil || link == "" {
		t.Errorf("got delta link %q, %v, want one stored", link, err)
	}
}

func TestReconcilerBaselineKeepsSnapshots(t *testing.T) {
	f := newFixture(t)
	putUsers(f)
	ctx := testContext(t)
	// The worker synced blake under an older name, and a rename is still
	// on its way to Atlassian.
	synced := bridge.Snapshot{UserID: "blake", UserPrincipalName: "blake.old@contoso.com",
		Mail: "blake.old@contoso.com", ScimUserID: "scim-blake", SyncedAt: time.UnixMilli(1_800_000_000_000)}
	if err := f.store.SaveSnapshot(ctx, synced); err != nil {
		t.Fatalf("SaveSnapshot: %v", err)
	}

	run := runDelta(t, f, false)

	checkRun(t, run, redisstore.DeltaRun{OK: true, Mode: subscription.ModeBaseline, Users: 3, Baselined: 2, Changed: 1})
	if got, _ := snapshot(t, f.store, "blake"); got != synced {
		t.Errorf("got snapshot %+v, want the worker's %+v kept", got, synced)
	}
	if due := dueUsers(t, f.store, "alex", "blake", "casey"); !slices.Equal(due, []string{"blake"}) {
		t.Errorf("got due users %v, want [blake]", due)
	}
}

func TestReconcilerApplyQueuesAll(t *testing.T) {
	f := newFixture(t)
	putUsers(f)

	run := runDelta(t, f, true)

	checkRun(t, run, redisstore.DeltaRun{OK: true, Mode: subscription.ModeFull, Users: 3, Changed: 3})
	due := dueUsers(t, f.store, "alex", "blake", "casey")
	if !slices.Equal(due, []string{"alex", "blake", "casey"}) {
		t.Errorf("got due users %v, want all three", due)
	}
	if _, ok := snapshot(t, f.store, "alex"); ok {
		t.Error("got a snapshot saved by an applying run, want none, so that the worker compares with nothing and syncs")
	}
}

func TestReconcilerCatchesRename(t *testing.T) {
	f := newFixture(t)
	putUsers(f)
	runDelta(t, f, false)

	// No notification reports these changes: only the delta query does.
	f.graph.putUser("blake", "blake.smith@contoso.com", "blake.smith@contoso.com")
	f.graph.removeUser("casey", "deleted")
	run := runDelta(t, f, false)

	checkRun(t, run, redisstore.DeltaRun{OK: true, Mode: subscription.ModeIncremental, Users: 1, Changed: 1, Removed: 1})
	if due := dueUsers(t, f.store, "alex", "blake", "casey"); !slices.Equal(due, []string{"blake"}) {
		t.Errorf("got due users %v, want [blake]", due)
	}

	// Nothing changed since, so the next round queues nothing.
	run = runDelta(t, f, false)
	checkRun(t, run, redisstore.DeltaRun{OK: true, Mode: subscription.ModeIncremental})
}

func TestReconcilerQueuesDeltaChange(t *testing.T) {
	queue := &recordingQueue{}
	f := newFixture(t)
	f.graph.putUser("alex", "alex@contoso.com", "alex@contoso.com")
	r := subscription.NewReconciler(f.graph, queue, subscription.ReconcilerConfig{Now: f.clock.Now})

	if _, err := r.Run(testContext(t), true); err != nil {
		t.Fatalf("Run: %v", err)
	}

	want := []bridge.Change{{UserID: "alex", ChangeType: "delta", ReceivedAt: f.clock.Now()}}
	if diff := cmp.Diff(want, queue.changes); diff != "" {
		t.Errorf("queued changes mismatch (-want +got):\n%s", diff)
	}
}

func TestReconcilerResyncsExpiredLink(t *testing.T) {
	f := newFixture(t)
	putUsers(f)
	runDelta(t, f, false)
	f.graph.putUser("alex", "alex.jones@contoso.com", "alex.jones@contoso.com")
	f.graph.expireLinks()

	run := runDelta(t, f, false)

	checkRun(t, run, redisstore.DeltaRun{OK: true, Mode: subscription.ModeFull, Users: 3, Changed: 1, Resynced: true})
	if due := dueUsers(t, f.store, "alex", "blake", "casey"); !slices.Equal(due, []string{"alex"}) {
		t.Errorf("got due users %v, want [alex], whose snapshot differs", due)
	}
	// The resync stored a working link: the next run is incremental.
	run = runDelta(t, f, false)
	if run.Mode != subscription.ModeIncremental || run.Resynced {
		t.Errorf("got mode %s, resynced %t after the resync, want incremental, false", run.Mode, run.Resynced)
	}
}

func TestReconcilerFailureKeepsLink(t *testing.T) {
	f := newFixture(t)
	putUsers(f)
	runDelta(t, f, false)
	ctx := testContext(t)
	linkBefore, err := f.store.DeltaLink(ctx)
	if err != nil {
		t.Fatalf("DeltaLink: %v", err)
	}
	f.graph.putUser("alex", "alex.jones@contoso.com", "")
	f.graph.putUser("blake", "blake.smith@contoso.com", "")
	f.graph.putUser("casey", "casey.lee@contoso.com", "")
	// The first page of three changed users arrives, the second fails.
	f.graph.failNext(opDelta, nil)
	f.graph.failNext(opDelta, &failure.Error{Service: "graph", Class: failure.Retryable, Status: http.StatusServiceUnavailable})

	run, err := f.reconciler.Run(ctx, false)

	if err == nil {
		t.Fatal("got no error, want the failure of page 2")
	}
	if !strings.Contains(err.Error(), "page 2") {
		t.Errorf("got error %q, want it to name page 2", err)
	}
	if run.OK || run.Error == "" {
		t.Errorf("got run OK %t with error %q, want a failed run with its error", run.OK, run.Error)
	}
	if link, _ := f.store.DeltaLink(ctx); link != linkBefore {
		t.Errorf("got delta link %q after a failed round, want the previous %q", link, linkBefore)
	}
	last, ok, err := f.reconciler.LastRun(ctx)
	if err != nil || !ok || last.OK {
		t.Errorf("got last run %+v (stored %t, %v), want the failed run", last, ok, err)
	}
	runs := f.observer.runs
	if len(runs) != 2 || runs[1].ok || runs[1].changed != 2 {
		t.Errorf("got observed runs %+v, want a second one failed with 2 users changed", runs)
	}

	// The repeated round starts from the same link and catches all three.
	run = runDelta(t, f, false)
	if run.Changed != 3 {
		t.Errorf("got %d changed users on the repeated round, want 3", run.Changed)
	}
}

func TestReconcilerPageWithoutLinks(t *testing.T) {
	f := newFixture(t)
	broken := brokenDeltaSource{}
	r := subscription.NewReconciler(broken, f.store, subscription.ReconcilerConfig{})

	_, err := r.Run(testContext(t), false)

	if err == nil || !strings.Contains(err.Error(), "neither @odata.nextLink nor @odata.deltaLink") {
		t.Errorf("got error %v, want one about the missing links", err)
	}
}

func TestResyncRequired(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "directory token expired", err: &failure.Error{Status: 400, Code: "syncStateNotFound"}, want: true},
		{name: "outlook token expired", err: &failure.Error{Status: 410, Code: "SyncStateNotFound"}, want: true},
		{name: "gone without code", err: &failure.Error{Status: 410}, want: true},
		{name: "resync required", err: &failure.Error{Status: 400, Code: "resyncRequired"}, want: true},
		{name: "bad request", err: &failure.Error{Status: 400, Code: "BadRequest"}, want: false},
		{name: "unavailable", err: &failure.Error{Status: 503}, want: false},
		{name: "plain error", err: context.DeadlineExceeded, want: false},
		{name: "nil", err: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subscription.ResyncRequired(tt.err); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

// recordingQueue is a ReconcilerStore that records queued changes and
// keeps the delta state in memory.
type recordingQueue struct {
	changes []bridge.Change
	link    string
	run     redisstore.DeltaRun
}

func (q *recordingQueue) Enqueue(_ context.Context, changes []bridge.Change, _ []bridge.Lifecycle) error {
	q.changes = append(q.changes, changes...)
	return nil
}

func (q *recordingQueue) CompareSnapshots(_ context.Context, users []bridge.Snapshot, _ bool) ([]string, int, error) {
	var stale []string
	for _, u := range users {
		stale = append(stale, u.UserID)
	}
	return stale, 0, nil
}

func (q *recordingQueue) DeltaLink(context.Context) (string, error) { return q.link, nil }

func (q *recordingQueue) SaveDeltaLink(_ context.Context, link string) error {
	q.link = link
	return nil
}

func (q *recordingQueue) SaveDeltaRun(_ context.Context, run redisstore.DeltaRun) error {
	q.run = run
	return nil
}

func (q *recordingQueue) LastDeltaRun(context.Context) (redisstore.DeltaRun, bool, error) {
	return q.run, !q.run.StartedAt.IsZero(), nil
}

// brokenDeltaSource returns a page that ends the round without a link.
type brokenDeltaSource struct{}

func (brokenDeltaSource) UsersDelta(context.Context, string) (subscription.DeltaPage, error) {
	return subscription.DeltaPage{Users: []subscription.DeltaUser{{ID: "alex"}}}, nil
}
