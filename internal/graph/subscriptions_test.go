package graph_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakeentra"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/graph"
)

// startFakesWith is startFakes with options for the fake Graph; their
// Authorize is replaced by the fake Entra's token check.
func startFakesWith(t *testing.T, opts fakegraph.Options) fakes {
	t.Helper()
	entra, err := fakeentra.Start()
	if err != nil {
		t.Fatalf("start fake entra: %v", err)
	}
	t.Cleanup(entra.Close)
	entra.AddClient(tenantID, clientID, secret)

	opts.Authorize = entra.ValidToken
	fakeGraph, err := fakegraph.Start(opts)
	if err != nil {
		t.Fatalf("start fake graph: %v", err)
	}
	t.Cleanup(fakeGraph.Close)

	pool := x509.NewCertPool()
	for _, pem := range [][]byte{entra.CertificatePEM(), fakeGraph.CertificatePEM()} {
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatal("got no certificate from a fake's CertificatePEM, want one")
		}
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(transport.CloseIdleConnections)

	return fakes{
		entra: entra,
		graph: fakeGraph,
		cfg: graph.Config{
			BaseURL:       fakeGraph.BaseURL(),
			TenantID:      tenantID,
			ClientID:      clientID,
			ClientSecret:  secret,
			AuthorityHost: entra.AuthorityHost(),
			HTTPClient:    &http.Client{Transport: transport},
		},
	}
}

// echoReceiver starts a notification endpoint on 127.0.0.1 that echoes
// validation tokens as Graph expects.
func echoReceiver(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, r.URL.Query().Get("validationToken"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks/graph"
}

func usersRequest(notificationURL string, expiration time.Time) graph.SubscriptionRequest {
	return graph.SubscriptionRequest{
		Resource:                 "/users",
		ChangeType:               "updated,deleted",
		NotificationURL:          notificationURL,
		LifecycleNotificationURL: notificationURL + "/lifecycle",
		ClientState:              "client-state-secret",
		ExpirationDateTime:       expiration,
	}
}

func TestSubscriptionOperations(t *testing.T) {
	f := startFakesWith(t, fakegraph.Options{})
	client := newClient(t, f.cfg)
	ctx := t.Context()
	url := echoReceiver(t)
	expiration := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)

	created, err := client.CreateSubscription(ctx, usersRequest(url, expiration))
	if err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	want := graph.Subscription{
		ID: created.ID, Resource: "/users", ChangeType: "updated,deleted",
		NotificationURL: url, LifecycleNotificationURL: url + "/lifecycle",
		ClientState: "client-state-secret", ExpirationDateTime: expiration,
	}
	if created != want {
		t.Errorf("got created subscription %+v, want %+v", created, want)
	}
	if created.ID == "" {
		t.Error("got no subscription ID, want one")
	}

	listed, err := client.ListSubscriptions(ctx)
	if err != nil {
		t.Fatalf("ListSubscriptions: %v", err)
	}
	if len(listed) != 1 || listed[0].ID != created.ID || listed[0].NotificationURL != url {
		t.Errorf("got listed subscriptions %+v, want the created one", listed)
	}

	renewTo := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	renewed, err := client.RenewSubscription(ctx, created.ID, renewTo)
	if err != nil {
		t.Fatalf("RenewSubscription: %v", err)
	}
	if !renewed.ExpirationDateTime.Equal(renewTo) || renewed.ID != created.ID {
		t.Errorf("got renewed %s expiring %v, want %s expiring %v", renewed.ID, renewed.ExpirationDateTime, created.ID, renewTo)
	}

	if err := client.ReauthorizeSubscription(ctx, created.ID); err != nil {
		t.Errorf("ReauthorizeSubscription: %v", err)
	}
	if err := client.DeleteSubscription(ctx, created.ID); err != nil {
		t.Errorf("DeleteSubscription: %v", err)
	}

	want2 := fakegraph.SubscriptionCounts{Create: 1, List: 1, Renew: 1, Reauthorize: 1, Delete: 1}
	if got := f.graph.SubscriptionRequests(); got != want2 {
		t.Errorf("got requests %+v at the fake Graph, want %+v", got, want2)
	}
}

