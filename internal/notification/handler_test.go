package notification

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

func TestValidationTokenEcho(t *testing.T) {
	tests := []struct {
		name     string
		rawQuery string
		want     string
	}{
		{
			name:     "Graph form with plus and %3a",
			rawQuery: "validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+3b3f9821-ce3f-4a89-9c4d-1d2a55b1e1a2",
			want:     "Validation: Testing client application reachability for subscription Request-Id: 3b3f9821-ce3f-4a89-9c4d-1d2a55b1e1a2",
		},
		{"percent-20 spaces", "validationToken=a%20b%20c", "a b c"},
		{"plus is space", "validationToken=a+b", "a b"},
		{"encoded plus", "validationToken=a%2Bb", "a+b"},
		{"literal colon", "validationToken=Validation:abc", "Validation:abc"},
		{"encoded ampersand and equals", "validationToken=a%26b%3Dc", "a&b=c"},
		{"unicode", "validationToken=" + url.QueryEscape("Validierung: Prüfung ✓ 検証"), "Validierung: Prüfung ✓ 検証"},
		{"script tag", "validationToken=" + url.QueryEscape("<script>alert(1)</script>"), "<script>alert(1)</script>"},
		{"other parameters ignored", "foo=bar&validationToken=xyz&baz=1", "xyz"},
		{"exactly at limit", "validationToken=" + strings.Repeat("t", DefaultMaxTokenBytes), strings.Repeat("t", DefaultMaxTokenBytes)},
	}
	f := newFixture(t, nil)
	for _, path := range []string{ChangesPath, LifecyclePath} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				// Graph posts a text/plain body with validation requests,
				// which must not be mistaken for a notification.
				resp := f.do(t, http.MethodPost, path+"?"+tt.rawQuery, strings.NewReader("ignored body"))

				if resp.status != http.StatusOK {
					t.Fatalf("status: got %d, want 200; body %s", resp.status, resp.body)
				}
				if got := string(resp.body); got != tt.want {
					t.Errorf("body: got %q, want %q", got, tt.want)
				}
				if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
					t.Errorf("Content-Type: got %q, want text/plain", got)
				}
				if got := resp.header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
				}
			})
		}
	}
	if calls := f.queue.recorded(); len(calls) != 0 {
		t.Errorf("Enqueue calls: got %d, want 0 for validation requests", len(calls))
	}
}

func TestValidationTokenRejected(t *testing.T) {
	tests := []struct {
		name     string
		rawQuery string
		want     string
	}{
		{"oversized", "validationToken=" + strings.Repeat("t", DefaultMaxTokenBytes+1), "validationToken is 1025 bytes, the maximum is 1024"},
		{"oversized after decoding", "validationToken=" + strings.Repeat("%C3%A9", 513), "validationToken is 1026 bytes, the maximum is 1024"},
		{"empty", "validationToken=", "validationToken is empty"},
		{"repeated", "validationToken=a&validationToken=b", "validationToken appears more than once"},
		{"bad escape", "validationToken=%zz", "validationToken is not valid URL encoding"},
	}
	f := newFixture(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.do(t, http.MethodPost, ChangesPath+"?"+tt.rawQuery, nil)

			body := decodeError(t, resp, http.StatusBadRequest)
			if body.Error != tt.want {
				t.Errorf("error: got %q, want %q", body.Error, tt.want)
			}
		})
	}
}

func TestValidationTokenCustomLimit(t *testing.T) {
	f := newFixture(t, func(cfg *Config) { cfg.MaxTokenBytes = 8 })

	ok := f.do(t, http.MethodPost, ChangesPath+"?validationToken=12345678", nil)
	tooLong := f.do(t, http.MethodPost, ChangesPath+"?validationToken=123456789", nil)

	if ok.status != http.StatusOK {
		t.Errorf("8-byte token status: got %d, want 200", ok.status)
	}
	if got, want := decodeError(t, tooLong, http.StatusBadRequest).Error, "validationToken is 9 bytes, the maximum is 8"; got != want {
		t.Errorf("9-byte token error: got %q, want %q", got, want)
	}
}

