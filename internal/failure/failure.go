// Package failure classifies errors from Graph and Atlassian SCIM once, so
// that the worker acts on a class (retry, give up, re-resolve) instead of on
// status codes scattered through the code.
package failure

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Class is the kind of a failed call, which decides the worker's action.
type Class int

const (
	// Retryable failures (429, 5xx, timeouts, connection errors) are tried
	// again after a backoff.
	Retryable Class = iota + 1
	// Permanent failures (400, 401, 403, 409) go to the dead letters at once.
	Permanent
	// NotFound means the addressed object does not exist (404).
	NotFound
)

// String returns the class name used in logs and metrics.
func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case NotFound:
		return "not_found"
	}
	return "unknown"
}

// Error is a failed call to Graph or SCIM with its class.
type Error struct {
	// Service is "graph" or "scim".
	Service string
	Class   Class
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Code is the service's error code: SCIM's scimType or Graph's
	// error.code. It may be empty.
	Code string
	// Detail is the service's human-readable message.
	Detail string
	// RetryAfter is the wait the service requested, or zero when it sent
	// none.
	RetryAfter time.Duration
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	msg := e.Service
	if e.Status != 0 {
		msg += fmt.Sprintf(": status %d", e.Status)
	}
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err. An error that carries no class, such as
// a timeout, a refused connection or a reset, is Retryable: the maximum
// retry age bounds it, and a dead letter from a passing fault would need a
// person.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Retryable
}

// RetryAfterOf returns the wait the service asked for, or zero.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ClassOfStatus maps an HTTP status to a class: 404 and 410 are NotFound,
// 408, 425, 429 and 5xx are Retryable, every other 4xx is Permanent.
func ClassOfStatus(status int) Class {
	switch {
	case status == http.StatusNotFound || status == http.StatusGone:
		return NotFound
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly,
		status == http.StatusTooManyRequests, status >= 500:
		return Retryable
	}
	return Permanent
}

// ParseRetryAfter reads how long to wait from Retry-After (delay seconds or
// an HTTP date) or, failing that, X-RateLimit-Reset (an RFC 3339 / ISO 8601
// time or Unix seconds). It returns zero when neither header gives a wait
// in the future.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.After(now) {
			return t.Sub(now)
		}
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			if t := time.Unix(secs, 0); t.After(now) {
				return t.Sub(now)
			}
		}
	}
	return 0
}
