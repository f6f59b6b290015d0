package scim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/scim"
)

func TestDecodeError(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	longText := strings.Repeat("é", 300) // 600 bytes, 2 per rune

	tests := []struct {
		name           string
		status         int
		header         http.Header
		body           string
		wantClass      failure.Class
		wantCode       string
		wantDetail     string
		wantRetryAfter time.Duration
	}{
		{
			name:      "SCIM error with string status",
			status:    409,
			body:      string(readTestdata(t, "scim-error-409-uniqueness.json")),
			wantClass: failure.Permanent, wantCode: "uniqueness",
			wantDetail: "Resource [USER]: with email[example@example.com] already exists.",
		},
		{
			name:      "SCIM error with odd schema URN",
			status:    400,
			body:      string(readTestdata(t, "scim-error-400-invalid-filter.json")),
			wantClass: failure.Permanent, wantCode: "invalidFilter",
			wantDetail: "Resource [USER] invalid filter",
		},
		{
			name:      "SCIM error with numeric status",
			status:    400,
			body:      `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":400,"scimType":"invalidValue","detail":"bad email"}`,
			wantClass: failure.Permanent, wantCode: "invalidValue", wantDetail: "bad email",
		},
		{
			name:      "SCIM error without detail",
			status:    404,
			body:      `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404"}`,
			wantClass: failure.NotFound, wantDetail: "Not Found",
		},
		{
			name:   "Java exception",
			status: 400,
			body: `{"cause":null,"stackTrace":[{"methodName":"x","lineNumber":1}],"responseStatus":"BAD_REQUEST",` +
				`"scimErrorType":"invalidSyntax","message":"Unable to parse request","localizedMessage":"Unable to parse request","suppressed":[]}`,
			wantClass: failure.Permanent, wantCode: "invalidSyntax", wantDetail: "Unable to parse request",
		},
		{
			name:      "Java exception with localized message only",
			status:    409,
			body:      `{"responseStatus":"CONFLICT","scimErrorType":"uniqueness","localizedMessage":"already exists"}`,
			wantClass: failure.Permanent, wantCode: "uniqueness", wantDetail: "already exists",
		},
		{
			name:      "Java exception with status only",
			status:    400,
			body:      `{"responseStatus":"BAD_REQUEST"}`,
			wantClass: failure.Permanent, wantDetail: "BAD_REQUEST",
		},
		{
			name:      "failure with trace ID",
			status:    500,
			body:      `{"error":"Internal error","traceId":"abc123"}`,
			wantClass: failure.Retryable, wantDetail: "Internal error (trace ID abc123)",
		},
		{
			name:      "HTML from a proxy",
			status:    502,
			body:      "<html>\n<body>Bad Gateway</body>\n</html>\n",
			wantClass: failure.Retryable, wantDetail: "<html>\n<body>Bad Gateway</body>\n</html>",
		},
		{
			name:      "JSON of another shape",
			status:    403,
			body:      `{"code":403,"reason":"forbidden"}`,
			wantClass: failure.Permanent, wantDetail: `{"code":403,"reason":"forbidden"}`,
		},
		{
			name:      "error object instead of string",
			status:    401,
			body:      `{"error":{"code":"Unauthorized"}}`,
			wantClass: failure.Permanent, wantDetail: `{"error":{"code":"Unauthorized"}}`,
		},
		{
			name:      "long garbage cut at a rune boundary",
			status:    500,
			body:      longText,
			wantClass: failure.Retryable, wantDetail: strings.Repeat("é", 256),
		},
		{
			name:      "invalid UTF-8",
			status:    500,
			body:      "bad \xff byte",
			wantClass: failure.Retryable, wantDetail: "bad \uFFFD byte",
		},
		{
			name:      "empty body",
			status:    503,
			body:      "",
			wantClass: failure.Retryable, wantDetail: "Service Unavailable",
		},
		{
			name:      "Retry-After seconds",
			status:    429,
			header:    http.Header{"Retry-After": {"120"}},
			body:      `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"Too many requests"}`,
			wantClass: failure.Retryable, wantDetail: "Too many requests", wantRetryAfter: 2 * time.Minute,
		},
		{
			name:      "Retry-After HTTP date",
			status:    429,
			header:    http.Header{"Retry-After": {now.Add(45 * time.Second).Format(http.TimeFormat)}},
			wantClass: failure.Retryable, wantDetail: "Too Many Requests", wantRetryAfter: 45 * time.Second,
		},
		{
			name:      "X-RateLimit-Reset",
			status:    429,
			header:    http.Header{"X-Ratelimit-Reset": {now.Add(10 * time.Minute).Format(time.RFC3339)}},
			wantClass: failure.Retryable, wantDetail: "Too Many Requests", wantRetryAfter: 10 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scim.DecodeError(tt.status, tt.header, []byte(tt.body), now)
			if got.Service != "scim" {
				t.Errorf("got service %q, want %q", got.Service, "scim")
			}
			if got.Status != tt.status {
				t.Errorf("got status %d, want %d", got.Status, tt.status)
			}
			if got.Class != tt.wantClass {
				t.Errorf("got class %v, want %v", got.Class, tt.wantClass)
			}
			if got.Code != tt.wantCode {
				t.Errorf("got code %q, want %q", got.Code, tt.wantCode)
			}
			if got.Detail != tt.wantDetail {
				t.Errorf("got detail %q, want %q", got.Detail, tt.wantDetail)
			}
			if got.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got RetryAfter %v, want %v", got.RetryAfter, tt.wantRetryAfter)
			}
		})
	}
}

func FuzzDecodeError(f *testing.F) {
	f.Add(409, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"x"}`))
	f.Add(400, []byte(`{"scimErrorType":"invalidFilter","message":"m"}`))
	f.Add(500, []byte(`{"error":"e","traceId":"t"}`))
	f.Add(502, []byte("<html>"))
	f.Add(429, []byte{})
	f.Add(400, []byte(`{"status":{"nested":true}}`))

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		got := scim.DecodeError(status, http.Header{"Retry-After": {"5"}}, body, now)
		if got == nil {
			t.Fatal("got nil error")
		}
		if got.Status != status {
			t.Errorf("got status %d, want %d", got.Status, status)
		}
		if got.Class != failure.ClassOfStatus(status) {
			t.Errorf("got class %v, want %v", got.Class, failure.ClassOfStatus(status))
		}
		if !utf8.ValidString(got.Detail) {
			t.Errorf("got detail %q, want valid UTF-8", got.Detail)
		}
		if got.RetryAfter != 5*time.Second {
			t.Errorf("got RetryAfter %v, want 5s", got.RetryAfter)
		}
	})
}