func TestOversizedBody(t *testing.T) {
	const limit = 512
	body := valueJSON(changeJSON(testUserID, testClientState), changeJSON(testUserID, testClientState))
	if len(body) <= limit {
		t.Fatalf("test body is %d bytes, want more than %d", len(body), limit)
	}
	tests := []struct {
		name string
		body io.Reader
	}{
		{"content length", strings.NewReader(body)},
		// Without a known length the client sends the body chunked, so
		// only the read limit can catch it.
		{"chunked", io.MultiReader(strings.NewReader(body))},
	}
	f := newFixture(t, func(cfg *Config) { cfg.MaxBodyBytes = limit })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.do(t, http.MethodPost, ChangesPath, tt.body)

			got := decodeError(t, resp, http.StatusRequestEntityTooLarge)
			if want := "request body exceeds 512 bytes"; got.Error != want {
				t.Errorf("error: got %q, want %q", got.Error, want)
			}
		})
	}
	if calls := f.queue.recorded(); len(calls) != 0 {
		t.Errorf("Enqueue calls: got %d, want 0", len(calls))
	}
}

func TestMalformedBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", "", `body is empty, want a JSON object with a "value" array`},
		{"not JSON", "<xml/>", "body is not valid JSON: invalid character '<' looking for beginning of value"},
		{"truncated", `{"value":[{"changeType":"upd`, "body is not valid JSON: unexpected end of JSON input"},
		{"array", "[]", `body is a JSON array, want an object with a "value" array`},
		{"no value", `{"items":[]}`, `body has no "value" array`},
		{"value not array", `{"value":{}}`, `"value" is a JSON object, want an array`},
		{"empty value", `{"value":[]}`, `no valid notification: the "value" array is empty`},
	}
	f := newFixture(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.post(t, ChangesPath, tt.body)

			got := decodeError(t, resp, http.StatusBadRequest)
			if got.Error != tt.want {
				t.Errorf("error: got %q, want %q", got.Error, tt.want)
			}
		})
	}
	if calls := f.queue.recorded(); len(calls) != 0 {
		t.Errorf("Enqueue calls: got %d, want 0", len(calls))
	}
}

func TestClientStateRejected(t *testing.T) {
	const wrong = "attacker-guess-0001"
	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "wrong",
			body: valueJSON(changeJSON(testUserID, wrong), changeJSON(testUserID, wrong)),
			want: "no valid notification: 2 items rejected: clientState does not match",
		},
		{
			name: "missing",
			body: valueJSON(strings.Replace(changeJSON(testUserID, ""), `"clientState":"",`, "", 1)),
			want: "no valid notification: 1 item rejected: clientState is missing",
		},
		{
			name: "prefix of secret",
			body: valueJSON(changeJSON(testUserID, testClientState[:len(testClientState)-1])),
			want: "no valid notification: 1 item rejected: clientState does not match",
		},
		{
			name: "secret with suffix",
			body: valueJSON(changeJSON(testUserID, testClientState+"x")),
			want: "no valid notification: 1 item rejected: clientState does not match",
		},
		{
			name: "lifecycle with wrong secret",
			body: valueJSON(lifecycleJSON("missed", wrong)),
			want: "no valid notification: 1 item rejected: clientState does not match",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)

			resp := f.post(t, ChangesPath, tt.body)

			if got := decodeError(t, resp, http.StatusBadRequest).Error; got != tt.want {
				t.Errorf("error: got %q, want %q", got, tt.want)
			}
			if calls := f.queue.recorded(); len(calls) != 0 {
				t.Errorf("Enqueue calls: got %d, want 0", len(calls))
			}
			if got := f.metrics.rejectedCount(EndpointChanges, ReasonClientState); got == 0 {
				t.Errorf("Rejected(changes, client_state): got %d, want above 0", got)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, `"reason":"client_state"`) || !strings.Contains(logs, `"subscription_id":"8cd129ff-8499-432a-969c-6bfe388c3c3c"`) {
				t.Errorf("logs: got %s, want a client_state line with the subscription ID", logs)
			}
			for _, secret := range []string{wrong, testClientState, previousClientState} {
				if strings.Contains(logs, secret) {
					t.Errorf("logs contain the clientState %q: %s", secret, logs)
				}
			}
		})
	}
}

func TestClientStateRotation(t *testing.T) {
	f := newFixture(t, nil)
	other := "b1a727a0-968c-48a2-af05-1afb3e63d09b"

	resp := f.post(t, ChangesPath, valueJSON(changeJSON(testUserID, testClientState), changeJSON(other, previousClientState)))

	body := decodeAccepted(t, resp)
	if body.Accepted != 2 || body.Rejected != 0 {
		t.Errorf("accepted, rejected: got %d, %d, want 2, 0", body.Accepted, body.Rejected)
	}
}

