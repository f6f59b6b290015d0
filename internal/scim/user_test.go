package scim_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/scim"
)

func TestUserDecodesAtlassianSample(t *testing.T) {
	var got scim.User
	if err := json.Unmarshal(readTestdata(t, "scim-user.json"), &got); err != nil {
		t.Fatalf("decode sample: %v", err)
	}
	want := scim.User{
		ID:         "247b915a-9d6c-4cd5-b5a5-071b1b3abc2e",
		ExternalID: "2b3c1f7a-0000-4000-8000-000000000001",
		UserName:   "alex.doe@contoso.com",
		Emails:     []scim.Email{{Value: "alex.doe@contoso.com", Type: "work", Primary: true}},
		Active:     boolPtr(true),
		AccountID:  "602bdf457b23f40068547c25",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
}

func TestUserJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		user scim.User
	}{
		{"linked", scim.User{ID: "1", UserName: "a", AccountID: "acc", Active: boolPtr(false),
			Emails: []scim.Email{{Value: "a@contoso.com", Type: "work", Primary: true}}}},
		{"unlinked", scim.User{ID: "2", ExternalID: "ext", UserName: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.user)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var got scim.User
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("unmarshal %s: %v", data, err)
			}
			if diff := cmp.Diff(tt.user, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserMarshalSchemas(t *testing.T) {
	data, err := json.Marshal(scim.User{ID: "1", UserName: "a", AccountID: "acc"})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var wire struct {
		Schemas []string `json:"schemas"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := []string{
		"urn:ietf:params:scim:schemas:core:2.0:User",
		"urn:scim:schemas:extension:atlassian-external:1.0",
	}
	if diff := cmp.Diff(want, wire.Schemas); diff != "" {
		t.Errorf("schemas (-want +got):\n%s", diff)
	}
}

func TestWorkEmail(t *testing.T) {
	tests := []struct {
		name   string
		emails []scim.Email
		want   scim.Email
		wantOK bool
	}{
		{"none", nil, scim.Email{}, false},
		{"only home", []scim.Email{{Value: "h@x", Type: "home", Primary: true}}, scim.Email{}, false},
		{"single work", []scim.Email{{Value: "h@x", Type: "home", Primary: true}, {Value: "w@x", Type: "work"}},
			scim.Email{Value: "w@x", Type: "work"}, true},
		{"primary work wins", []scim.Email{{Value: "w1@x", Type: "work"}, {Value: "w2@x", Type: "work", Primary: true}},
			scim.Email{Value: "w2@x", Type: "work", Primary: true}, true},
		{"first of several work", []scim.Email{{Value: "w1@x", Type: "work"}, {Value: "w2@x", Type: "work"}},
			scim.Email{Value: "w1@x", Type: "work"}, true},
		{"type case", []scim.Email{{Value: "w@x", Type: "Work"}}, scim.Email{Value: "w@x", Type: "Work"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := scim.User{Emails: tt.emails}.WorkEmail()
			if ok != tt.wantOK {
				t.Errorf("got ok %v, want %v", ok, tt.wantOK)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPrimaryEmail(t *testing.T) {
	tests := []struct {
		name   string
		emails []scim.Email
		want   string
	}{
		{"none", nil, ""},
		{"primary of any type", []scim.Email{{Value: "w@x", Type: "work"}, {Value: "h@x", Type: "home", Primary: true}}, "h@x"},
		{"work without primary", []scim.Email{{Value: "o@x", Type: "other"}, {Value: "w@x", Type: "work"}}, "w@x"},
		{"first otherwise", []scim.Email{{Value: "o@x", Type: "other"}, {Value: "h@x", Type: "home"}}, "o@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (scim.User{Emails: tt.emails}).PrimaryEmail(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
