package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
)

// mediaType is the SCIM media type (RFC 7644 section 3.1), sent as both
// Content-Type and Accept.
const mediaType = "application/scim+json"

// maxResponseBytes bounds every response body read. A full page of 100
// users is far below it.
const maxResponseBytes = 4 << 20

// errResponseTooLarge reports a body above maxResponseBytes.
var errResponseTooLarge = fmt.Errorf("response body exceeds %d bytes", maxResponseBytes)

// get sends a GET to the base URL plus ref and decodes a 2xx JSON body into
// out, unless out is nil.
func (c *Client) get(ctx context.Context, ref string, out any) (int, error) {
	return c.send(ctx, http.MethodGet, ref, nil, out)
}

// patch sends a PATCH with body to the base URL plus ref and decodes a 2xx
// JSON body into out.
func (c *Client) patch(ctx context.Context, ref string, body []byte, out any) (int, error) {
	return c.send(ctx, http.MethodPatch, ref, body, out)
}

// send performs one request and returns the response status. Only get and
// patch call it, so the client has no path that sends PUT or DELETE.
func (c *Client) send(ctx context.Context, method, ref string, body []byte, out any) (int, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return 0, &failure.Error{Service: "scim", Class: failure.Retryable,
				Detail: "rate limiter wait failed", Err: err}
		}
	}

	req, err := c.newRequest(ctx, method, ref, body)
	if err != nil {
		return 0, err
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, &failure.Error{Service: "scim", Class: failure.Retryable, Err: err}
	}
	defer resp.Body.Close()

	data, readErr := readLimited(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, c.scrub(DecodeError(resp.StatusCode, resp.Header, data, time.Now()))
	}
	if readErr != nil {
		return resp.StatusCode, invalidResponse(resp.StatusCode, readErr)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, invalidResponse(resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

func (c *Client) newRequest(ctx context.Context, method, ref string, body []byte) (*http.Request, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+ref, reader)
	if err != nil {
		return nil, &failure.Error{Service: "scim", Class: failure.Permanent,
			Detail: "build request", Err: err}
	}
	req.Header.Set("Authorization", *c.authorization)
	req.Header.Set("Accept", mediaType)
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	return req, nil
}

// readLimited reads at most maxResponseBytes. On errResponseTooLarge it
// still returns the bytes read, so an error response keeps its detail.
func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResponseBytes+1))
	if err != nil {
		return data, fmt.Errorf("read response body: %w", err)
	}
	if len(data) > maxResponseBytes {
		return data[:maxResponseBytes], errResponseTooLarge
	}
	return data, nil
}

// invalidResponse classes an unreadable 2xx body as Retryable, because a
// truncated or garbled body is more often a passing network or proxy fault
// than a lasting state of the service.
func invalidResponse(status int, err error) *failure.Error {
	return &failure.Error{Service: "scim", Class: failure.Retryable, Status: status,
		Detail: "invalid response body", Err: err}
}

// scrub removes the token from an error detail, in case a server or proxy
// echoes request headers in its error body.
func (c *Client) scrub(e *failure.Error) *failure.Error {
	e.Detail = strings.ReplaceAll(e.Detail, *c.token, "[REDACTED]")
	return e
}

// invalidArgument reports a call the client rejects before sending it.
// Retrying the same call cannot succeed, so it is Permanent.
func invalidArgument(format string, args ...any) *failure.Error {
	return &failure.Error{Service: "scim", Class: failure.Permanent,
		Err: fmt.Errorf(format, args...)}
}