func TestChangeFieldsQueued(t *testing.T) {
	const sub = "8cd129ff-8499-432a-969c-6bfe388c3c3c"
	tests := []struct {
		name string
		item string
		want bridge.Change
	}{
		{
			name: "18-digit sequence number exact",
			item: changeJSON(testUserID, testClientState),
			want: bridge.Change{
				UserID: testUserID, ChangeType: "updated", SubscriptionID: sub, TenantID: testTenant,
				SequenceNumber: "636784480202455800", EventTime: "2025-02-10T08:23:10.1234567Z", ReceivedAt: testNow,
			},
		},
		{
			name: "empty tenantId uses organizationId",
			item: strings.Replace(changeJSON(testUserID, testClientState), `"tenantId":"`+testTenant+`"`, `"tenantId":""`, 1),
			want: bridge.Change{
				UserID: testUserID, ChangeType: "updated", SubscriptionID: sub, TenantID: testTenant,
				SequenceNumber: "636784480202455800", EventTime: "2025-02-10T08:23:10.1234567Z", ReceivedAt: testNow,
			},
		},
		{
			name: "no tenant anywhere",
			item: `{"changeType":"updated","clientState":"` + testClientState + `","resource":"Users/` + testUserID + `","tenantId":""}`,
			want: bridge.Change{UserID: testUserID, ChangeType: "updated", ReceivedAt: testNow},
		},
		{
			name: "unknown changeType kept",
			item: strings.Replace(changeJSON(testUserID, testClientState), `"updated"`, `"softDeletedSomehow"`, 1),
			want: bridge.Change{
				UserID: testUserID, ChangeType: "softDeletedSomehow", SubscriptionID: sub, TenantID: testTenant,
				SequenceNumber: "636784480202455800", EventTime: "2025-02-10T08:23:10.1234567Z", ReceivedAt: testNow,
			},
		},
		{
			name: "user only in resource",
			item: `{"changeType":"deleted","clientState":"` + testClientState + `","resource":"users('` + strings.ToUpper(testUserID) + `')",` +
				`"resourceData":{"sequenceNumber":9223372036854775807}}`,
			want: bridge.Change{
				UserID: testUserID, ChangeType: "deleted", SequenceNumber: "9223372036854775807", ReceivedAt: testNow,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)

			resp := f.post(t, ChangesPath, valueJSON(tt.item))

			body := decodeAccepted(t, resp)
			if body.Accepted != 1 {
				t.Errorf("accepted: got %d, want 1", body.Accepted)
			}
			calls := f.queue.recorded()
			if len(calls) != 1 {
				t.Fatalf("Enqueue calls: got %d, want 1", len(calls))
			}
			if diff := cmp.Diff([]bridge.Change{tt.want}, calls[0].changes); diff != "" {
				t.Errorf("queued changes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMixedBatchPartlyAccepted(t *testing.T) {
	f := newFixture(t, nil)
	other := "30498315-5bdd-4366-9f85-0c6d90ff0f0f"
	body := valueJSON(
		changeJSON(testUserID, testClientState),
		changeJSON(other, "wrong"),
		`"Users/`+other+`"`,
		`{"changeType":"updated","clientState":"`+testClientState+`"}`,
		lifecycleJSON("reauthorizationRequired", testClientState),
		changeJSON(other, testClientState),
	)

	resp := f.post(t, ChangesPath, body)

	got := decodeAccepted(t, resp)
	want := AcceptedBody{
		Accepted: 3,
		Rejected: 3,
		Errors: []ItemError{
			{Index: 1, Reason: "clientState does not match"},
			{Index: 2, Reason: "item is a JSON string, want an object"},
			{Index: 3, Reason: "no user ID: resourceData.id, resource and resourceData.@odata.id are empty"},
		},
		RequestID: resp.header.Get("X-Request-Id"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("202 body mismatch (-want +got):\n%s", diff)
	}

	calls := f.queue.recorded()
	if len(calls) != 1 {
		t.Fatalf("Enqueue calls: got %d, want 1 for the whole batch", len(calls))
	}
	if got := len(calls[0].changes); got != 2 {
		t.Errorf("queued changes: got %d, want 2", got)
	}
	if got := len(calls[0].lifecycles); got != 1 {
		t.Errorf("queued lifecycle items: got %d, want 1", got)
	}
	for reason, want := range map[string]int{ReasonClientState: 1, ReasonInvalidItem: 1, ReasonUserID: 1} {
		if got := f.metrics.rejectedCount(EndpointChanges, reason); got != want {
			t.Errorf("Rejected(changes, %s): got %d, want %d", reason, got, want)
		}
	}
}

func TestItemErrorsCapped(t *testing.T) {
	f := newFixture(t, nil)
	items := []string{changeJSON(testUserID, testClientState)}
	for range 25 {
		items = append(items, "42")
	}

	got := decodeAccepted(t, f.post(t, ChangesPath, valueJSON(items...)))

	if got.Rejected != 25 {
		t.Errorf("rejected: got %d, want 25", got.Rejected)
	}
	if len(got.Errors) != maxItemErrors {
		t.Errorf("errors: got %d entries, want %d", len(got.Errors), maxItemErrors)
	}
}

func TestNoValidItemsSummary(t *testing.T) {
	f := newFixture(t, nil)
	body := valueJSON(
		changeJSON(testUserID, "wrong"),
		changeJSON(testUserID, "wrong"),
		`"x"`,
		`[]`,
		`{"clientState":"`+testClientState+`"}`,
	)

	got := decodeError(t, f.post(t, ChangesPath, body), http.StatusBadRequest)

	want := "no valid notification: 5 items rejected: clientState does not match (2), " +
		"item is a JSON string, want an object (1), item is a JSON array, want an object (1), 1 other reason"
	if got.Error != want {
		t.Errorf("error: got %q, want %q", got.Error, want)
	}
}

func TestEnqueueFailure(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*Config)
		queueErr  error
		block     bool
		wantLog   string
	}{
		{
			name:     "queue error",
			queueErr: errors.New("redis: connection refused to 127.0.0.1:6379"),
			wantLog:  "connection refused",
		},
		{
			name:      "queue hangs",
			configure: func(cfg *Config) { cfg.EnqueueTimeout = 50 * time.Millisecond },
			block:     true,
			wantLog:   "context deadline exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.configure)
			f.queue.err = tt.queueErr
			f.queue.block = tt.block

			resp := f.post(t, ChangesPath, valueJSON(changeJSON(testUserID, testClientState), lifecycleJSON("missed", testClientState)))

			got := decodeError(t, resp, http.StatusServiceUnavailable)
			if want := "queue unavailable, retry"; got.Error != want {
				t.Errorf("error: got %q, want %q", got.Error, want)
			}
			if strings.Contains(string(resp.body), "127.0.0.1") {
				t.Errorf("body %s leaks the queue error", resp.body)
			}
			if calls := f.queue.recorded(); len(calls) != 1 {
				t.Errorf("Enqueue calls: got %d, want 1", len(calls))
			}
			if got := f.metrics.rejectedCount(EndpointChanges, ReasonQueueUnavailable); got != 2 {
				t.Errorf("Rejected(changes, queue_unavailable): got %d, want 2", got)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, tt.wantLog) {
				t.Errorf("logs: got %s, want an ERROR line containing %q", logs, tt.wantLog)
			}
		})
	}
}

func TestLifecycleEndpoint(t *testing.T) {
	tests := []struct {
		name           string
		body           string
		wantStatus     int
		wantLifecycles []bridge.Lifecycle
		wantError      string
	}{
		{
			name:       "lifecycle item",
			body:       valueJSON(lifecycleJSON("reauthorizationRequired", testClientState)),
			wantStatus: http.StatusAccepted,
			wantLifecycles: []bridge.Lifecycle{{
				SubscriptionID:         "8cd129ff-8499-432a-969c-6bfe388c3c3c",
				Event:                  "reauthorizationRequired",
				TenantID:               testTenant,
				SubscriptionExpiration: "2025-02-11T09:14:27.4410000+00:00",
				ReceivedAt:             testNow,
			}},
		},
		{
			name:       "unknown event kept",
			body:       valueJSON(lifecycleJSON("somethingNew", testClientState)),
			wantStatus: http.StatusAccepted,
			wantLifecycles: []bridge.Lifecycle{{
				SubscriptionID:         "8cd129ff-8499-432a-969c-6bfe388c3c3c",
				Event:                  "somethingNew",
				TenantID:               testTenant,
				SubscriptionExpiration: "2025-02-11T09:14:27.4410000+00:00",
				ReceivedAt:             testNow,
			}},
		},
		{
			name:       "change item",
			body:       valueJSON(changeJSON(testUserID, testClientState)),
			wantStatus: http.StatusBadRequest,
			wantError:  "no valid notification: 1 item rejected: not a lifecycle item: lifecycleEvent is missing (change notifications go to /webhooks/graph)",
		},
		{
			name:       "no subscription ID",
			body:       valueJSON(`{"clientState":"` + testClientState + `","lifecycleEvent":"missed"}`),
			wantStatus: http.StatusBadRequest,
			wantError:  "no valid notification: 1 item rejected: lifecycle item has no subscriptionId",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)

			resp := f.post(t, LifecyclePath, tt.body)

			if tt.wantStatus != http.StatusAccepted {
				if got := decodeError(t, resp, tt.wantStatus).Error; got != tt.wantError {
					t.Errorf("error: got %q, want %q", got, tt.wantError)
				}
				if calls := f.queue.recorded(); len(calls) != 0 {
					t.Errorf("Enqueue calls: got %d, want 0", len(calls))
				}
				return
			}
			decodeAccepted(t, resp)
			calls := f.queue.recorded()
			if len(calls) != 1 {
				t.Fatalf("Enqueue calls: got %d, want 1", len(calls))
			}
			if diff := cmp.Diff(tt.wantLifecycles, calls[0].lifecycles); diff != "" {
				t.Errorf("queued lifecycle items mismatch (-want +got):\n%s", diff)
			}
			if len(calls[0].changes) != 0 {
				t.Errorf("queued changes: got %d, want 0", len(calls[0].changes))
			}
		})
	}
}

