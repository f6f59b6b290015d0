package fakegraph

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a notification endpoint on 127.0.0.1 that records the
// requests it gets and responds to them with respond.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []receivedRequest
}

type receivedRequest struct {
	method      string
	token       string
	contentType string
	body        []byte
}

// startReceiver starts a receiver that responds with respond, which gets
// the decoded validationToken ("" when absent).
func startReceiver(t *testing.T, respond func(w http.ResponseWriter, token string)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		token := r.URL.Query().Get("validationToken")
		rc.mu.Lock()
		rc.requests = append(rc.requests, receivedRequest{
			method: r.Method, token: token, contentType: r.Header.Get("Content-Type"), body: body,
		})
		rc.mu.Unlock()
		respond(w, token)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// echo responds to a validation request as Graph expects, and to any
// other request with 202.
func echo(w http.ResponseWriter, token string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if token == "" {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	_, _ = io.WriteString(w, token)
}

func (rc *receiver) received() []receivedRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receivedRequest(nil), rc.requests...)
}

// send sends method BaseURL()+path with a JSON body, if any, and the
// valid token, and returns the status and the decoded JSON body (nil
// when empty).
func send(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var reader io.Reader = http.NoBody
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.BaseURL()+path, reader)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+validToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, path, err)
	}
	var decoded map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &decoded); err != nil {
			t.Fatalf("decode body of %s %s: %v; body %s", method, path, err, data)
		}
	}
	return resp.StatusCode, decoded
}

func startServerWith(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Authorize = func(token string) bool { return token == validToken }
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("start fake graph: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func subscriptionRequest(notificationURL string, expiration time.Time) map[string]any {
	return map[string]any{
		"changeType":               "updated,deleted",
		"notificationUrl":          notificationURL,
		"lifecycleNotificationUrl": notificationURL + "/lifecycle",
		"resource":                 "/users",
		"expirationDateTime":       expiration.Format(time.RFC3339Nano),
		"clientState":              "secret-client-state",
	}
}

func errorMessage(body map[string]any) string {
	errorObject, _ := body["error"].(map[string]any)
	message, _ := errorObject["message"].(string)
	return message
}

func TestCreateSubscription(t *testing.T) {
	s := startServer(t)
	rc := startReceiver(t, echo)
	expiration := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)

	status, body := send(t, s, http.MethodPost, "/subscriptions", subscriptionRequest(rc.srv.URL+"/webhooks/graph", expiration))

	if status != http.StatusCreated {
		t.Fatalf("got status %d, want 201; body %v", status, body)
	}
	want := map[string]any{
		"resource":                 "/users",
		"changeType":               "updated,deleted",
		"clientState":              "secret-client-state",
		"notificationUrl":          rc.srv.URL + "/webhooks/graph",
		"lifecycleNotificationUrl": rc.srv.URL + "/webhooks/graph/lifecycle",
		"expirationDateTime":       expiration.Format(graphTimeLayout),
	}
	for key, value := range want {
		if body[key] != value {
			t.Errorf("got %s %v, want %v", key, body[key], value)
		}
	}
	if id, _ := body["id"].(string); id == "" {
		t.Error("got no id, want one")
	}

	requests := rc.received()
	if len(requests) != 2 {
		t.Fatalf("got %d validation requests, want 2: notification and lifecycle URL", len(requests))
	}
	for _, req := range requests {
		if req.method != http.MethodPost {
			t.Errorf("got validation method %s, want POST", req.method)
		}
		if !strings.HasPrefix(req.token, "Validation: Testing client application reachability") {
			t.Errorf("got decoded token %q, want Graph's validation text", req.token)
		}
		if !strings.HasPrefix(req.contentType, "text/plain") {
			t.Errorf("got Content-Type %q, want text/plain", req.contentType)
		}
	}
	if got := s.SubscriptionRequests().Create; got != 1 {
		t.Errorf("got %d create requests counted, want 1", got)
	}
	if got := len(s.Subscriptions()); got != 1 {
		t.Errorf("got %d stored subscriptions, want 1", got)
	}
}

