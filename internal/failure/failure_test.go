package failure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestClassOfStatus(t *testing.T) {
	cases := []struct {
		status int
		want   Class
	}{
		{400, Permanent}, {401, Permanent}, {403, Permanent}, {409, Permanent}, {412, Permanent},
		{404, NotFound}, {410, NotFound},
		{408, Retryable}, {425, Retryable}, {429, Retryable},
		{500, Retryable}, {502, Retryable}, {503, Retryable}, {504, Retryable},
	}
	for _, tc := range cases {
		if got := ClassOfStatus(tc.status); got != tc.want {
			t.Errorf("ClassOfStatus(%d) = %s, want %s", tc.status, got, tc.want)
		}
	}
}

func TestClassOfWrappedAndUnknown(t *testing.T) {
	wrapped := fmt.Errorf("patch user: %w", &Error{Service: "scim", Class: Permanent, Status: 409})
	if got := ClassOf(wrapped); got != Permanent {
		t.Errorf("ClassOf(wrapped 409) = %s, want permanent", got)
	}
	if got := ClassOf(context.DeadlineExceeded); got != Retryable {
		t.Errorf("ClassOf(deadline) = %s, want retryable", got)
	}
	if got := ClassOf(errors.New("connection reset")); got != Retryable {
		t.Errorf("ClassOf(unclassified) = %s, want retryable", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"http date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"date in the past", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"zero seconds", http.Header{"Retry-After": {"0"}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"rate limit reset iso", http.Header{"X-Ratelimit-Reset": {now.Add(30 * time.Second).Format(time.RFC3339)}}, 30 * time.Second},
		{"rate limit reset unix", http.Header{"X-Ratelimit-Reset": {fmt.Sprint(now.Add(45 * time.Second).Unix())}}, 45 * time.Second},
		{"retry-after wins", http.Header{"Retry-After": {"3"}, "X-Ratelimit-Reset": {now.Add(time.Hour).Format(time.RFC3339)}}, 3 * time.Second},
		{"neither", http.Header{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseRetryAfter(tc.header, now); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	err := &Error{Service: "scim", Class: Permanent, Status: 409, Code: "uniqueness",
		Detail: "email already exists", Err: errors.New("inner")}
	want := "scim: status 409 uniqueness: email already exists: inner"
	if got := err.Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(err, err.Err) {
		t.Error("Unwrap does not expose the inner error")
	}
}
