package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/graph"
)

// putBatchUsers creates n users in the fake Graph and returns their IDs.
func putBatchUsers(t *testing.T, g *fakegraph.Server, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("batch-user-%02d", i)
		g.PutUser(fakegraph.User{ID: ids[i], UserPrincipalName: ids[i] + "@contoso.com",
			Mail: ids[i] + "@contoso.com", DisplayName: "User " + ids[i], AccountEnabled: true})
	}
	return ids
}

func TestGetUsersSplitsIntoBatches(t *testing.T) {
	f := startFakes(t)
	limiter := &countingLimiter{}
	cfg := f.cfg
	cfg.Limiter = limiter
	client := newClient(t, cfg)
	ids := putBatchUsers(t, f.graph, 45)

	found, failed := client.GetUsers(context.Background(), append(ids, ids[0]))

	if len(failed) != 0 {
		t.Errorf("got errors %v, want none", failed)
	}
	if got := len(found); got != 45 {
		t.Errorf("got %d users, want 45", got)
	}
	for _, id := range ids {
		u := found[id]
		if u.ID != id || u.UserPrincipalName != id+"@contoso.com" || u.Mail != id+"@contoso.com" {
			t.Errorf("user %s: got %+v, want its ID, UPN and mail", id, u)
		}
		if u.AccountEnabled == nil || !*u.AccountEnabled {
			t.Errorf("user %s: got accountEnabled %s, want true", id, describeBool(u.AccountEnabled))
		}
	}
	if got := f.graph.Requests("/v1.0/$batch"); got != 3 {
		t.Errorf("got %d batch requests, want 3 (20 + 20 + 5)", got)
	}
	if got := f.graph.BatchItems("/v1.0/users/"); got != 45 {
		t.Errorf("got %d user reads inside batches, want 45", got)
	}
	if got := f.graph.TotalRequests(); got != 3 {
		t.Errorf("got %d Graph requests, want 3", got)
	}
	if got := limiter.waits.Load(); got != 3 {
		t.Errorf("got %d limiter waits, want 3 (one per batch)", got)
	}
}

func TestGetUsersItemFailures(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)
	ids := putBatchUsers(t, f.graph, 2)

	found, failed := client.GetUsers(context.Background(), []string{ids[0], "missing-user", ids[1], ""})

	if got := len(found); got != 2 {
		t.Errorf("got %d users, want 2", got)
	}
	if got := len(failed); got != 2 {
		t.Errorf("got %d errors %v, want 2", got, failed)
	}
	missing := asFailure(t, failed["missing-user"])
	if missing.Class != failure.NotFound || missing.Status != http.StatusNotFound {
		t.Errorf("missing user: got class %s status %d, want not_found 404", missing.Class, missing.Status)
	}
	if missing.Code != "Request_ResourceNotFound" {
		t.Errorf("missing user: got code %q, want Request_ResourceNotFound", missing.Code)
	}
	if empty := asFailure(t, failed[""]); empty.Class != failure.Permanent {
		t.Errorf("empty ID: got class %s, want permanent", empty.Class)
	}
	if got := f.graph.BatchItems("/v1.0/users"); got != 3 {
		t.Errorf("got %d user reads inside batches, want 3 (none for the empty ID)", got)
	}
}

func TestGetUsersThrottledItems(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)
	ids := putBatchUsers(t, f.graph, 20)
	f.graph.SetThrottle(5)

	found, failed := client.GetUsers(context.Background(), ids)

	if got := len(found); got != 5 {
		t.Errorf("got %d users, want 5 (the bucket's units)", got)
	}
	if got := len(failed); got != 15 {
		t.Errorf("got %d errors, want 15", got)
	}
	for id, err := range failed {
		fe := asFailure(t, err)
		if fe.Class != failure.Retryable || fe.Status != http.StatusTooManyRequests {
			t.Errorf("user %s: got class %s status %d, want retryable 429", id, fe.Class, fe.Status)
		}
		if fe.RetryAfter < time.Second {
			t.Errorf("user %s: got RetryAfter %s, want at least 1s from the item's Retry-After", id, fe.RetryAfter)
		}
	}
	if got := f.graph.Throttled(); got != 15 {
		t.Errorf("got %d throttled items, want 15", got)
	}
}

func TestGetUsersWholeBatchFails(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)
	ids := putBatchUsers(t, f.graph, 25)
	f.graph.FailNext(1, http.StatusServiceUnavailable, http.Header{"Retry-After": {"7"}})

	found, failed := client.GetUsers(context.Background(), ids)

	if got := len(found); got != 5 {
		t.Errorf("got %d users, want 5 (the second batch)", got)
	}
	if got := len(failed); got != 20 {
		t.Errorf("got %d errors, want 20 (the first batch)", got)
	}
	for id, err := range failed {
		fe := asFailure(t, err)
		if fe.Class != failure.Retryable || fe.Status != http.StatusServiceUnavailable {
			t.Errorf("user %s: got class %s status %d, want retryable 503", id, fe.Class, fe.Status)
		}
		if fe.RetryAfter != 7*time.Second {
			t.Errorf("user %s: got RetryAfter %s, want 7s", id, fe.RetryAfter)
		}
	}
}

func TestGetUsersDollarKey(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)
	f.graph.PutUser(fakegraph.User{ID: "d1", UserPrincipalName: "$admin@contoso.com"})

	found, failed := client.GetUsers(context.Background(), []string{"$admin@contoso.com"})

	if len(failed) != 0 {
		t.Fatalf("got errors %v, want none", failed)
	}
	if got := found["$admin@contoso.com"]; got != (graph.User{ID: "d1", UserPrincipalName: "$admin@contoso.com", AccountEnabled: got.AccountEnabled}) {
		t.Errorf("got %+v, want user d1", got)
	}
}
