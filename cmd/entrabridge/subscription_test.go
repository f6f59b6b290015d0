package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
)

// withNotificationURL points the subscription at the process's own
// receiver, which the fake Graph validates as Graph does.
func (b *process) withNotificationURL() {
	b.env = append(b.env, "GRAPH_NOTIFICATION_URL="+b.base+"/webhooks/graph")
}

func TestSubscriptionCreatedAndReauthorized(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	b.withNotificationURL()
	b.start()

	b.eventually("the leader to create the subscription", func() bool {
		return len(b.graph.Subscriptions()) == 1
	})
	sub := b.graph.Subscriptions()[0]
	if sub.Resource != "/users" || sub.ChangeType != "updated,deleted" {
		t.Errorf("subscription = %s %s, want /users updated,deleted", sub.Resource, sub.ChangeType)
	}
	if sub.LifecycleNotificationURL != b.base+"/webhooks/graph/lifecycle" {
		t.Errorf("lifecycle URL = %q, want the receiver's /lifecycle", sub.LifecycleNotificationURL)
	}
	if max := time.Now().Add(41760 * time.Minute); sub.ExpirationDateTime.After(max) {
		t.Errorf("expiry %s is beyond Graph's maximum %s", sub.ExpirationDateTime, max)
	}

	// subscribe adopts the existing subscription on Graph's 409.
	out, code := b.cli("subscribe")
	if code != 0 || !strings.Contains(out, sub.ID) {
		t.Errorf("subscribe exited %d, want it to adopt %s:\n%s", code, sub.ID, out)
	}
	if n := len(b.graph.Subscriptions()); n != 1 {
		t.Errorf("got %d subscriptions after subscribe, want 1", n)
	}
	if out, _ := b.cli("subscriptions", "list"); !strings.Contains(out, "*  "+sub.ID) && !strings.Contains(out, "* "+sub.ID) {
		t.Errorf("subscriptions list does not mark %s as maintained:\n%s", sub.ID, out)
	}

	if err := b.graph.SendLifecycleNotification(t.Context(), sub.ID, "reauthorizationRequired"); err != nil {
		t.Fatalf("send lifecycle notification: %v", err)
	}
	b.eventually("a reauthorize request", func() bool {
		return b.graph.SubscriptionRequests().Reauthorize >= 1
	})

	// A flood of lifecycle notifications must not become a flood of calls.
	before := b.graph.SubscriptionRequests()
	for range 50 {
		if err := b.graph.SendLifecycleNotification(t.Context(), sub.ID, "reauthorizationRequired"); err != nil {
			t.Fatalf("send lifecycle notification: %v", err)
		}
	}
	time.Sleep(2 * time.Second)
	after := b.graph.SubscriptionRequests()
	if calls := (after.Reauthorize + after.Renew) - (before.Reauthorize + before.Renew); calls > 2 {
		t.Errorf("50 lifecycle notifications caused %d reauthorize or renew calls, want at most 2", calls)
	}
}

func TestSubscriptionRenewedOnceByTwoProcesses(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	b.withNotificationURL()
	// An identical subscription that expires within the renewal margin:
	// the leader adopts it and renews it, once.
	b.graph.PutSubscription(fakegraph.Subscription{
		Resource: "/users", ChangeType: "updated,deleted",
		NotificationURL:          b.base + "/webhooks/graph",
		LifecycleNotificationURL: b.base + "/webhooks/graph/lifecycle",
		ClientState:              testClientState,
		ExpirationDateTime:       time.Now().Add(2 * time.Hour),
	})
	b.start()
	other := b.sibling()
	other.start()

	b.eventually("the subscription to be renewed", func() bool {
		return b.graph.SubscriptionRequests().Renew >= 1
	})
	time.Sleep(3 * time.Second)
	if got := b.graph.SubscriptionRequests(); got.Renew != 1 || got.Create > 1 {
		t.Errorf("two processes sent %d renewals and %d creations, want 1 renewal", got.Renew, got.Create)
	}
	subs := b.graph.Subscriptions()
	if len(subs) != 1 || time.Until(subs[0].ExpirationDateTime) < 28*24*time.Hour {
		t.Errorf("subscriptions after renewal = %+v, want one expiring in about 29 days", subs)
	}
}

func TestPeriodicDeltaCatchesSilentRename(t *testing.T) {
	b := newProcess(t, redistest.URL(t), "DELTA_INTERVAL=1s")
	b.withNotificationURL()
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.start()

	// The first round records a baseline; the rename comes after it.
	b.eventually("the baseline delta round", func() bool {
		return b.graph.Requests("/v1.0/users/delta") > 0
	})
	time.Sleep(1500 * time.Millisecond)
	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	b.eventually("the silent rename to reach Atlassian", func() bool {
		return b.scimUser(rec).UserName == "ada.lovelace@contoso.com"
	})
}

func TestResyncCatchesSilentRename(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.user(userID(2), "brian@contoso.com", "brian@contoso.com")

	out, code := b.cli("resync")
	if code != 0 || !strings.Contains(out, "(baseline)") {
		t.Fatalf("first resync exited %d, want a baseline round:\n%s", code, out)
	}
	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	out, code = b.cli("resync")
	if code != 0 || !strings.Contains(out, "1 queued for a sync") {
		t.Fatalf("second resync exited %d, want the renamed user queued:\n%s", code, out)
	}
	b.start()
	b.eventually("the queued rename to reach Atlassian", func() bool {
		return b.scimUser(rec).UserName == "ada.lovelace@contoso.com"
	})

	// An expired delta token makes the next round a full resync.
	b.graph.ExpireDeltaTokens(http.StatusGone)
	out, code = b.cli("resync")
	if code != 0 || !strings.Contains(out, "(full)") {
		t.Errorf("resync after an expired token exited %d, want a full round:\n%s", code, out)
	}
}
