package worker_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/plan"
	"github.com/entrabridge/entrabridge/internal/scim"
	"github.com/entrabridge/entrabridge/internal/throttle"
	"github.com/entrabridge/entrabridge/internal/worker"
)

// failingSCIM is the real SCIM client, except that every PATCH of one
// SCIM user fails with 500.
type failingSCIM struct {
	*scim.Client
	failID   string
	failures atomic.Int64
}

func (f *failingSCIM) PatchUser(ctx context.Context, id string, ops []scim.Operation) (scim.User, error) {
	if id == f.failID {
		f.failures.Add(1)
		return scim.User{}, &failure.Error{Service: "scim", Class: failure.Retryable,
			Status: http.StatusInternalServerError, Detail: "injected failure"}
	}
	return f.Client.PatchUser(ctx, id, ops)
}

func TestFailingUserDoesNotDelayRenames(t *testing.T) {
	h := newHarness(t, func(c *worker.Config) { c.MaxAttempts = 1000 })
	stuck := h.user("stuck-user", "stuck@contoso.com", "stuck@contoso.com")
	client, err := scim.New(h.scim.BaseURL(), "scim-test-token", scim.Options{HTTPClient: h.scim.Client()})
	if err != nil {
		t.Fatalf("scim client: %v", err)
	}
	failing := &failingSCIM{Client: client, failID: stuck.ID}
	cfg := h.cfg
	cfg.Owner = "fairness-worker"
	w, err := worker.New(cfg, h.store, h.dir, failing, throttle.New(h.store, "scim", 0, 1))
	if err != nil {
		t.Fatalf("new worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx, 5*time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	h.dir.put(plan.EntraUser{ID: "stuck-user", UserPrincipalName: "stuck.new@contoso.com", Mail: "stuck.new@contoso.com"})
	h.notify("stuck-user")
	h.eventually("the stuck user to fail twice", func() bool { return failing.failures.Load() >= 2 })

	const renames = 20
	records := make(map[string]scim.User)
	for i := range renames {
		id := fmt.Sprintf("renamed-%02d", i)
		records[id] = h.user(id, id+"@contoso.com", id+"@contoso.com")
		h.dir.put(plan.EntraUser{ID: id, UserPrincipalName: id + "@fabrikam.com", Mail: id + "@fabrikam.com"})
		h.notify(id)
	}
	h.eventually("every rename to reach scim", func() bool {
		for id, rec := range records {
			if u, _ := h.scim.User(rec.ID); u.UserName != id+"@fabrikam.com" {
				return false
			}
		}
		return true
	})

	before := failing.failures.Load()
	h.eventually("the stuck user to keep failing", func() bool { return failing.failures.Load() > before })
	if dls := h.deadLetters(); len(dls) != 0 {
		t.Errorf("got dead letters %+v, want none", dls)
	}
	if u, _ := h.scim.User(stuck.ID); u.UserName != "stuck@contoso.com" {
		t.Errorf("got stuck user's userName %q, want it unchanged", u.UserName)
	}
}
