package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// HTTPError is an error a handler returns to choose the response: the
// client sees Status and Message, while Err is only logged.
type HTTPError struct {
	// Status is the HTTP status code. If zero, 500 is sent.
	Status int
	// Message is the text sent to the client. If empty, the status text is
	// sent.
	Message string
	// Err is the underlying cause. It is logged for 5xx responses and never
	// sent to the client.
	Err error
	// Logged marks an error whose handler has logged it already (or
	// suppressed the line under its own rate limit), so the error handler
	// does not log it again.
	Logged bool
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("http %d", e.status())
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *HTTPError) Unwrap() error { return e.Err }

func (e *HTTPError) status() int {
	if e.Status == 0 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id"`
}

// handleError is Echo's HTTPErrorHandler: it maps err to a status and a
// message that is safe to show, logs 5xx responses with the underlying
// error, and writes ErrorBody.
func (s *Server) handleError(err error, c echo.Context) {
	status, message := publicError(err)
	req := c.Request()
	var herr *HTTPError
	logged := errors.As(err, &herr) && herr.Logged
	if status == http.StatusRequestEntityTooLarge && !logged {
		// A too-large webhook body may have carried notifications, so it
		// leaves a line even though it is the client's error.
		if ok, suppressed := s.errorLogs.Allow(time.Now()); ok {
			s.logger.WarnContext(req.Context(), "request body too large",
				"method", req.Method,
				"path", req.URL.Path,
				"request_id", RequestID(c),
				"suppressed_lines", suppressed)
		}
	}
	if status >= http.StatusInternalServerError && !logged {
		if ok, suppressed := s.errorLogs.Allow(time.Now()); ok {
			s.logger.ErrorContext(req.Context(), "request failed",
				"method", req.Method,
				"path", req.URL.Path,
				"status", status,
				"request_id", RequestID(c),
				"error", err,
				"suppressed_lines", suppressed)
		}
	}
	if c.Response().Committed {
		return
	}

	var writeErr error
	if req.Method == http.MethodHead {
		writeErr = c.NoContent(status)
	} else {
		writeErr = c.JSON(status, ErrorBody{Error: message, RequestID: RequestID(c)})
	}
	if writeErr != nil {
		s.logger.WarnContext(req.Context(), "write error response failed",
			"request_id", RequestID(c), "error", writeErr)
	}
}

// publicError returns the status for err and the message a client may see.
// Only HTTPError messages and Echo's 4xx messages reach the client, because
// any other error text can carry internals such as addresses or keys.
func publicError(err error) (int, string) {
	var own *HTTPError
	if errors.As(err, &own) {
		status := own.status()
		if own.Message == "" {
			return status, http.StatusText(status)
		}
		return status, own.Message
	}

	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit)
	}

	var echoErr *echo.HTTPError
	if errors.As(err, &echoErr) {
		text, isString := echoErr.Message.(string)
		if echoErr.Code < http.StatusInternalServerError && isString && text != "" {
			return echoErr.Code, text
		}
		return echoErr.Code, http.StatusText(echoErr.Code)
	}

	return http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError)
}
