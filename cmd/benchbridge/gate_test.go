package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/scim"
)

func startTestGate(t *testing.T, limit int) (*scimGate, *fakescim.Server) {
	t.Helper()
	directory, err := fakescim.Start(fakescim.Options{Token: "test-token"})
	if err != nil {
		t.Fatalf("start fake scim: %v", err)
	}
	t.Cleanup(directory.Close)
	g, err := startGate(directory, limit)
	if err != nil {
		t.Fatalf("start gate: %v", err)
	}
	t.Cleanup(g.close)
	return g, directory
}

func TestGateAdmitsLimitPerSecond(t *testing.T) {
	g, _ := startTestGate(t, 3)
	second := time.Unix(1_700_000_000, 0)
	req := httptest.NewRequest(http.MethodGet, g.basePath+"/Users", nil)

	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"first", second, true},
		{"second", second.Add(100 * time.Millisecond), true},
		{"third", second.Add(900 * time.Millisecond), true},
		{"fourth in the same second", second.Add(999 * time.Millisecond), false},
		{"first of the next second", second.Add(time.Second), true},
	}
	for _, tt := range tests {
		if got := g.admit(req, tt.at); got != tt.want {
			t.Errorf("%s: admit got %t, want %t", tt.name, got, tt.want)
		}
	}

	c := g.counts(second, second.Add(2*time.Second))
	if c.requests != 4 {
		t.Errorf("admitted requests: got %d, want 4", c.requests)
	}
	if c.maxPerSecond != 3 {
		t.Errorf("most in one second: got %d, want 3", c.maxPerSecond)
	}
	if c.rejected != 1 {
		t.Errorf("rejected: got %d, want 1", c.rejected)
	}
	if got := g.rejectedCount(); got != 1 {
		t.Errorf("rejectedCount: got %d, want 1", got)
	}

	got := g.timeline(second.Add(500*time.Millisecond), second.Add(1500*time.Millisecond))
	want := []secondCount{{admitted: 3, rejected: 1}, {admitted: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("timeline: got %+v, want %+v", got, want)
	}
}

func TestGateWithoutLimitAdmitsAll(t *testing.T) {
	g, _ := startTestGate(t, 0)
	now := time.Now()
	req := httptest.NewRequest(http.MethodGet, g.basePath+"/Users", nil)

	for i := range 100 {
		if !g.admit(req, now) {
			t.Fatalf("request %d: admit got false, want true without a limit", i)
		}
	}
}

func TestGateForwardsAndRecordsPatch(t *testing.T) {
	g, directory := startTestGate(t, 0)
	directory.AddUser(scim.User{ID: "user-1", ExternalID: "user-1", UserName: "a@contoso.com",
		Emails: []scim.Email{{Value: "a@contoso.com", Type: "work", Primary: true}}})
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],` +
		`"Operations":[{"op":"replace","path":"userName","value":"b@contoso.com"}]}`

	req, err := http.NewRequest(http.MethodPatch, g.baseURL+"/Users/user-1", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("PATCH through the gate: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Errorf("status: got %d, want 200", resp.StatusCode)
	}
	if got, _ := directory.User("user-1"); got.UserName != "b@contoso.com" {
		t.Errorf("userName at the fake: got %q, want b@contoso.com", got.UserName)
	}
	if got := len(g.patchArrivals()["user-1"]); got != 1 {
		t.Errorf("PATCH arrivals recorded for user-1: got %d, want 1", got)
	}
}
