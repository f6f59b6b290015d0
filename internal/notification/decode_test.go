package notification

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	testUserID = "de9e559d-648b-48cb-8882-eeae2191a3ae"
	testTenant = "e51f0faa-edf2-4939-9a3e-34f9e953ccaf"
)

func TestDecodeBodyErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"empty", "", "body is empty"},
		{"whitespace", " \n\t", "body is empty"},
		{"not JSON", "value=1", "body is not valid JSON"},
		{"truncated", `{"value":[{"changeType":"upd`, "body is not valid JSON"},
		{"trailing data", `{"value":[]} {}`, "body is not valid JSON"},
		{"form feed before", "\f{\"value\":[]}", "body is not valid JSON"},
		{"no-break space after", "{\"value\":[]}\u00a0", "body is not valid JSON"},
		{"array", `[{"changeType":"updated"}]`, `body is a JSON array, want an object with a "value" array`},
		{"string", `"value"`, "body is a JSON string"},
		{"no value", `{"values":[]}`, `body has no "value" array`},
		{"value null", `{"value":null}`, `"value" is a JSON null, want an array`},
		{"value object", `{"value":{"changeType":"updated"}}`, `"value" is a JSON object, want an array`},
		{"value string", `{"value":"[]"}`, `"value" is a JSON string, want an array`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Decode([]byte(tt.body))

			if err == nil {
				t.Fatalf("Decode(%q): got %d items and no error, want error containing %q", tt.body, len(items), tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Decode(%q) error: got %q, want it to contain %q", tt.body, err, tt.wantErr)
			}
		})
	}
}

