package scim_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// decodedPatch is a PATCH body as encoding/json reads it back.
type decodedPatch struct {
	Schemas    []string `json:"schemas"`
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

// FuzzPatchBody checks that PatchBody output is valid JSON with exactly the
// members schemas and Operations, and that encoding/json reads back the
// same operations and values.
func FuzzPatchBody(f *testing.F) {
	f.Add("alex@contoso.com", "alex@contoso.com", false)
	f.Add(`o"brien\x`, "a<b>&c@contoso.com", true)
	f.Add("zoë\u2028@contoso.com", "\x00\x1f\x7f", false)
	f.Add("bad\xffutf8", "", true)

	f.Fuzz(func(t *testing.T, userName, email string, replaceEmails bool) {
		emailOp := scim.ReplaceWorkEmailValue(email)
		if replaceEmails {
			emailOp = scim.ReplaceEmails(email)
		}
		ops := []scim.Operation{scim.ReplaceUserName(userName), emailOp}

		body, err := scim.PatchBody(ops)
		if err != nil {
			t.Fatalf("PatchBody: got error %v, want nil", err)
		}
		if !json.Valid(body) {
			t.Fatalf("PatchBody: got invalid JSON %q", body)
		}
		checkPatchMembers(t, body)

		var got decodedPatch
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("decode PatchBody output: %v", err)
		}
		if len(got.Schemas) != 1 || got.Schemas[0] != scim.PatchOpSchema {
			t.Errorf("schemas: got %q, want [%q]", got.Schemas, scim.PatchOpSchema)
		}
		if len(got.Operations) != len(ops) {
			t.Fatalf("operations: got %d, want %d", len(got.Operations), len(ops))
		}
		for i, op := range got.Operations {
			if op.Op != ops[i].Op || op.Path != ops[i].Path {
				t.Errorf("operation %d: got %s %s, want %s %s", i, op.Op, op.Path, ops[i].Op, ops[i].Path)
			}
		}

		if got := decodeString(t, got.Operations[0].Value); got != validUTF8(userName) {
			t.Errorf("userName value: got %q, want %q", got, validUTF8(userName))
		}
		checkEmailValue(t, got.Operations[1].Value, email, replaceEmails)
	})
}

// checkPatchMembers checks the body's top-level member names with their
// case, because encoding/json matches names case-insensitively when it
// decodes and would not notice "operations".
func checkPatchMembers(t *testing.T, body []byte) {
	t.Helper()
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		t.Fatalf("decode PatchBody output as an object: %v", err)
	}
	_, hasSchemas := members["schemas"]
	_, hasOperations := members["Operations"]
	if len(members) != 2 || !hasSchemas || !hasOperations {
		t.Errorf("PatchBody members: got %s, want exactly schemas and Operations", body)
	}
}

// checkEmailValue checks the email operation's value: the address itself,
// or one primary work email with that address.
func checkEmailValue(t *testing.T, raw json.RawMessage, email string, replaceEmails bool) {
	t.Helper()
	want := validUTF8(email)
	if !replaceEmails {
		if got := decodeString(t, raw); got != want {
			t.Errorf("work email value: got %q, want %q", got, want)
		}
		return
	}
	var emails []scim.Email
	if err := json.Unmarshal(raw, &emails); err != nil {
		t.Fatalf("decode emails value %s: %v", raw, err)
	}
	if len(emails) != 1 {
		t.Fatalf("emails: got %d entries, want 1", len(emails))
	}
	if got := emails[0]; got.Value != want || got.Type != "work" || !got.Primary {
		t.Errorf("emails[0]: got %+v, want {Value:%q Type:work Primary:true}", got, want)
	}
}

func decodeString(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("decode string value %s: %v", raw, err)
	}
	return s
}

// validUTF8 replaces each byte of s that is not part of valid UTF-8 with
// U+FFFD, as encoding/json does when it encodes a string and as ranging
// over a string does.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// FuzzFilter checks that Filter output parses with
// github.com/scim2/filter-parser as one eq expression on the attribute,
// and that its value, unescaped as a JSON string, is the value given.
func FuzzFilter(f *testing.F) {
	f.Add(false, "alex@contoso.com")
	f.Add(true, "de9e559d-648b-48cb-8882-eeae2191a3ae")
	f.Add(false, `a"b\c/d`)
	f.Add(false, "a\nb\tc\x01\x1f\x7f")
	f.Add(false, "zoë\u2028\U0001F600")
	f.Add(true, "bad\xffutf8")
	f.Add(false, `") or userName pr or (userName eq "`)

	f.Fuzz(func(t *testing.T, byExternalID bool, value string) {
		attr := "userName"
		if byExternalID {
			attr = "externalId"
		}
		expr := scim.Filter(attr, value)
		if !utf8.ValidString(expr) {
			t.Fatalf("Filter: got invalid UTF-8 %q", expr)
		}

		parsed, err := filter.ParseFilter([]byte(expr))
		if err != nil {
			t.Fatalf("ParseFilter(%s): %v", expr, err)
		}
		attrExpr, ok := parsed.(*filter.AttributeExpression)
		if !ok {
			t.Fatalf("ParseFilter(%s): got %T, want one *filter.AttributeExpression", expr, parsed)
		}
		if got := attrExpr.AttributePath.AttributeName; got != attr || attrExpr.AttributePath.SubAttribute != nil {
			t.Errorf("attribute of %s: got %v, want %s", expr, attrExpr.AttributePath, attr)
		}
		if attrExpr.Operator != filter.EQ {
			t.Errorf("operator of %s: got %s, want eq", expr, attrExpr.Operator)
		}

		// filter-parser v2.3.1 returns the string as written, escapes
		// included, so it is read back as the JSON string it is.
		escaped, ok := attrExpr.CompareValue.(string)
		if !ok {
			t.Fatalf("value of %s: got %T, want a string", expr, attrExpr.CompareValue)
		}
		var got string
		if err := json.Unmarshal([]byte(`"`+escaped+`"`), &got); err != nil {
			t.Fatalf("value of %s: %q is not a JSON string body: %v", expr, escaped, err)
		}
		if want := validUTF8(value); got != want {
			t.Errorf("value of %s: got %q, want %q", expr, got, want)
		}
	})
}