func TestSubscriptionFailures(t *testing.T) {
	const missingID = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
	inAnHour := time.Now().Add(time.Hour)
	tests := []struct {
		name string
		// call makes the failing call on a fake Graph that holds one
		// subscription to users, delivered to existingURL.
		call       func(t *testing.T, c *graph.Client, existingURL string) error
		wantClass  failure.Class
		wantStatus int
		wantCode   string
	}{
		{
			name: "duplicate",
			call: func(t *testing.T, c *graph.Client, existingURL string) error {
				_, err := c.CreateSubscription(t.Context(), usersRequest(existingURL, inAnHour))
				return err
			},
			wantClass: failure.Permanent, wantStatus: http.StatusConflict, wantCode: "ExtensionError",
		},
		{
			name: "expiration beyond maximum",
			call: func(t *testing.T, c *graph.Client, _ string) error {
				_, err := c.CreateSubscription(t.Context(), usersRequest(echoReceiver(t), time.Now().Add(30*24*time.Hour)))
				return err
			},
			wantClass: failure.Permanent, wantStatus: http.StatusBadRequest, wantCode: "ExtensionError",
		},
		{
			name: "renew missing",
			call: func(t *testing.T, c *graph.Client, _ string) error {
				_, err := c.RenewSubscription(t.Context(), missingID, inAnHour)
				return err
			},
			wantClass: failure.NotFound, wantStatus: http.StatusNotFound, wantCode: "ResourceNotFound",
		},
		{
			name: "reauthorize missing",
			call: func(t *testing.T, c *graph.Client, _ string) error {
				return c.ReauthorizeSubscription(t.Context(), missingID)
			},
			wantClass: failure.NotFound, wantStatus: http.StatusNotFound, wantCode: "ResourceNotFound",
		},
		{
			name: "delete missing",
			call: func(t *testing.T, c *graph.Client, _ string) error {
				return c.DeleteSubscription(t.Context(), missingID)
			},
			wantClass: failure.NotFound, wantStatus: http.StatusNotFound, wantCode: "ResourceNotFound",
		},
		{
			name: "empty id",
			call: func(t *testing.T, c *graph.Client, _ string) error {
				_, err := c.RenewSubscription(t.Context(), "", inAnHour)
				return err
			},
			wantClass: failure.Permanent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakesWith(t, fakegraph.Options{})
			client := newClient(t, f.cfg)
			existingURL := echoReceiver(t)
			if _, err := client.CreateSubscription(t.Context(), usersRequest(existingURL, inAnHour)); err != nil {
				t.Fatalf("CreateSubscription: %v", err)
			}

			got := asFailure(t, tt.call(t, client, existingURL))

			if got.Class != tt.wantClass {
				t.Errorf("got Class %v, want %v", got.Class, tt.wantClass)
			}
			if got.Status != tt.wantStatus {
				t.Errorf("got Status %d, want %d", got.Status, tt.wantStatus)
			}
			if got.Code != tt.wantCode {
				t.Errorf("got Code %q, want %q", got.Code, tt.wantCode)
			}
		})
	}
}

func TestCreateSubscriptionValidationFails(t *testing.T) {
	f := startFakesWith(t, fakegraph.Options{})
	client := newClient(t, f.cfg)
	// The receiver echoes the token URL-encoded, which Graph rejects.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, r.URL.Query().Encode())
	}))
	t.Cleanup(srv.Close)

	_, err := client.CreateSubscription(t.Context(), usersRequest(srv.URL, time.Now().Add(time.Hour)))

	got := asFailure(t, err)
	if got.Status != http.StatusBadRequest || got.Code != "ValidationError" {
		t.Errorf("got status %d, code %q, want 400 ValidationError", got.Status, got.Code)
	}
	if !strings.Contains(got.Detail, "validationToken") {
		t.Errorf("got detail %q, want Graph's message about validationToken", got.Detail)
	}
	if n := len(f.graph.Subscriptions()); n != 0 {
		t.Errorf("got %d subscriptions at the fake Graph, want 0", n)
	}
}

func TestListSubscriptionsEmpty(t *testing.T) {
	f := startFakesWith(t, fakegraph.Options{})
	subs, err := newClient(t, f.cfg).ListSubscriptions(t.Context())
	if err != nil {
		t.Fatalf("ListSubscriptions: %v", err)
	}
	if len(subs) != 0 {
		t.Errorf("got %d subscriptions, want 0", len(subs))
	}
}
