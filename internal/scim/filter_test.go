package scim_test

import (
	"testing"

	"github.com/entrabridge/entrabridge/internal/scim"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name  string
		attr  string
		value string
		want  string
	}{
		{"plain", "userName", "alex@contoso.com", `userName eq "alex@contoso.com"`},
		{"apostrophe", "userName", `o'brien`, `userName eq "o'brien"`},
		{"quote and backslash", "userName", `a"b\c`, `userName eq "a\"b\\c"`},
		{"html characters kept", "userName", `a<b>&c`, `userName eq "a<b>&c"`},
		{"newline and tab", "userName", "a\nb\tc", `userName eq "a\nb\tc"`},
		{"other control character", "externalId", "a\x01b\x1f", `externalId eq "a\u0001b\u001F"`},
		{"non-ASCII", "userName", "zoë@contoso.com", `userName eq "zoë@contoso.com"`},
		{"empty", "externalId", "", `externalId eq ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scim.Filter(tt.attr, tt.value); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
