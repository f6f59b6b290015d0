package subscription_test

import (
	"net/http"
	"testing"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

func TestProcessLifecycle(t *testing.T) {
	unavailable := &failure.Error{Service: "graph", Class: failure.Retryable, Status: http.StatusServiceUnavailable}

	tests := []struct {
		name  string
		event string
		// otherSubscription sends the notification for a subscription the
		// bridge does not maintain.
		otherSubscription bool
		// setup prepares the Graph double after the subscription exists.
		setup     func(f fixture, id string)
		wantCalls map[string]int
		// wantReplaced expects a new subscription and a catch-up request.
		wantReplaced bool
		wantCatchUp  bool
		wantPending  int64
	}{
		{
			name:      "reauthorization required",
			event:     subscription.EventReauthorizationRequired,
			wantCalls: map[string]int{opReauthorize: 1},
		},
		{
			name:      "reauthorization falls back to renewal",
			event:     subscription.EventReauthorizationRequired,
			setup:     func(f fixture, _ string) { f.graph.failNext(opReauthorize, unavailable) },
			wantCalls: map[string]int{opReauthorize: 1, opRenew: 1},
		},
		{
			name:         "reauthorization of a removed subscription",
			event:        subscription.EventReauthorizationRequired,
			setup:        func(f fixture, id string) { f.graph.remove(id) },
			wantCalls:    map[string]int{opReauthorize: 1, opCreate: 1},
			wantReplaced: true,
			wantCatchUp:  true,
		},
		{
			name:  "reauthorization and renewal fail",
			event: subscription.EventReauthorizationRequired,
			setup: func(f fixture, _ string) {
				f.graph.failNext(opReauthorize, unavailable)
				f.graph.failNext(opRenew, unavailable)
			},
			wantCalls:   map[string]int{opReauthorize: 1, opRenew: 1},
			wantPending: 1,
		},
		{
			name:         "subscription removed",
			event:        subscription.EventSubscriptionRemoved,
			setup:        func(f fixture, id string) { f.graph.remove(id) },
			wantCalls:    map[string]int{opCreate: 1},
			wantReplaced: true,
			wantCatchUp:  true,
		},
		{
			name:        "missed",
			event:       subscription.EventMissed,
			wantCalls:   map[string]int{},
			wantCatchUp: true,
		},
		{
			name:      "unknown event",
			event:     "subscriptionPaused",
			wantCalls: map[string]int{},
		},
		{
			name:              "reauthorization for another subscription",
			event:             subscription.EventReauthorizationRequired,
			otherSubscription: true,
			wantCalls:         map[string]int{},
		},
		{
			name:              "removal of another subscription",
			event:             subscription.EventSubscriptionRemoved,
			otherSubscription: true,
			wantCalls:         map[string]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			created := f.subscribe(t)
			callsBefore := f.graph.totalCalls()
			createsBefore := f.graph.callCount(opCreate)
			if tt.setup != nil {
				tt.setup(f, created.ID)
			}
			id := created.ID
			if tt.otherSubscription {
				id = "not-ours"
			}
			addLifecycle(t, f.store, id, tt.event, 1)

			if got := processAllLifecycle(t, f.manager); got != 1 {
				t.Errorf("got %d notifications read, want 1", got)
			}

			wantTotal := 0
			for op, want := range tt.wantCalls {
				wantTotal += want
				got := f.graph.callCount(op)
				if op == opCreate {
					got -= createsBefore
				}
				if got != want {
					t.Errorf("got %d %s calls, want %d", got, op, want)
				}
			}
			if got := f.graph.totalCalls() - callsBefore; got != wantTotal {
				t.Errorf("got %d Graph calls in all, want %d", got, wantTotal)
			}
			if replaced := f.current(t).ID != created.ID; replaced != tt.wantReplaced {
				t.Errorf("got subscription replaced %t, want %t", replaced, tt.wantReplaced)
			}
			if got := f.catchUpRequested(t); got != tt.wantCatchUp {
				t.Errorf("got catch-up requested %t, want %t", got, tt.wantCatchUp)
			}
			if got := lifecyclePending(t, f.store); got != tt.wantPending {
				t.Errorf("got %d unacknowledged notifications, want %d", got, tt.wantPending)
			}
		})
	}
}

func TestLifecycleFloodCoalesces(t *testing.T) {
	tests := []struct {
		name  string
		event string
		setup func(f fixture, id string)
		// maxCalls bounds the Graph calls the 500 notifications may cause.
		maxCalls int
	}{
		{name: "reauthorization required", event: subscription.EventReauthorizationRequired, maxCalls: 1},
		{
			name:     "subscription removed",
			event:    subscription.EventSubscriptionRemoved,
			setup:    func(f fixture, id string) { f.graph.remove(id) },
			maxCalls: 1,
		},
		{name: "missed", event: subscription.EventMissed, maxCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			created := f.subscribe(t)
			if tt.setup != nil {
				tt.setup(f, created.ID)
			}
			callsBefore := f.graph.totalCalls()
			addLifecycle(t, f.store, created.ID, tt.event, 500)

			if got := processAllLifecycle(t, f.manager); got != 500 {
				t.Errorf("got %d notifications read, want 500", got)
			}

			if got := f.graph.totalCalls() - callsBefore; got > tt.maxCalls {
				t.Errorf("got %d Graph calls for 500 notifications, want at most %d", got, tt.maxCalls)
			}
			if got := lifecyclePending(t, f.store); got != 0 {
				t.Errorf("got %d unacknowledged notifications, want 0", got)
			}
		})
	}
}

func TestReauthorizeIntervalPerSubscription(t *testing.T) {
	f := newFixture(t)
	created := f.subscribe(t)

	addLifecycle(t, f.store, created.ID, subscription.EventReauthorizationRequired, 1)
	processAllLifecycle(t, f.manager)
	addLifecycle(t, f.store, created.ID, subscription.EventReauthorizationRequired, 1)
	processAllLifecycle(t, f.manager)

	if got := f.graph.callCount(opReauthorize); got != 1 {
		t.Errorf("got %d reauthorizations for two notifications within a minute, want 1", got)
	}
}
