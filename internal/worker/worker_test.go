package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/scim"
	"github.com/entrabridge/entrabridge/internal/throttle"
	"github.com/entrabridge/entrabridge/internal/worker"
)

// directory is an in-memory Entra directory. The worker's contract with
// Graph is one read per sync; the real Graph client is exercised against
// the fake Graph in the graph package and end to end in cmd/entrabridge.
type directory struct {
	mu    sync.Mutex
	users map[string]plan.EntraUser
	reads map[string]int
}

func newDirectory() *directory {
	return &directory{users: map[string]plan.EntraUser{}, reads: map[string]int{}}
}

func (d *directory) GetUser(_ context.Context, id string) (plan.EntraUser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reads[id]++
	u, ok := d.users[id]
	if !ok {
		return plan.EntraUser{}, &failure.Error{Service: "graph", Class: failure.NotFound, Status: 404}
	}
	return u, nil
}

func (d *directory) put(u plan.EntraUser) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[u.ID] = u
}

func (d *directory) readCount(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reads[id]
}

type harness struct {
	t     *testing.T
	store *redisstore.Store
	dir   *directory
	scim  *fakescim.Server
	cfg   worker.Config
	ctx   context.Context
}

func newHarness(t *testing.T, mutate func(*worker.Config)) *harness {
	t.Helper()
	fake, err := fakescim.Start(fakescim.Options{Token: "scim-test-token"})
	if err != nil {
		t.Fatalf("start fake scim: %v", err)
	}
	t.Cleanup(fake.Close)
	cfg := worker.Config{
		Concurrency:  4,
		Debounce:     50 * time.Millisecond,
		Lease:        15 * time.Second,
		MaxAttempts:  5,
		BackoffBase:  20 * time.Millisecond,
		BackoffMax:   200 * time.Millisecond,
		PollInterval: 10 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	return &harness{t: t, store: redistest.NewStore(t), dir: newDirectory(), scim: fake, cfg: cfg, ctx: t.Context()}
}

// start runs n workers until the test ends.
func (h *harness) start(n int) {
	h.t.Helper()
	for i := range n {
		client, err := scim.New(h.scim.BaseURL(), "scim-test-token", scim.Options{HTTPClient: h.scim.Client()})
		if err != nil {
			h.t.Fatalf("scim client: %v", err)
		}
		cfg := h.cfg
		cfg.Owner = fmt.Sprintf("worker-%d", i)
		limiter := throttle.New(h.store, "scim", 0, 1)
		w, err := worker.New(cfg, h.store, h.dir, client, limiter)
		if err != nil {
			h.t.Fatalf("new worker: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = w.Run(ctx, 5*time.Second); close(done) }()
		h.t.Cleanup(func() { cancel(); <-done })
	}
}

// user creates an Entra user and its SCIM record with matching names.
func (h *harness) user(id, upn, mail string) scim.User {
	h.t.Helper()
	h.dir.put(plan.EntraUser{ID: id, UserPrincipalName: upn, Mail: mail})
	email := mail
	if email == "" {
		email = upn
	}
	return h.scim.AddUser(scim.User{
		ExternalID: id, UserName: upn,
		Emails: []scim.Email{{Value: email, Type: "work", Primary: true}},
	})
}

func (h *harness) notify(ids ...string) {
	h.t.Helper()
	changes := make([]bridge.Change, len(ids))
	for i, id := range ids {
		changes[i] = bridge.Change{UserID: id, ChangeType: "updated", ReceivedAt: time.Now()}
	}
	if err := h.store.Enqueue(h.ctx, changes, nil); err != nil {
		h.t.Fatalf("enqueue: %v", err)
	}
}

// eventually polls cond until it holds or 15 s pass.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settled waits until nothing is queued, due, in flight or pending, seen
// three times in a row so that a user between two structures is not missed.
func (h *harness) settled() {
	h.t.Helper()
	quiet := 0
	h.eventually("queue to drain", func() bool {
		d, err := h.store.Depths(h.ctx)
		if err == nil && d.Due == 0 && d.Scheduled == 0 && d.InFlight == 0 && d.InboxPending == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(20 * time.Millisecond)
		return quiet >= 3
	})
}

func (h *harness) deadLetters() []bridge.DeadLetter {
	h.t.Helper()
	dls, err := h.store.DeadLetters(h.ctx, 100)
	if err != nil {
		h.t.Fatalf("dead letters: %v", err)
	}
	return dls
}

func workEmail(u scim.User) string {
	e, _ := u.WorkEmail()
	return e.Value
}

const (
	alexID = "2b3c1f7a-0000-4000-8000-000000000001"
	bobID  = "2b3c1f7a-0000-4000-8000-000000000002"
)

func TestRenameIsPatched(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.doe@contoso.com", Mail: "alex.doe@contoso.com"})
	h.notify(alexID)
	h.eventually("rename to reach scim", func() bool {
		u, _ := h.scim.User(rec.ID)
		return u.UserName == "alex.doe@contoso.com" && workEmail(u) == "alex.doe@contoso.com"
	})
	h.settled()
	if got := h.scim.Patches(rec.ID); got != 1 {
		t.Errorf("got %d PATCH requests, want 1", got)
	}
	snap, ok, err := h.store.Snapshot(h.ctx, alexID)
	if err != nil || !ok {
		t.Fatalf("snapshot: ok=%v err=%v", ok, err)
	}
	if snap.UserPrincipalName != "alex.doe@contoso.com" || snap.ScimUserID != rec.ID {
		t.Errorf("snapshot = %+v, want the new UPN and SCIM id %s", snap, rec.ID)
	}
	audit, err := h.store.Audit(h.ctx, alexID, time.Time{}, 10)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if len(audit) != 1 || audit[0].Result != "synced" || audit[0].BeforeUserName != "alex@contoso.com" {
		t.Errorf("audit = %+v, want one synced entry from alex@contoso.com", audit)
	}
}

func TestNoRelevantChangeSendsNoPatch(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.start(1)

	h.notify(alexID)
	h.settled()
	h.notify(alexID)
	h.settled()
	if got := h.scim.Patches(rec.ID); got != 0 {
		t.Errorf("got %d PATCH requests, want 0", got)
	}
	if got := h.dir.readCount(alexID); got != 2 {
		t.Errorf("got %d Graph reads, want 2", got)
	}
}

func TestMailFallsBackToUPN(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.user(alexID, "alex@contoso.com", "")
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.doe@contoso.com"})
	h.notify(alexID)
	h.eventually("rename to reach scim", func() bool {
		u, _ := h.scim.User(rec.ID)
		return workEmail(u) == "alex.doe@contoso.com"
	})
}

func TestBurstCoalesces(t *testing.T) {
	h := newHarness(t, func(c *worker.Config) { c.Debounce = 300 * time.Millisecond })
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.doe@contoso.com", Mail: "alex.doe@contoso.com"})
	h.start(2)

	ids := make([]string, 200)
	for i := range ids {
		ids[i] = alexID
	}
	h.notify(ids...)
	h.settled()
	if got := h.scim.Patches(rec.ID); got != 1 {
		t.Errorf("got %d PATCH requests for 200 notifications, want 1", got)
	}
	if got := h.dir.readCount(alexID); got != 1 {
		t.Errorf("got %d Graph reads for 200 notifications, want 1", got)
	}
}

func TestConflictDeadLettersOnce(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.user(bobID, "bob@contoso.com", "bob@contoso.com")
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex@contoso.com", Mail: "bob@contoso.com"})
	h.notify(alexID)
	h.eventually("a dead letter", func() bool { return len(h.deadLetters()) > 0 })
	h.settled()

	dls := h.deadLetters()
	if len(dls) != 1 || dls[0].Reason != worker.ReasonSCIMConflict {
		t.Fatalf("dead letters = %+v, want one %s", dls, worker.ReasonSCIMConflict)
	}
	if got := h.scim.Patches(rec.ID); got != 1 {
		t.Errorf("got %d PATCH requests, want 1 (no retry loop)", got)
	}
}

func TestUnmappedUserDeadLetters(t *testing.T) {
	h := newHarness(t, nil)
	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex@contoso.com", Mail: "alex@contoso.com"})
	h.start(1)

	h.notify(alexID)
	h.eventually("a dead letter", func() bool { return len(h.deadLetters()) > 0 })
	dls := h.deadLetters()
	if dls[0].Reason != worker.ReasonUnmapped || dls[0].UserID != alexID {
		t.Errorf("dead letter = %+v, want %s for %s", dls[0], worker.ReasonUnmapped, alexID)
	}
}

func TestUnavailableSCIMIsRetried(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.scim.FailNext(3, http.StatusServiceUnavailable, nil, nil)
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.doe@contoso.com", Mail: "alex.doe@contoso.com"})
	h.notify(alexID)
	h.eventually("rename to reach scim", func() bool {
		u, _ := h.scim.User(rec.ID)
		return u.UserName == "alex.doe@contoso.com"
	})
	if dls := h.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
}

func TestThrottledSCIMPausesPool(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.scim.FailNext(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, nil)
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.doe@contoso.com", Mail: "alex.doe@contoso.com"})
	h.notify(alexID)
	h.eventually("rename to reach scim", func() bool {
		u, _ := h.scim.User(rec.ID)
		return u.UserName == "alex.doe@contoso.com"
	})
	// The first request got the 429; the next may go only after Retry-After.
	reqs := h.scim.Requests()
	if len(reqs) < 2 {
		t.Fatalf("got %d SCIM requests, want at least 2", len(reqs))
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 900*time.Millisecond {
		t.Errorf("next SCIM request %s after the 429, want at least the 1 s Retry-After", gap)
	}
}

func TestUnverifiedDomainIsNotSent(t *testing.T) {
	h := newHarness(t, func(c *worker.Config) {
		c.Policy = plan.Policy{VerifiedDomains: []string{"contoso.com"}}
	})
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex@fabrikam.com", Mail: "alex@fabrikam.com"})
	h.notify(alexID)
	h.eventually("a dead letter", func() bool { return len(h.deadLetters()) > 0 })
	if dls := h.deadLetters(); dls[0].Reason != worker.ReasonUnverifiedDomain {
		t.Errorf("dead letter reason = %q, want %q", dls[0].Reason, worker.ReasonUnverifiedDomain)
	}
	if got := h.scim.Patches(rec.ID); got != 0 {
		t.Errorf("got %d PATCH requests, want 0", got)
	}
}

func TestTypelessEmailIsReplaced(t *testing.T) {
	h := newHarness(t, nil)
	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex@contoso.com", Mail: "alex@contoso.com"})
	rec := h.scim.AddUser(scim.User{
		ExternalID: alexID, UserName: "alex@contoso.com",
		Emails: []scim.Email{{Value: "alex@contoso.com"}},
	})
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.doe@contoso.com", Mail: "alex.doe@contoso.com"})
	h.notify(alexID)
	h.eventually("rename to reach scim", func() bool {
		u, _ := h.scim.User(rec.ID)
		return workEmail(u) == "alex.doe@contoso.com"
	})
}

func TestDryRunSendsNothing(t *testing.T) {
	h := newHarness(t, func(c *worker.Config) { c.DryRun = true })
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.start(1)

	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.doe@contoso.com", Mail: "alex.doe@contoso.com"})
	h.notify(alexID)
	h.eventually("a dry-run audit entry", func() bool {
		entries, err := h.store.Audit(h.ctx, alexID, time.Time{}, 10)
		return err == nil && len(entries) == 1 && entries[0].DryRun
	})
	if got := h.scim.Patches(rec.ID); got != 0 {
		t.Errorf("got %d PATCH requests in dry run, want 0", got)
	}
}

func TestDeletedUserSendsNothing(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.scim.AddUser(scim.User{ExternalID: alexID, UserName: "alex@contoso.com"})
	h.start(1)

	h.notify(alexID)
	h.settled()
	if got := h.scim.Patches(rec.ID); got != 0 {
		t.Errorf("got %d PATCH requests for a user gone from Graph, want 0", got)
	}
	if dls := h.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
}

func TestInterleavedChangesConverge(t *testing.T) {
	h := newHarness(t, func(c *worker.Config) { c.Debounce = 20 * time.Millisecond })
	const users, changes = 50, 10
	ids := make([]string, users)
	recs := make([]scim.User, users)
	for i := range ids {
		ids[i] = fmt.Sprintf("2b3c1f7a-0000-4000-8000-%012d", i+100)
		recs[i] = h.user(ids[i], fmt.Sprintf("u%d@contoso.com", i), fmt.Sprintf("u%d@contoso.com", i))
	}
	h.start(3)

	var wg sync.WaitGroup
	for g := range 5 {
		wg.Go(func() {
			for c := range changes {
				for i := g; i < users; i += 5 {
					upn := fmt.Sprintf("u%d.v%d@contoso.com", i, c)
					h.dir.put(plan.EntraUser{ID: ids[i], UserPrincipalName: upn, Mail: upn})
					h.notify(ids[i])
				}
			}
		})
	}
	wg.Wait()

	for i, rec := range recs {
		want := fmt.Sprintf("u%d.v%d@contoso.com", i, changes-1)
		h.eventually("user "+ids[i]+" to converge", func() bool {
			u, _ := h.scim.User(rec.ID)
			return u.UserName == want && workEmail(u) == want
		})
	}
	if got := h.scim.Overlaps(); got != 0 {
		t.Errorf("got %d overlapping PATCHes for one user, want 0", got)
	}
}

func TestConflictRetriedWhenAddressFreed(t *testing.T) {
	h := newHarness(t, nil)
	alex := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	bob := h.user(bobID, "bob@contoso.com", "bob@contoso.com")
	h.start(1)

	// Bob takes Alex's address, and Bob's notification comes first.
	h.dir.put(plan.EntraUser{ID: bobID, UserPrincipalName: "alex@contoso.com", Mail: "alex@contoso.com"})
	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.old@contoso.com", Mail: "alex.old@contoso.com"})
	h.notify(bobID)
	h.eventually("bob's conflict dead letter", func() bool { return len(h.deadLetters()) == 1 })

	h.notify(alexID)
	h.eventually("bob to get the freed address", func() bool {
		u, _ := h.scim.User(bob.ID)
		return u.UserName == "alex@contoso.com" && workEmail(u) == "alex@contoso.com"
	})
	if u, _ := h.scim.User(alex.ID); u.UserName != "alex.old@contoso.com" {
		t.Errorf("alex = %q, want alex.old@contoso.com", u.UserName)
	}
	h.settled()
	if dls := h.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none once the conflict resolved", dls)
	}
}

func TestDeadLetterKeptOnePerUserAndResolved(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.user(alexID, "alex@contoso.com", "alex@contoso.com")
	h.user(bobID, "bob@contoso.com", "bob@contoso.com")
	h.start(1)

	// Two conflicting renames in a row leave one dead letter, the newest.
	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex@contoso.com", Mail: "bob@contoso.com"})
	h.notify(alexID)
	h.eventually("a dead letter", func() bool { return len(h.deadLetters()) == 1 })
	first := h.deadLetters()[0].ID
	h.notify(alexID)
	h.eventually("the dead letter to be replaced", func() bool {
		dls := h.deadLetters()
		return len(dls) == 1 && dls[0].ID != first
	})

	// A later successful sync resolves it.
	h.dir.put(plan.EntraUser{ID: alexID, UserPrincipalName: "alex.new@contoso.com", Mail: "alex.new@contoso.com"})
	h.notify(alexID)
	h.eventually("the rename", func() bool {
		u, _ := h.scim.User(rec.ID)
		return u.UserName == "alex.new@contoso.com"
	})
	h.settled()
	if dls := h.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none after the user synced", dls)
	}
}
