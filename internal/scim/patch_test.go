package scim_test

import (
	"testing"

	"github.com/entrabridge/entrabridge/internal/scim"
)

func TestPatchBodyGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		ops    []scim.Operation
	}{
		{"rename", "patch-rename.golden", []scim.Operation{
			scim.ReplaceUserName("alex.smith@contoso.com"),
			scim.ReplaceWorkEmailValue("alex.smith@contoso.com"),
		}},
		{"replace emails", "patch-replace-emails.golden", []scim.Operation{
			scim.ReplaceEmails("alex.smith@contoso.com"),
		}},
		{"special characters", "patch-special-characters.golden", []scim.Operation{
			scim.ReplaceUserName(`o'brien&"co"<x>@contoso.com`),
		}},
		{"deactivate", "patch-deactivate.golden", []scim.Operation{
			{Op: "replace", Path: "active", Value: false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := scim.PatchBody(tt.ops)
			if err != nil {
				t.Fatalf("PatchBody: %v", err)
			}
			assertGolden(t, tt.golden, body)
		})
	}
}

func TestPatchBodyRejectsUnencodableValue(t *testing.T) {
	_, err := scim.PatchBody([]scim.Operation{{Op: "replace", Path: "x", Value: func() {}}})
	if err == nil {
		t.Fatal("got nil error, want an encoding error")
	}
}