func TestCreateSubscriptionValidationFails(t *testing.T) {
	tests := []struct {
		name        string
		respond     func(w http.ResponseWriter, token string)
		clientWait  time.Duration
		wantCode    string
		wantMessage string
	}{
		{
			name: "encoded echo",
			respond: func(w http.ResponseWriter, token string) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, strings.ReplaceAll(token, " ", "%20"))
			},
			wantCode:    "ValidationError",
			wantMessage: "must exactly match",
		},
		{
			name: "json content type",
			respond: func(w http.ResponseWriter, token string) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, token)
			},
			wantCode:    "ValidationError",
			wantMessage: "text/plain",
		},
		{
			name:        "server error",
			respond:     func(w http.ResponseWriter, _ string) { w.WriteHeader(http.StatusInternalServerError) },
			wantCode:    "ValidationError",
			wantMessage: "200 OK",
		},
		{
			name: "too slow",
			respond: func(w http.ResponseWriter, token string) {
				time.Sleep(300 * time.Millisecond)
				echo(w, token)
			},
			clientWait:  50 * time.Millisecond,
			wantCode:    "InvalidRequest",
			wantMessage: "timed out",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			if tt.clientWait > 0 {
				opts.NotificationClient = &http.Client{Timeout: tt.clientWait}
			}
			s := startServerWith(t, opts)
			rc := startReceiver(t, tt.respond)

			status, body := send(t, s, http.MethodPost, "/subscriptions",
				subscriptionRequest(rc.srv.URL+"/webhooks/graph", time.Now().Add(time.Hour)))

			if status != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400; body %v", status, body)
			}
			if got := errorCode(body); got != tt.wantCode {
				t.Errorf("got error code %q, want %q", got, tt.wantCode)
			}
			if got := errorMessage(body); !strings.Contains(got, tt.wantMessage) {
				t.Errorf("got message %q, want it to contain %q", got, tt.wantMessage)
			}
			if got := len(s.Subscriptions()); got != 0 {
				t.Errorf("got %d stored subscriptions, want 0", got)
			}
		})
	}
}

func TestCreateSubscriptionInvalid(t *testing.T) {
	inAnHour := time.Now().Add(time.Hour)
	with := func(change func(body map[string]any)) map[string]any {
		body := subscriptionRequest("https://bridge.example.com/webhooks/graph", inAnHour)
		change(body)
		return body
	}
	tests := []struct {
		name     string
		body     map[string]any
		wantCode string
	}{
		{
			name: "expiration beyond maximum",
			body: with(func(b map[string]any) {
				b["expirationDateTime"] = time.Now().Add(41_761 * time.Minute).Format(time.RFC3339)
			}),
			wantCode: "ExtensionError",
		},
		{
			name:     "expiration in the past",
			body:     with(func(b map[string]any) { b["expirationDateTime"] = time.Now().Add(-time.Minute).Format(time.RFC3339) }),
			wantCode: "InvalidRequest",
		},
		{name: "missing expiration", body: with(func(b map[string]any) { delete(b, "expirationDateTime") }), wantCode: "InvalidRequest"},
		{name: "missing notification url", body: with(func(b map[string]any) { delete(b, "notificationUrl") }), wantCode: "InvalidRequest"},
		{
			name:     "plain http notification url",
			body:     with(func(b map[string]any) { b["notificationUrl"] = "http://bridge.example.com/webhooks/graph" }),
			wantCode: "InvalidRequest",
		},
		{name: "unknown change type", body: with(func(b map[string]any) { b["changeType"] = "updated,renamed" }), wantCode: "InvalidRequest"},
		{name: "other resource", body: with(func(b map[string]any) { b["resource"] = "/groups" }), wantCode: "InvalidRequest"},
		{
			name:     "client state too long",
			body:     with(func(b map[string]any) { b["clientState"] = strings.Repeat("x", 129) }),
			wantCode: "InvalidRequest",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServerWith(t, Options{SkipValidation: true})

			status, body := send(t, s, http.MethodPost, "/subscriptions", tt.body)

			if status != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400; body %v", status, body)
			}
			if got := errorCode(body); got != tt.wantCode {
				t.Errorf("got error code %q, want %q; message %q", got, tt.wantCode, errorMessage(body))
			}
		})
	}
}

func TestCreateSubscriptionExpirationMessage(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	body := subscriptionRequest("https://bridge.example.com/webhooks/graph", time.Now().Add(30*24*time.Hour))

	_, got := send(t, s, http.MethodPost, "/subscriptions", body)

	if want := "Subscription expiration can only be 41760 minutes in the future."; errorMessage(got) != want {
		t.Errorf("got message %q, want %q", errorMessage(got), want)
	}
}