func TestLogsOmitBodyAndSecrets(t *testing.T) {
	f := newFixture(t, nil)
	const marker = "body-marker-8c41"
	item := strings.Replace(changeJSON(testUserID, testClientState), `{"changeType"`, `{"note":"`+marker+`","changeType"`, 1)

	decodeAccepted(t, f.post(t, ChangesPath, valueJSON(item, changeJSON(testUserID, "wrong-"+marker))))

	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"queued notifications"`) {
		t.Errorf("logs: got %s, want a queued notifications line", logs)
	}
	if !strings.Contains(logs, `"user_id":"`+testUserID+`"`) {
		t.Errorf("logs: got %s, want the user ID", logs)
	}
	for _, secret := range []string{marker, testClientState} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q: %s", secret, logs)
		}
	}
}

func TestMetricsCounts(t *testing.T) {
	f := newFixture(t, nil)

	decodeAccepted(t, f.post(t, ChangesPath, valueJSON(
		changeJSON(testUserID, testClientState),
		changeJSON(testUserID, testClientState),
		lifecycleJSON("missed", testClientState),
		`null`,
	)))

	f.metrics.mu.Lock()
	defer f.metrics.mu.Unlock()
	if got := f.metrics.received[EndpointChanges]; got != 4 {
		t.Errorf("Received: got %d, want 4", got)
	}
	if got := f.metrics.changes[EndpointChanges]; got != 2 {
		t.Errorf("Accepted changes: got %d, want 2", got)
	}
	if got := f.metrics.lifecycles[EndpointChanges]; got != 1 {
		t.Errorf("Accepted lifecycle items: got %d, want 1", got)
	}
	if got := f.metrics.rejected[EndpointChanges+"/"+ReasonInvalidItem]; got != 1 {
		t.Errorf("Rejected invalid_item: got %d, want 1", got)
	}
}

func TestWebhookWrongMethod(t *testing.T) {
	f := newFixture(t, nil)

	resp := f.do(t, http.MethodGet, ChangesPath+"?validationToken=abc", nil)

	decodeError(t, resp, http.StatusMethodNotAllowed)
}

func TestNewHandlerConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		queue Queue
		want  string
	}{
		{"nil queue", Config{ClientStates: []string{"s"}}, nil, "queue is nil"},
		{"no client state", Config{}, &recordingQueue{}, "no clientState configured"},
		{"empty client state", Config{ClientStates: []string{"s", ""}}, &recordingQueue{}, "clientState 1 is empty"},
		{"client state too long", Config{ClientStates: []string{strings.Repeat("s", 129)}}, &recordingQueue{}, "clientState 0 is 129 bytes long, Graph accepts at most 128"},
		{"negative body limit", Config{ClientStates: []string{"s"}, MaxBodyBytes: -1}, &recordingQueue{}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(tt.cfg, tt.queue)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewHandler: got %v, %v, want error containing %q", h, err, tt.want)
			}
		})
	}
}

func TestClientStatesMatch(t *testing.T) {
	states, err := newClientStates([]string{"current", "previous"})
	if err != nil {
		t.Fatalf("newClientStates: %v", err)
	}
	tests := []struct {
		value string
		want  bool
	}{
		{"current", true},
		{"previous", true},
		{"Current", false},
		{"curren", false},
		{"currentt", false},
		{"", false},
		{strings.Repeat("x", 10_000), false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20s", tt.value), func(t *testing.T) {
			if got := states.match(tt.value); got != tt.want {
				t.Errorf("match(%.20q): got %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestRejectionLogsLimited(t *testing.T) {
	f := newFixture(t, nil)
	// The first group is logged, so its oversized ID must show up truncated.
	longSub := strings.Repeat("s", 5000)
	items := []string{`{"subscriptionId":"` + longSub + `","clientState":"wrong"}`}
	for i := range 30 {
		sub := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		items = append(items, `{"subscriptionId":"`+sub+`","clientState":"wrong","resource":"Users/`+testUserID+`"}`)
	}

	decodeError(t, f.post(t, ChangesPath, valueJSON(items...)), http.StatusBadRequest)

	// The fixture's clock is fixed, so every line falls in one window.
	warnings := strings.Count(f.logs.String(), `"msg":"rejected notification items"`)
	if warnings != maxRejectionLogsPerSecond {
		t.Errorf("rejection warnings: got %d, want %d", warnings, maxRejectionLogsPerSecond)
	}
	if got := f.metrics.rejectedCount(EndpointChanges, ReasonClientState); got != 31 {
		t.Errorf("Rejected(changes, client_state): got %d, want 31", got)
	}
	if strings.Contains(f.logs.String(), longSub) {
		t.Error("logs contain the 5000-byte subscription ID, want it truncated")
	}
	if want := `"subscription_id":"` + longSub[:maxLoggedIDBytes] + `..."`; !strings.Contains(f.logs.String(), want) {
		t.Errorf("logs: got %s, want the truncated subscription ID", f.logs.String())
	}
}

// TestTooLargeBodyLogsOneLine sends a body over the handler's limit but
// under the server's, and checks that only the handler logs it.
func TestTooLargeBodyLogsOneLine(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 2048 })

	resp := f.post(t, ChangesPath, `{"value":[`+strings.Repeat(" ", 4096)+`]}`)

	decodeError(t, resp, http.StatusRequestEntityTooLarge)
	logs := f.logs.String()
	if got := strings.Count(logs, `"level":"WARN"`); got != 1 {
		t.Errorf("got %d warnings for one oversized body, want 1:\n%s", got, logs)
	}
	if !strings.Contains(logs, `"reason":"`+ReasonBodyTooLarge+`"`) {
		t.Errorf("logs: got %s, want the handler's line with reason %s", logs, ReasonBodyTooLarge)
	}
}

func TestWholeRequestRejectionsLeaveATrace(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBodyBytes = 2048 })
	tests := []struct {
		name   string
		body   string
		status int
		reason string
	}{
		{"malformed", `{"value":[{"changeType":`, http.StatusBadRequest, ReasonMalformedBody},
		{"no value", `{"changeType":"updated"}`, http.StatusBadRequest, ReasonMalformedBody},
		{"too large", `{"value":[` + strings.Repeat(" ", 4096) + `]}`, http.StatusRequestEntityTooLarge, ReasonBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.metrics.rejectedCount(EndpointChanges, tt.reason)
			if got := f.post(t, ChangesPath, tt.body).status; got != tt.status {
				t.Fatalf("got status %d, want %d", got, tt.status)
			}
			if got := f.metrics.rejectedCount(EndpointChanges, tt.reason); got != before+1 {
				t.Errorf("Rejected(changes, %s) = %d, want %d", tt.reason, got, before+1)
			}
		})
	}
	if !strings.Contains(f.logs.String(), `"msg":"rejected notification request"`) {
		t.Errorf("no log line for rejected requests:\n%s", f.logs.String())
	}
}
