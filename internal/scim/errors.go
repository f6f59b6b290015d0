package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entrabridge/entrabridge/internal/failure"
)

// maxDetailBytes bounds the Detail taken from a body that is not a known
// error shape.
const maxDetailBytes = 512

// errorBody is the union of the error shapes Atlassian's user-provisioning
// API is documented to return:
//
//   - the SCIM error (RFC 7644 section 3.12): schemas, status, scimType,
//     detail. Atlassian sends status as a string, other servers as a
//     number, and one Atlassian 400 carries the schema URN
//     urn:ietf:params:scim:b:messages:2.0:Error instead of ...api:messages...
//   - the Java exception its OpenAPI lists as BadRequestException:
//     responseStatus (an enum name such as "BAD_REQUEST"), scimErrorType,
//     message, localizedMessage, and cause, stackTrace and suppressed,
//     which are not read here.
//   - the Failure its OpenAPI also lists: error and traceId.
type errorBody struct {
	Schemas []string `json:"schemas"`
	// Status is kept raw because it may be a JSON string or number.
	Status   json.RawMessage `json:"status"`
	ScimType string          `json:"scimType"`
	Detail   string          `json:"detail"`

	ResponseStatus   string `json:"responseStatus"`
	ScimErrorType    string `json:"scimErrorType"`
	Message          string `json:"message"`
	LocalizedMessage string `json:"localizedMessage"`

	Error   json.RawMessage `json:"error"`
	TraceID string          `json:"traceId"`
}

// DecodeError builds the error for a non-2xx response. Status is the HTTP
// status and decides the Class. Code is scimType (or scimErrorType), and
// Detail is the service's message. A body in none of the known shapes
// gives its own text, cut to 512 bytes, as Detail. When neither gives a
// message, Detail is the status text, such as "Unauthorized". RetryAfter comes from Retry-After or X-RateLimit-Reset,
// relative to now.
func DecodeError(status int, header http.Header, body []byte, now time.Time) *failure.Error {
	e := &failure.Error{
		Service:    "scim",
		Class:      failure.ClassOfStatus(status),
		Status:     status,
		RetryAfter: failure.ParseRetryAfter(header, now),
	}

	var decoded errorBody
	if err := json.Unmarshal(body, &decoded); err == nil && decoded.known() {
		e.Code = firstNonEmpty(decoded.ScimType, decoded.ScimErrorType)
		e.Detail = firstNonEmpty(decoded.Detail, decoded.Message,
			decoded.LocalizedMessage, decoded.errorText(), decoded.ResponseStatus)
		if decoded.TraceID != "" {
			e.Detail = strings.TrimSpace(e.Detail + " (trace ID " + decoded.TraceID + ")")
		}
	} else {
		e.Detail = bodyText(body)
	}

	if e.Detail == "" {
		e.Detail = http.StatusText(status)
	}
	return e
}

// known reports whether the body carried any field of a known shape.
func (b errorBody) known() bool {
	return b.isSCIMError() || b.statusOf() != 0 || b.ScimType != "" || b.Detail != "" ||
		b.ResponseStatus != "" || b.ScimErrorType != "" || b.Message != "" ||
		b.LocalizedMessage != "" || b.errorText() != ""
}

// isSCIMError reports whether schemas names an error message schema. Any
// URN ending in ":Error" counts, which covers Atlassian's odd
// urn:ietf:params:scim:b:messages:2.0:Error.
func (b errorBody) isSCIMError() bool {
	for _, s := range b.Schemas {
		if strings.HasSuffix(s, ":Error") {
			return true
		}
	}
	return false
}

// errorText returns the error field when it is a string, and "" when it
// is absent or another JSON type.
func (b errorBody) errorText() string {
	var text string
	if json.Unmarshal(b.Error, &text) != nil {
		return ""
	}
	return text
}

// bodyText returns body as trimmed, valid UTF-8 of at most maxDetailBytes,
// cut at a rune boundary.
func bodyText(body []byte) string {
	text := bytes.ToValidUTF8(bytes.TrimSpace(body), []byte("\uFFFD"))
	if len(text) <= maxDetailBytes {
		return string(text)
	}
	cut := maxDetailBytes
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return string(text[:cut])
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// statusOf returns the body's status as an int, or 0 when it is absent or
// not a number.
func (b errorBody) statusOf() int {
	n, err := strconv.Atoi(strings.Trim(string(b.Status), `"`))
	if err != nil {
		return 0
	}
	return n
}