func TestCreateSubscriptionConflict(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	first := subscriptionRequest("https://bridge.example.com/webhooks/graph", time.Now().Add(time.Hour))
	if status, body := send(t, s, http.MethodPost, "/subscriptions", first); status != http.StatusCreated {
		t.Fatalf("first create: got status %d, want 201; body %v", status, body)
	}

	second := subscriptionRequest("https://other.example.com/webhooks/graph", time.Now().Add(time.Hour))
	second["resource"] = "Users"
	second["changeType"] = "deleted,updated"
	status, body := send(t, s, http.MethodPost, "/subscriptions", second)

	if status != http.StatusConflict {
		t.Errorf("got status %d, want 409; body %v", status, body)
	}
	if got := len(s.Subscriptions()); got != 1 {
		t.Errorf("got %d stored subscriptions, want 1", got)
	}
}

func TestRenewSubscription(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	sub := s.PutSubscription(Subscription{Resource: "/users", ChangeType: "updated", ExpirationDateTime: time.Now().Add(time.Hour)})
	newExpiration := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)

	status, body := send(t, s, http.MethodPatch, "/subscriptions/"+sub.ID,
		map[string]any{"expirationDateTime": newExpiration.Format(time.RFC3339)})
	if status != http.StatusOK {
		t.Fatalf("got status %d, want 200; body %v", status, body)
	}
	if got, want := body["expirationDateTime"], newExpiration.Format(graphTimeLayout); got != want {
		t.Errorf("got expirationDateTime %v, want %v", got, want)
	}

	status, body = send(t, s, http.MethodPatch, "/subscriptions/"+sub.ID,
		map[string]any{"expirationDateTime": time.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339)})
	if status != http.StatusBadRequest || errorCode(body) != "ExtensionError" {
		t.Errorf("renewal beyond the maximum: got status %d, code %q, want 400 ExtensionError", status, errorCode(body))
	}

	s.RemoveSubscription(sub.ID)
	status, body = send(t, s, http.MethodPatch, "/subscriptions/"+sub.ID,
		map[string]any{"expirationDateTime": newExpiration.Format(time.RFC3339)})
	if status != http.StatusNotFound || errorCode(body) != "ResourceNotFound" {
		t.Errorf("renewal of a removed subscription: got status %d, code %q, want 404 ResourceNotFound", status, errorCode(body))
	}
	if got := s.SubscriptionRequests().Renew; got != 3 {
		t.Errorf("got %d renewals counted, want 3", got)
	}
}

func TestReauthorizeAndDeleteSubscription(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	sub := s.PutSubscription(Subscription{Resource: "/users", ChangeType: "updated", ExpirationDateTime: time.Now().Add(time.Hour)})

	steps := []struct {
		name       string
		method     string
		path       string
		wantStatus int
	}{
		{"reauthorize", http.MethodPost, "/subscriptions/" + sub.ID + "/reauthorize", http.StatusNoContent},
		{"delete", http.MethodDelete, "/subscriptions/" + sub.ID, http.StatusNoContent},
		{"reauthorize deleted", http.MethodPost, "/subscriptions/" + sub.ID + "/reauthorize", http.StatusNotFound},
		{"delete deleted", http.MethodDelete, "/subscriptions/" + sub.ID, http.StatusNotFound},
		{"get deleted", http.MethodGet, "/subscriptions/" + sub.ID, http.StatusNotFound},
	}
	for _, step := range steps {
		if status, body := send(t, s, step.method, step.path, nil); status != step.wantStatus {
			t.Errorf("%s: got status %d, want %d; body %v", step.name, status, step.wantStatus, body)
		}
	}
	want := SubscriptionCounts{Reauthorize: 2, Delete: 2, Get: 1}
	if got := s.SubscriptionRequests(); got != want {
		t.Errorf("got counts %+v, want %+v", got, want)
	}
}

