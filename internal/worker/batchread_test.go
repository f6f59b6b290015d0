package worker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/scim"
	"github.com/entrabridge/entrabridge/internal/throttle"
	"github.com/entrabridge/entrabridge/internal/worker"
)

// batchDirectory is a directory that also reads users in batches. Each ID
// in failOnce gets its error from the next batch that reads it.
type batchDirectory struct {
	*directory
	mu         sync.Mutex
	calls      int
	batchReads int
	failOnce   map[string]error
}

func (d *batchDirectory) GetUsers(_ context.Context, ids []string) (map[string]plan.EntraUser, map[string]error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	found := map[string]plan.EntraUser{}
	failed := map[string]error{}
	for _, id := range ids {
		d.batchReads++
		if err, ok := d.failOnce[id]; ok {
			delete(d.failOnce, id)
			failed[id] = err
			continue
		}
		d.directory.mu.Lock()
		u, ok := d.users[id]
		d.directory.mu.Unlock()
		if ok {
			found[id] = u
		} else {
			failed[id] = &failure.Error{Service: "graph", Class: failure.NotFound, Status: 404}
		}
	}
	return found, failed
}

func (d *batchDirectory) counts() (calls, batchReads int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls, d.batchReads
}

// startWith runs one worker reading from dir until the test ends.
func (h *harness) startWith(dir worker.Directory) {
	h.t.Helper()
	client, err := scim.New(h.scim.BaseURL(), "scim-test-token", scim.Options{HTTPClient: h.scim.Client()})
	if err != nil {
		h.t.Fatalf("scim client: %v", err)
	}
	cfg := h.cfg
	cfg.Owner = "batch-worker"
	w, err := worker.New(cfg, h.store, dir, client, throttle.New(h.store, "scim", 0, 1))
	if err != nil {
		h.t.Fatalf("new worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx, 5*time.Second); close(done) }()
	h.t.Cleanup(func() { cancel(); <-done })
}

func TestClaimedUsersReadInBatch(t *testing.T) {
	h := newHarness(t, func(c *worker.Config) { c.Concurrency = 8 })
	dir := &batchDirectory{directory: h.dir}
	var ids []string
	records := map[string]scim.User{}
	for i := range 6 {
		id := fmt.Sprintf("2b3c1f7a-0000-4000-8000-1000000000%02d", i)
		ids = append(ids, id)
		records[id] = h.user(id, fmt.Sprintf("user%d@contoso.com", i), "")
		h.dir.put(plan.EntraUser{ID: id, UserPrincipalName: fmt.Sprintf("user%d.new@contoso.com", i)})
	}
	h.notify(ids...)
	h.startWith(dir)
	h.settled()

	for i, id := range ids {
		u, _ := h.scim.User(records[id].ID)
		if want := fmt.Sprintf("user%d.new@contoso.com", i); u.UserName != want {
			t.Errorf("user %s: got SCIM userName %q, want %q", id, u.UserName, want)
		}
	}
	calls, batchReads := dir.counts()
	if calls < 1 {
		t.Errorf("got %d GetUsers calls, want at least 1", calls)
	}
	if batchReads != len(ids) {
		t.Errorf("got %d users read in batches, want %d", batchReads, len(ids))
	}
	for _, id := range ids {
		if got := h.dir.readCount(id); got != 0 {
			t.Errorf("user %s: got %d single reads, want 0", id, got)
		}
	}
}

func TestBatchReadErrorsPerUser(t *testing.T) {
	h := newHarness(t, func(c *worker.Config) { c.Concurrency = 8 })
	const goneID, throttledID = alexID, bobID
	h.user(goneID, "gone@contoso.com", "")
	rec := h.user(throttledID, "bob@contoso.com", "")
	h.dir.mu.Lock()
	delete(h.dir.users, goneID)
	h.dir.mu.Unlock()
	h.dir.put(plan.EntraUser{ID: throttledID, UserPrincipalName: "bob.new@contoso.com"})
	dir := &batchDirectory{directory: h.dir, failOnce: map[string]error{
		throttledID: &failure.Error{Service: "graph", Class: failure.Retryable, Status: 429, RetryAfter: 50 * time.Millisecond},
	}}
	h.notify(goneID, throttledID)
	h.startWith(dir)

	h.eventually("rename after the throttled read to reach scim", func() bool {
		u, _ := h.scim.User(rec.ID)
		return u.UserName == "bob.new@contoso.com"
	})
	h.settled()
	if got := len(h.deadLetters()); got != 0 {
		t.Errorf("got %d dead letters, want 0", got)
	}
	if got := h.scim.Patches(rec.ID); got != 1 {
		t.Errorf("got %d PATCH requests for the throttled user, want 1", got)
	}
	if _, batchReads := dir.counts(); batchReads < 2 {
		t.Errorf("got %d users read in batches, want at least 2", batchReads)
	}
}