func TestDecodeItems(t *testing.T) {
	full := fmt.Sprintf(`{"changeType":"updated","clientState":"s3cret","resource":"Users/%[1]s",`+
		`"resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/%[1]s","id":"%[1]s",`+
		`"organizationId":"%[2]s","eventTime":"2022-05-24T22:24:31.3062901Z","sequenceNumber":636784480202455800},`+
		`"subscriptionExpirationDateTime":"2022-05-24T23:21:19.3554403+00:00",`+
		`"subscriptionId":"d850b120-19bb-4291-b9c4-845ea04dd38d","tenantId":"%[2]s","id":"n-1"}`, testUserID, testTenant)

	tests := []struct {
		name    string
		body    string
		want    []Item
		wantErr []string // per item; "" means no error
	}{
		{
			name:    "empty array",
			body:    `{"value":[]}`,
			want:    []Item{},
			wantErr: nil,
		},
		{
			name: "full item",
			body: `{"value":[` + full + `]}`,
			want: []Item{{
				ID:                             "n-1",
				SubscriptionID:                 "d850b120-19bb-4291-b9c4-845ea04dd38d",
				SubscriptionExpirationDateTime: "2022-05-24T23:21:19.3554403+00:00",
				ChangeType:                     "updated",
				Resource:                       "Users/" + testUserID,
				ResourceData: ResourceData{
					ODataType:      "#Microsoft.Graph.User",
					ODataID:        "Users/" + testUserID,
					ID:             testUserID,
					OrganizationID: testTenant,
					EventTime:      "2022-05-24T22:24:31.3062901Z",
					SequenceNumber: "636784480202455800",
				},
				ClientState: "s3cret",
				TenantID:    testTenant,
			}},
			wantErr: []string{""},
		},
		{
			name:    "key case differs",
			body:    `{"Value":[{"ChangeType":"updated","LifecycleEvent":"missed"}]}`,
			want:    []Item{{ChangeType: "updated", LifecycleEvent: "missed"}},
			wantErr: []string{""},
		},
		{
			name:    "unknown fields ignored",
			body:    `{"@odata.context":"x","value":[{"changeType":"updated","futureField":{"a":[1,2]}}],"validationTokens":["jwt"]}`,
			want:    []Item{{ChangeType: "updated"}},
			wantErr: []string{""},
		},
		{
			name:    "sequence number as string",
			body:    `{"value":[{"resourceData":{"sequenceNumber":"636784480202455800"}}]}`,
			want:    []Item{{ResourceData: ResourceData{SequenceNumber: "636784480202455800"}}},
			wantErr: []string{""},
		},
		{
			name:    "sequence number beyond int64",
			body:    `{"value":[{"resourceData":{"sequenceNumber":123456789012345678901234567890}}]}`,
			want:    []Item{{ResourceData: ResourceData{SequenceNumber: "123456789012345678901234567890"}}},
			wantErr: []string{""},
		},
		{
			name:    "null fields",
			body:    `{"value":[{"tenantId":null,"resourceData":null}]}`,
			want:    []Item{{}},
			wantErr: []string{""},
		},
		{
			name: "wrong shapes kept per item",
			body: `{"value":["Users/x",42,null,[],true,{"changeType":"updated"}]}`,
			want: []Item{{}, {}, {}, {}, {}, {ChangeType: "updated"}},
			wantErr: []string{
				"item is a JSON string, want an object",
				"item is a JSON number, want an object",
				"item is a JSON null, want an object",
				"item is a JSON array, want an object",
				"item is a JSON boolean, want an object",
				"",
			},
		},
		{
			name: "field of wrong type",
			body: `{"value":[{"resourceData":"Users/x"},{"changeType":7},{"resourceData":{"sequenceNumber":{}}}]}`,
			want: []Item{{}, {}, {}},
			wantErr: []string{
				`item field "resourceData" is a JSON string, want an object`,
				`item field "changeType" is a JSON number, want a string`,
				`item field "resourceData.sequenceNumber" is a JSON object, want a number`,
			},
		},
		{
			name:    "sequence number not numeric",
			body:    `{"value":[{"resourceData":{"sequenceNumber":"abc"}}]}`,
			want:    []Item{{}},
			wantErr: []string{"item is not a valid notification"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}

			if len(items) != len(tt.want) {
				t.Fatalf("Decode: got %d items, want %d", len(items), len(tt.want))
			}
			for i, it := range items {
				checkItemErr(t, i, it.Err, tt.wantErr[i])
				if tt.wantErr[i] != "" {
					// The fields of an item that failed to decode are not
					// part of the contract.
					continue
				}
				if diff := cmp.Diff(tt.want[i], it, cmpopts.IgnoreFields(Item{}, "Err")); diff != "" {
					t.Errorf("item %d mismatch (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func checkItemErr(t *testing.T, index int, got error, want string) {
	t.Helper()
	switch {
	case want == "" && got != nil:
		t.Errorf("item %d Err: got %v, want nil", index, got)
	case want != "" && got == nil:
		t.Errorf("item %d Err: got nil, want error containing %q", index, want)
	case want != "" && !strings.Contains(got.Error(), want):
		t.Errorf("item %d Err: got %q, want it to contain %q", index, got, want)
	}
}

func TestDecodeSequenceNumberExact(t *testing.T) {
	tests := []string{
		"636784480202455800",
		"636784480202455801",
		"9223372036854775807",
		"1",
	}
	for _, want := range tests {
		t.Run(want, func(t *testing.T) {
			body := `{"value":[{"resourceData":{"sequenceNumber":` + want + `}}]}`

			items, err := Decode([]byte(body))
			if err != nil {
				t.Fatalf("Decode: got error %v, want nil", err)
			}

			if got := items[0].ResourceData.SequenceNumber.String(); got != want {
				t.Errorf("sequenceNumber: got %s, want %s", got, want)
			}
		})
	}
}

func TestItemLogValueOmitsClientState(t *testing.T) {
	var out strings.Builder
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	it := Item{SubscriptionID: "sub-1", ClientState: "do-not-log-me"}

	logger.Info("item", "item", it)

	if strings.Contains(out.String(), "do-not-log-me") {
		t.Errorf("log line contains the clientState: %s", out.String())
	}
	if !strings.Contains(out.String(), "sub-1") {
		t.Errorf("log line: got %s, want the subscription ID", out.String())
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"value":[{"changeType":"updated","resource":"Users/` + testUserID + `"}]}`))
	f.Add([]byte(`{"value":["x",1,null]}`))
	f.Add([]byte("\f{\"value\":[]}\u00a0"))
	f.Add([]byte(`{"value":[{"resourceData":{"sequenceNumber":636784480202455800}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := Decode(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Errorf("Decode accepted invalid JSON %q", body)
		}
		for _, it := range items {
			if it.Err != nil {
				continue
			}
			// UserID must not panic on whatever the fields hold.
			_, _ = it.UserID()
		}
	})
}

func BenchmarkDecodeBatch(b *testing.B) {
	benchmarkDecode(b, "batch-20-users.json")
}

func BenchmarkDecodeSingle(b *testing.B) {
	benchmarkDecode(b, "single-update.json")
}

// benchmarkDecode decodes one recorded payload per iteration.
func benchmarkDecode(b *testing.B, name string) {
	b.Helper()
	body, err := os.ReadFile("../../testdata/notifications/" + name)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