func TestListSubscriptions(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	expiration := time.Now().Add(time.Hour)
	a := s.PutSubscription(Subscription{ID: "a", Resource: "/users", ChangeType: "updated", ClientState: "secret",
		NotificationURL: "https://bridge.example.com/webhooks/graph", ExpirationDateTime: expiration})
	s.PutSubscription(Subscription{ID: "b", Resource: "/groups", ChangeType: "updated", ExpirationDateTime: expiration})

	status, body := send(t, s, http.MethodGet, "/subscriptions", nil)

	if status != http.StatusOK {
		t.Fatalf("got status %d, want 200", status)
	}
	values, _ := body["value"].([]any)
	if len(values) != 2 {
		t.Fatalf("got %d subscriptions, want 2", len(values))
	}
	first, _ := values[0].(map[string]any)
	if first["id"] != a.ID || first["notificationUrl"] != a.NotificationURL {
		t.Errorf("got first subscription %v, want %s to %s", first, a.ID, a.NotificationURL)
	}
	if first["clientState"] != nil {
		t.Errorf("got clientState %v in a list, want null", first["clientState"])
	}
}

func TestSubscriptionExpires(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	now := time.Now()
	s.SetNow(func() time.Time { return now })
	sub := s.PutSubscription(Subscription{Resource: "/users", ChangeType: "updated", ExpirationDateTime: now.Add(time.Hour)})

	s.SetNow(func() time.Time { return now.Add(2 * time.Hour) })

	if status, _ := send(t, s, http.MethodGet, "/subscriptions/"+sub.ID, nil); status != http.StatusNotFound {
		t.Errorf("got status %d for an expired subscription, want 404", status)
	}
	if got := len(s.Subscriptions()); got != 0 {
		t.Errorf("got %d live subscriptions after expiry, want 0", got)
	}
}

func TestSendLifecycleNotification(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true, TenantID: "84bd8158-6d4d-4958-8b9f-9d6445542f95"})
	rc := startReceiver(t, echo)
	sub := s.PutSubscription(Subscription{
		Resource: "/users", ChangeType: "updated", ClientState: "secret",
		NotificationURL:          rc.srv.URL + "/webhooks/graph",
		LifecycleNotificationURL: rc.srv.URL + "/webhooks/graph/lifecycle",
		ExpirationDateTime:       time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
	})

	if err := s.SendLifecycleNotification(context.Background(), sub.ID, "reauthorizationRequired"); err != nil {
		t.Fatalf("SendLifecycleNotification: %v", err)
	}

	requests := rc.received()
	if len(requests) != 1 {
		t.Fatalf("got %d requests at the receiver, want 1", len(requests))
	}
	var got struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(requests[0].body, &got); err != nil {
		t.Fatalf("decode notification %s: %v", requests[0].body, err)
	}
	want := map[string]any{
		"subscriptionId":                 sub.ID,
		"subscriptionExpirationDateTime": "2026-03-02T09:00:00.0000000Z",
		"tenantId":                       "84bd8158-6d4d-4958-8b9f-9d6445542f95",
		"clientState":                    "secret",
		"lifecycleEvent":                 "reauthorizationRequired",
	}
	if len(got.Value) != 1 {
		t.Fatalf("got %d items, want 1", len(got.Value))
	}
	for key, value := range want {
		if got.Value[0][key] != value {
			t.Errorf("got %s %v, want %v", key, got.Value[0][key], value)
		}
	}
}

func TestSendLifecycleNotificationRejected(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	rc := startReceiver(t, func(w http.ResponseWriter, _ string) { w.WriteHeader(http.StatusServiceUnavailable) })
	sub := s.PutSubscription(Subscription{Resource: "/users", ChangeType: "updated",
		LifecycleNotificationURL: rc.srv.URL + "/lifecycle", ExpirationDateTime: time.Now().Add(time.Hour)})

	err := s.SendLifecycleNotification(context.Background(), sub.ID, "missed")

	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("got error %v, want one naming status 503", err)
	}
}

func TestCreateSubscriptionGzipBody(t *testing.T) {
	s := startServerWith(t, Options{SkipValidation: true})
	data, err := json.Marshal(subscriptionRequest("https://bridge.example.com/webhooks/graph", time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var compressed bytes.Buffer
	gz := gzip.NewWriter(&compressed)
	if _, err := gz.Write(data); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if err := gz.Close(); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.BaseURL()+"/subscriptions", &compressed)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+validToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")

	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusCreated {
		t.Errorf("got status %d for a gzip body, want 201", resp.StatusCode)
	}
}
