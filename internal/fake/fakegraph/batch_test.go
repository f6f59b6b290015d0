package fakegraph

import (
	"fmt"
	"net/http"
	"testing"
)

// batchItem returns a GET request entry of a JSON batch body.
func batchItem(id, url string) map[string]any {
	return map[string]any{"id": id, "method": "GET", "url": url, "headers": map[string]string{}}
}

// responsesByID indexes the responses array of a batch response.
func responsesByID(t *testing.T, body map[string]any) map[string]map[string]any {
	t.Helper()
	list, ok := body["responses"].([]any)
	if !ok {
		t.Fatalf("got batch body %v, want a responses array", body)
	}
	out := make(map[string]map[string]any, len(list))
	for _, entry := range list {
		r, _ := entry.(map[string]any)
		id, _ := r["id"].(string)
		out[id] = r
	}
	return out
}

func TestBatchServesItems(t *testing.T) {
	s := startServer(t)
	s.PutUser(alex)
	s.PutUser(dollar)
	body := map[string]any{"requests": []any{
		batchItem("1", "/users/"+alex.ID+"?$select=id,mail"),
		batchItem("2", "users/missing-user"),
		batchItem("3", "/users('"+dollar.UserPrincipalName+"')?$select=id"),
		batchItem("4", "/users/"+alex.ID+"?$select=shoeSize"),
		batchItem("5", "https://graph.microsoft.com/v1.0/users/"+alex.ID),
	}}

	status, got := send(t, s, http.MethodPost, "/$batch", body)

	if status != http.StatusOK {
		t.Fatalf("got status %d, want 200; body %v", status, got)
	}
	responses := responsesByID(t, got)
	tests := []struct {
		id         string
		wantStatus float64
		wantCode   string
		wantUserID string
	}{
		{id: "1", wantStatus: 200, wantUserID: alex.ID},
		{id: "2", wantStatus: 404, wantCode: "Request_ResourceNotFound"},
		{id: "3", wantStatus: 200, wantUserID: dollar.ID},
		{id: "4", wantStatus: 400, wantCode: "BadRequest"},
		{id: "5", wantStatus: 400, wantCode: "BadRequest"},
	}
	for _, tc := range tests {
		t.Run("item "+tc.id, func(t *testing.T) {
			r, ok := responses[tc.id]
			if !ok {
				t.Fatalf("got no response with id %s", tc.id)
			}
			if r["status"] != tc.wantStatus {
				t.Errorf("got status %v, want %v", r["status"], tc.wantStatus)
			}
			itemBody, _ := r["body"].(map[string]any)
			if code := errorCode(itemBody); code != tc.wantCode {
				t.Errorf("got error code %q, want %q", code, tc.wantCode)
			}
			if tc.wantUserID != "" && itemBody["id"] != tc.wantUserID {
				t.Errorf("got user id %v, want %s", itemBody["id"], tc.wantUserID)
			}
			headers, _ := r["headers"].(map[string]any)
			if tc.wantStatus == 200 && headers["Content-Type"] != jsonContentType {
				t.Errorf("got Content-Type %v, want %s", headers["Content-Type"], jsonContentType)
			}
		})
	}
	if got := s.Requests("/v1.0/$batch"); got != 1 {
		t.Errorf("got %d batch requests, want 1", got)
	}
	if got := s.Requests("/v1.0/users"); got != 0 {
		t.Errorf("got %d user requests outside batches, want 0", got)
	}
	if got := s.BatchItems("/v1.0/users/"); got != 4 {
		t.Errorf("got %d user requests inside batches, want 4 (the absolute URL is rejected first)", got)
	}
}

func TestBatchRejectsInvalidBodies(t *testing.T) {
	var tooMany []any
	for i := range maxBatchRequests + 1 {
		tooMany = append(tooMany, batchItem(fmt.Sprint(i), "/users/x"))
	}
	tests := []struct {
		name     string
		requests []any
	}{
		{name: "empty", requests: []any{}},
		{name: "more than 20", requests: tooMany},
		{name: "duplicate id", requests: []any{batchItem("1", "/users/a"), batchItem("1", "/users/b")}},
		{name: "missing url", requests: []any{map[string]any{"id": "1", "method": "GET"}}},
		{name: "dependsOn", requests: []any{map[string]any{"id": "1", "method": "GET", "url": "/users/a", "dependsOn": []string{"2"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			status, body := send(t, s, http.MethodPost, "/$batch", map[string]any{"requests": tc.requests})
			if status != http.StatusBadRequest {
				t.Errorf("got status %d, want 400", status)
			}
			if code := errorCode(body); code != "BadRequest" {
				t.Errorf("got error code %q, want BadRequest", code)
			}
			if got := s.BatchItems(""); got != 0 {
				t.Errorf("got %d items served, want 0", got)
			}
		})
	}
}
