package graph

import (
	"context"
	"net/http"
	"sync"

	khttp "github.com/microsoft/kiota-http-go"
)

// lastResponseKey is the context key of a *lastResponse.
type lastResponseKey struct{}

// lastResponse keeps the status and headers of the last response to a
// call. The SDK returns a plain error, without status or headers, for an
// error response it cannot parse, such as a gateway's HTML page, and
// classify falls back on what lastResponse kept.
type lastResponse struct {
	mu     sync.Mutex
	status int
	header http.Header
}

// withLastResponse returns a context under which responseRecorder keeps
// the last response in the returned *lastResponse.
func withLastResponse(ctx context.Context) (context.Context, *lastResponse) {
	last := &lastResponse{}
	return context.WithValue(ctx, lastResponseKey{}, last), last
}

func (l *lastResponse) record(resp *http.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status = resp.StatusCode
	l.header = resp.Header.Clone()
}

// get returns the recorded status and headers, or 0 and nil when no
// response arrived.
func (l *lastResponse) get() (int, http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status, l.header
}

// responseRecorder is the innermost middleware of the Graph client. It
// keeps each response in the request context's *lastResponse, if any.
type responseRecorder struct{}

// Intercept implements khttp.Middleware.
func (responseRecorder) Intercept(pipeline khttp.Pipeline, middlewareIndex int, req *http.Request) (*http.Response, error) {
	resp, err := pipeline.Next(req, middlewareIndex)
	if resp == nil {
		return resp, err
	}
	if last, ok := req.Context().Value(lastResponseKey{}).(*lastResponse); ok {
		last.record(resp)
	}
	return resp, err
}
