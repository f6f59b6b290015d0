package notification

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// payloadDir holds the recorded request bodies shared with the replay
// command. Its README lists what each file contains.
const payloadDir = "../../testdata/notifications"

func readPayload(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(payloadDir, name))
	if err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return strings.ReplaceAll(string(data), "<client-state>", testClientState)
}

func TestRecordedPayloads(t *testing.T) {
	tests := []struct {
		file           string
		path           string
		wantStatus     int
		wantChanges    int
		wantLifecycles int
		wantRejected   int
		wantUsers      []string // queued user IDs in order, when checked
		wantError      string   // for 4xx responses
	}{
		{
			file: "single-update.json", path: ChangesPath, wantStatus: 202, wantChanges: 1,
			wantUsers: []string{"de9e559d-648b-48cb-8882-eeae2191a3ae"},
		},
		{
			file: "batch-5-users.json", path: ChangesPath, wantStatus: 202, wantChanges: 5,
			wantUsers: []string{
				"de9e559d-648b-48cb-8882-eeae2191a3ae", "30498315-5bdd-4366-9f85-0c6d90ff0f0f",
				"cff6d65f-a908-4da9-82ba-2c8240fddb76", "1b957e89-147b-4e62-b144-6dcc230be6a3",
				"5a510771-4f49-4600-bb68-15bedeec91e8",
			},
		},
		{
			file: "duplicates-same-user.json", path: ChangesPath, wantStatus: 202, wantChanges: 3,
			wantUsers: []string{
				"30498315-5bdd-4366-9f85-0c6d90ff0f0f", "30498315-5bdd-4366-9f85-0c6d90ff0f0f",
				"30498315-5bdd-4366-9f85-0c6d90ff0f0f",
			},
		},
		{file: "batch-20-users.json", path: ChangesPath, wantStatus: 202, wantChanges: 20},
		{file: "lifecycle-reauthorization-required.json", path: LifecyclePath, wantStatus: 202, wantLifecycles: 1},
		{file: "lifecycle-subscription-removed.json", path: LifecyclePath, wantStatus: 202, wantLifecycles: 1},
		{file: "lifecycle-missed.json", path: LifecyclePath, wantStatus: 202, wantLifecycles: 1},
		{
			file: "wrong-client-state.json", path: ChangesPath, wantStatus: 400,
			wantError: "no valid notification: 2 items rejected: clientState does not match",
		},
		{
			file: "malformed-json.json", path: ChangesPath, wantStatus: 400,
			wantError: "body is not valid JSON: unexpected end of JSON input",
		},
		{
			file: "missing-value.json", path: ChangesPath, wantStatus: 400,
			wantError: `body has no "value" array`,
		},
		{
			file: "mixed-valid-invalid.json", path: ChangesPath, wantStatus: 202,
			wantChanges: 2, wantLifecycles: 1, wantRejected: 3,
			wantUsers: []string{"8b6fabf5-a98a-4df6-b48a-5d7b09ba2510", "7f8cd2be-330d-41d1-b920-4a9c71de6d47"},
		},
		{
			file: "empty-tenant-id.json", path: ChangesPath, wantStatus: 202, wantChanges: 1,
			wantUsers: []string{"4a5e9123-bef0-496d-8d9a-178a449fdcc0"},
		},
		{
			file: "unknown-change-type.json", path: ChangesPath, wantStatus: 202, wantChanges: 1,
			wantUsers: []string{"6300b545-1224-4f36-a3e1-d355c094041c"},
		},
		{
			file: "deleted.json", path: ChangesPath, wantStatus: 202, wantChanges: 1,
			wantUsers: []string{"3cc93ec7-b3a9-4d5e-b3d4-90de443ea887"},
		},
		{
			file: "resource-only.json", path: ChangesPath, wantStatus: 202, wantChanges: 1,
			wantUsers: []string{"2c0f8428-1aaa-406c-8cab-5ef2ac628a04"},
		},
	}

	covered := []string{"README.md", "validation-token.txt"}
	for _, tt := range tests {
		covered = append(covered, tt.file)
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)

			resp := f.post(t, tt.path, readPayload(t, tt.file))

			if tt.wantStatus != http.StatusAccepted {
				if got := decodeError(t, resp, tt.wantStatus).Error; got != tt.wantError {
					t.Errorf("error: got %q, want %q", got, tt.wantError)
				}
				if calls := f.queue.recorded(); len(calls) != 0 {
					t.Errorf("Enqueue calls: got %d, want 0", len(calls))
				}
				return
			}
			body := decodeAccepted(t, resp)
			if want := tt.wantChanges + tt.wantLifecycles; body.Accepted != want {
				t.Errorf("accepted: got %d, want %d", body.Accepted, want)
			}
			if body.Rejected != tt.wantRejected {
				t.Errorf("rejected: got %d, want %d; errors %+v", body.Rejected, tt.wantRejected, body.Errors)
			}
			calls := f.queue.recorded()
			if len(calls) != 1 {
				t.Fatalf("Enqueue calls: got %d, want 1", len(calls))
			}
			if got := len(calls[0].changes); got != tt.wantChanges {
				t.Errorf("queued changes: got %d, want %d", got, tt.wantChanges)
			}
			if got := len(calls[0].lifecycles); got != tt.wantLifecycles {
				t.Errorf("queued lifecycle items: got %d, want %d", got, tt.wantLifecycles)
			}
			checkPayloadChanges(t, calls[0], tt.wantUsers)
		})
	}

	t.Run("every file covered", func(t *testing.T) {
		entries, err := os.ReadDir(payloadDir)
		if err != nil {
			t.Fatalf("read payload dir: %v", err)
		}
		for _, e := range entries {
			if !slices.Contains(covered, e.Name()) {
				t.Errorf("payload %s has no case in TestRecordedPayloads", e.Name())
			}
		}
	})
}

// checkPayloadChanges checks the user IDs when given, and that every queued
// change carries the tenant and an 18-digit sequence number.
func checkPayloadChanges(t *testing.T, call enqueueCall, wantUsers []string) {
	t.Helper()
	if wantUsers != nil {
		var got []string
		for _, c := range call.changes {
			got = append(got, c.UserID)
		}
		if !slices.Equal(got, wantUsers) {
			t.Errorf("queued users: got %v, want %v", got, wantUsers)
		}
	}
	for _, c := range call.changes {
		if c.TenantID != "e51f0faa-edf2-4939-9a3e-34f9e953ccaf" {
			t.Errorf("user %s tenant: got %q, want the fixed tenant", c.UserID, c.TenantID)
		}
		if len(c.SequenceNumber) != 18 || !strings.HasPrefix(c.SequenceNumber, "6387461763") {
			t.Errorf("user %s sequence number: got %q, want an 18-digit value from the payload", c.UserID, c.SequenceNumber)
		}
	}
}

func TestRecordedValidationToken(t *testing.T) {
	token := readPayload(t, "validation-token.txt")
	f := newFixture(t, nil)
	for _, path := range []string{ChangesPath, LifecyclePath} {
		t.Run(path, func(t *testing.T) {
			resp := f.do(t, http.MethodPost, path+"?validationToken="+url.QueryEscape(token), strings.NewReader(""))

			if resp.status != http.StatusOK {
				t.Fatalf("status: got %d, want 200", resp.status)
			}
			if got := string(resp.body); got != token {
				t.Errorf("body: got %q, want %q", got, token)
			}
		})
	}
}
