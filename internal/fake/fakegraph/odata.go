package fakegraph

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// jsonContentType is the Content-Type Graph v1.0 sends with JSON bodies.
const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// writeJSON sends body with Graph's response headers.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	setGraphHeaders(w, r)
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(status)
	// An encoding error can only come from a failed write to the client,
	// which the client sees as a broken response.
	_ = json.NewEncoder(w).Encode(body)
}

// writeError sends a Graph error body:
// {"error":{"code":...,"message":...,"innerError":{...}}}.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	setGraphHeaders(w, r)
	writeJSON(w, r, status, map[string]any{
		"error": map[string]any{
			"code":    code,
			"message": message,
			"innerError": map[string]any{
				"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
				"request-id":        w.Header().Get("request-id"),
				"client-request-id": w.Header().Get("client-request-id"),
			},
		},
	})
}

// writeInjectedFailure sends a failure queued by FailNext. Its error code
// is the status text without spaces, as in Graph's "TooManyRequests". When
// the queued header sets a Content-Type, the body is the bare status text
// instead, as a gateway in front of Graph might send it.
func writeInjectedFailure(w http.ResponseWriter, r *http.Request, failure injectedFailure) {
	for key, values := range failure.header {
		for _, value := range values {
			w.Header().Add(key, value)
		}
	}
	text := http.StatusText(failure.status)
	switch {
	case failure.status < http.StatusBadRequest:
		setGraphHeaders(w, r)
		w.WriteHeader(failure.status)
	case failure.header.Get("Content-Type") != "":
		setGraphHeaders(w, r)
		w.WriteHeader(failure.status)
		_, _ = w.Write([]byte(text))
	default:
		writeError(w, r, failure.status, strings.ReplaceAll(text, " ", ""), text+".")
	}
}

// setGraphHeaders sets the request-id Graph gives every response and
// echoes the client's client-request-id.
func setGraphHeaders(w http.ResponseWriter, r *http.Request) {
	if w.Header().Get("request-id") == "" {
		w.Header().Set("request-id", newUUID())
	}
	if id := r.Header.Get("client-request-id"); id != "" {
		w.Header().Set("client-request-id", id)
	}
}

// rewriteKeySegments turns OData key segments such as users('alex@contoso.com')
// into path segments such as users/alex@contoso.com, so that one route
// serves both forms. Graph requires the parenthesised form for a
// userPrincipalName that starts with "$". Inside the quotes, a pair of
// single quotes is one quote. The key is escaped so that a "/" in it stays
// within its segment.
func rewriteKeySegments(u *url.URL) {
	escaped := u.EscapedPath()
	if !strings.Contains(escaped, "(") {
		return
	}

	segments := strings.Split(escaped, "/")
	changed := false
	for i, segment := range segments {
		decoded, err := url.PathUnescape(segment)
		if err != nil {
			continue
		}
		name, key, ok := cutKeySegment(decoded)
		if !ok {
			continue
		}
		segments[i] = url.PathEscape(name) + "/" + url.PathEscape(key)
		changed = true
	}
	if !changed {
		return
	}

	rawPath := strings.Join(segments, "/")
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return
	}
	u.Path, u.RawPath = path, rawPath
}

// cutKeySegment splits name('key') into name and the unquoted key.
func cutKeySegment(segment string) (name, key string, ok bool) {
	open := strings.Index(segment, "('")
	if open <= 0 || !strings.HasSuffix(segment, "')") || len(segment) < open+4 {
		return "", "", false
	}
	quoted := segment[open+2 : len(segment)-2]
	return segment[:open], strings.ReplaceAll(quoted, "''", "'"), true
}

// systemSegments are the OData path segments that may start with "$".
var systemSegments = []string{"$metadata", "$batch", "$count", "$ref", "$value"}

// findDollarSegment returns the first segment of a decoded path that
// starts with "$" without being an OData system segment. Graph rejects
// such a path with 400, so GET /users/$x@contoso.com fails and the key
// must be sent as users('$x@contoso.com').
func findDollarSegment(path string) string {
	for segment := range strings.SplitSeq(path, "/") {
		if strings.HasPrefix(segment, "$") && !slices.Contains(systemSegments, segment) {
			return segment
		}
	}
	return ""
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
