package worker

import "testing"

func TestRedactAddresses(t *testing.T) {
	w := &Worker{}
	in := `scim: status 409 uniqueness: Resource [USER]: with email[alex@contoso.com] already exists.; ` +
		`tried SCIM userName eq "o'brien_fabrikam.com#EXT#@contoso.onmicrosoft.com"`
	want := `scim: status 409 uniqueness: Resource [USER]: with email[<redacted>] already exists.; ` +
		`tried SCIM userName eq "<redacted>"`
	if got := w.redact(in); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	w.cfg.LogUserDetails = true
	if got := w.redact(in); got != in {
		t.Errorf("with LogUserDetails got %s, want the text unchanged", got)
	}
}
