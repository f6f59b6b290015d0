package server

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
)

// maxRequestIDBytes bounds a client-supplied X-Request-Id, which ends up in
// logs and response bodies.
const maxRequestIDBytes = 128

// RequestID returns the request ID of the current request: the client's
// X-Request-Id when it is usable, otherwise a generated one. It returns ""
// for a context that did not pass through a Server.
func RequestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// assignRequestID keeps the client's X-Request-Id when it is 1 to 128
// printable ASCII characters and generates one otherwise, then echoes it in
// the response header.
func assignRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !isUsableRequestID(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func isUsableRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '!' || id[i] > '~' {
			return false
		}
	}
	return true
}

// logAccess logs every request at Debug once its response is written. It
// logs the path without the query string, because the query of a Graph
// validation request carries the token.
func logAccess(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// With Debug off the line is dropped, so the clock is not read.
			logged := logger.Enabled(c.Request().Context(), slog.LevelDebug)
			var start time.Time
			if logged {
				start = time.Now()
			}

			// Handling the error here, as Echo's own request logger does,
			// makes the status final before it is logged.
			if err := next(c); err != nil {
				c.Error(err)
			}
			if !logged {
				return nil
			}

			req := c.Request()
			logger.LogAttrs(req.Context(), slog.LevelDebug, "http request",
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.Int("status", c.Response().Status),
				slog.Int64("duration_ms", time.Since(start).Milliseconds()),
				slog.String("request_id", RequestID(c)))
			return nil
		}
	}
}

// recoverPanic turns a panic in a handler into a 500 response whose logged
// error carries the panic value and stack. http.ErrAbortHandler is re-raised
// because net/http uses it to abort a response on purpose.
func recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			err = &HTTPError{
				Status: http.StatusInternalServerError,
				Err:    fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack()),
			}
		}()
		return next(c)
	}
}

// limitBody rejects a request whose Content-Length exceeds limit with 413
// and caps reading of any other body at limit bytes, so a handler that
// reads more gets an *http.MaxBytesError.
func limitBody(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return &HTTPError{
					Status:  http.StatusRequestEntityTooLarge,
					Message: fmt.Sprintf("request body exceeds %d bytes", limit),
				}
			}
			// The unwrapped writer lets MaxBytesReader close the connection
			// once the limit is hit, instead of reading the rest.
			req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, limit)
			return next(c)
		}
	}
}
