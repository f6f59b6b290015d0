package fakegraph

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestThrottleReturns429(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)
	s.SetThrottle(3)

	var statuses []int
	var retryAfter string
	for range 5 {
		status, header, body := get(t, s, "/users/"+alex.ID+"?$select=id", validToken)
		statuses = append(statuses, status)
		if status == http.StatusTooManyRequests {
			retryAfter = header.Get("Retry-After")
			if code := errorCode(body); code != "TooManyRequests" {
				t.Errorf("got error code %q, want TooManyRequests", code)
			}
		}
	}

	want := []int{200, 200, 200, 429, 429}
	for i := range want {
		if statuses[i] != want[i] {
			t.Errorf("request %d: got status %d, want %d", i+1, statuses[i], want[i])
		}
	}
	if seconds, err := strconv.Atoi(retryAfter); err != nil || seconds < 1 {
		t.Errorf("got Retry-After %q, want whole seconds of at least 1", retryAfter)
	}
	if got := s.Throttled(); got != 2 {
		t.Errorf("got %d throttled requests, want 2", got)
	}
}

func TestThrottleOffByDefault(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)
	for i := range 50 {
		if status, _, _ := get(t, s, "/users/"+alex.ID, validToken); status != http.StatusOK {
			t.Fatalf("request %d: got status %d, want 200", i+1, status)
		}
	}
	if got := s.Throttled(); got != 0 {
		t.Errorf("got %d throttled requests, want 0", got)
	}
}

func TestRequestCost(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		want   float64
	}{
		{name: "get user", method: "GET", target: "/v1.0/users/u1", want: 1},
		{name: "get user with select", method: "GET", target: "/v1.0/users/u1?$select=id", want: 1},
		{name: "list users", method: "GET", target: "/v1.0/users", want: 2},
		{name: "list users with select", method: "GET", target: "/v1.0/users?$select=id", want: 1},
		{name: "list users top 5", method: "GET", target: "/v1.0/users?$top=5", want: 1},
		{name: "users delta", method: "GET", target: "/v1.0/users/delta()?$select=id", want: 1},
		{name: "subscriptions", method: "POST", target: "/v1.0/subscriptions", want: 0},
		{name: "batch envelope", method: "POST", target: "/v1.0/$batch", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if got := requestCost(r); got != tc.want {
				t.Errorf("got cost %g, want %g", got, tc.want)
			}
		})
	}
}

func TestThrottleChargesBatchItems(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)
	s.SetThrottle(2)
	body := map[string]any{"requests": []any{
		batchItem("1", "/users/"+alex.ID), batchItem("2", "/users/"+alex.ID), batchItem("3", "/users/"+alex.ID),
	}}

	status, got := send(t, s, http.MethodPost, "/$batch", body)

	if status != http.StatusOK {
		t.Fatalf("got batch status %d, want 200", status)
	}
	responses := responsesByID(t, got)
	if got := responses["3"]["status"]; got != float64(http.StatusTooManyRequests) {
		t.Errorf("got item 3 status %v, want 429", got)
	}
	headers, _ := responses["3"]["headers"].(map[string]any)
	if headers["Retry-After"] == nil {
		t.Errorf("got item 3 headers %v, want Retry-After", headers)
	}
	if got := s.Throttled(); got != 1 {
		t.Errorf("got %d throttled items, want 1", got)
	}
}
