package graph

import (
	"fmt"
	"net/http"

	khttp "github.com/microsoft/kiota-http-go"

	"github.com/entrabridge/entrabridge/internal/failure"
)

// requestLimiter is the innermost middleware but one: it waits on
// Config.Limiter before each Graph request leaves, including each hop of
// a redirect. Token requests go through the credential's own pipeline and
// never pass it.
type requestLimiter struct{ limiter Limiter }

// Intercept implements khttp.Middleware.
func (l requestLimiter) Intercept(pipeline khttp.Pipeline, middlewareIndex int, req *http.Request) (*http.Response, error) {
	if err := l.limiter.Wait(req.Context()); err != nil {
		// A limiter that cannot reach its store, or a context that ended,
		// is retried like a connection error.
		return nil, &failure.Error{Service: service, Class: failure.Retryable,
			Detail: fmt.Sprintf("wait for the graph request rate: %v", err), Err: err}
	}
	return pipeline.Next(req, middlewareIndex)
}
