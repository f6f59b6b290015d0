package notification

import (
	"strings"
	"testing"
)

func TestItemUserID(t *testing.T) {
	const upper = "DE9E559D-648B-48CB-8882-EEAE2191A3AE"
	tests := []struct {
		name    string
		item    Item
		want    string
		wantErr string
	}{
		{
			name: "resourceData id",
			item: Item{ResourceData: ResourceData{ID: testUserID}, Resource: "Users/" + testUserID},
			want: testUserID,
		},
		{
			name: "resourceData id wins over resource",
			item: Item{ResourceData: ResourceData{ID: testUserID}, Resource: "Users/not-a-guid"},
			want: testUserID,
		},
		{
			name: "resourceData id upper case",
			item: Item{ResourceData: ResourceData{ID: upper}},
			want: testUserID,
		},
		{"resource Users slash", Item{Resource: "Users/" + testUserID}, testUserID, ""},
		{"resource lower case", Item{Resource: "users/" + testUserID}, testUserID, ""},
		{"resource leading slash", Item{Resource: "/users/" + testUserID}, testUserID, ""},
		{"resource key syntax", Item{Resource: "users('" + testUserID + "')"}, testUserID, ""},
		{"resource key syntax mixed case", Item{Resource: "Users('" + upper + "')"}, testUserID, ""},
		{"resource all caps", Item{Resource: "USERS/" + upper}, testUserID, ""},
		{
			name: "odata id fallback",
			item: Item{ResourceData: ResourceData{ODataID: "Users/" + testUserID}},
			want: testUserID,
		},
		{
			name:    "nothing",
			item:    Item{ChangeType: "updated"},
			wantErr: "no user ID",
		},
		{
			name:    "resourceData id not a GUID",
			item:    Item{ResourceData: ResourceData{ID: "alex@contoso.com"}},
			wantErr: `resourceData.id "alex@contoso.com" is not an Entra object ID`,
		},
		{
			name:    "group resource",
			item:    Item{Resource: "Groups/" + testUserID},
			wantErr: "is not a users resource",
		},
		{
			name:    "users prefix only",
			item:    Item{Resource: "usersX/" + testUserID},
			wantErr: "is not a users resource",
		},
		{
			name:    "sub-resource",
			item:    Item{Resource: "Users/" + testUserID + "/manager"},
			wantErr: "does not end in an Entra object ID",
		},
		{
			name:    "key syntax unterminated",
			item:    Item{Resource: "users('" + testUserID},
			wantErr: "is not a users resource",
		},
		{
			name:    "key syntax too short",
			item:    Item{Resource: "users(')"},
			wantErr: "is not a users resource",
		},
		{
			name:    "short resource",
			item:    Item{Resource: "us"},
			wantErr: "is not a users resource",
		},
		{
			name:    "GUID with braces",
			item:    Item{Resource: "Users/{" + testUserID + "}"},
			wantErr: "does not end in an Entra object ID",
		},
		{
			name:    "GUID with non-hex digit",
			item:    Item{ResourceData: ResourceData{ID: "ge9e559d-648b-48cb-8882-eeae2191a3ae"}},
			wantErr: "is not an Entra object ID",
		},
		{
			name:    "GUID with hyphen misplaced",
			item:    Item{ResourceData: ResourceData{ID: "de9e559d6-48b-48cb-8882-eeae2191a3ae"}},
			wantErr: "is not an Entra object ID",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.item.UserID()

			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("UserID: got %q, %v, want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("UserID: got error %v, want %s", err, tt.want)
			}
			if got != tt.want {
				t.Errorf("UserID: got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUserIDErrorTruncatesValue(t *testing.T) {
	it := Item{Resource: "Users/" + strings.Repeat("x", 10_000)}

	_, err := it.UserID()

	if err == nil {
		t.Fatal("UserID: got nil error, want one")
	}
	if len(err.Error()) > 200 {
		t.Errorf("UserID error: got %d bytes, want at most 200", len(err.Error()))
	}
}
