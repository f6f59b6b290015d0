package worker

import "regexp"

// addressPattern matches email addresses and userPrincipalNames, which
// SCIM and Graph errors quote (a 409 names the colliding address, a
// mapping failure the userName it tried).
var addressPattern = regexp.MustCompile(`[^\s"\[\](){}<>,;:]+@[^\s"'\[\](){}<>,;:]+`)

// redact returns s with every address replaced, unless the operator
// allowed user details in logs. Dead letters and the audit trail keep the
// full text: they are the operator's record, not the log.
func (w *Worker) redact(s string) string {
	if w.cfg.LogUserDetails {
		return s
	}
	return addressPattern.ReplaceAllString(s, "<redacted>")
}
