package notification

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/server"
)

const validationTokenParam = "validationToken"

// validationToken returns the decoded validationToken query parameter and
// whether the request carries one. Standard query decoding turns "+" and
// "%20" into spaces and "%2B" into "+", which is what Graph expects echoed.
func validationToken(req *http.Request, maxBytes int) (string, bool, error) {
	values, parseErr := url.ParseQuery(req.URL.RawQuery)
	tokens, present := values[validationTokenParam]
	if !present {
		// ParseQuery drops a pair it cannot decode, so a malformed token
		// shows up only as a parse error.
		if parseErr != nil && strings.Contains(req.URL.RawQuery, validationTokenParam) {
			return "", false, &server.HTTPError{
				Status:  http.StatusBadRequest,
				Message: "validationToken is not valid URL encoding",
				Err:     parseErr,
			}
		}
		return "", false, nil
	}

	switch {
	case len(tokens) > 1:
		return "", true, badToken("validationToken appears more than once")
	case tokens[0] == "":
		return "", true, badToken("validationToken is empty")
	case len(tokens[0]) > maxBytes:
		return "", true, badToken(fmt.Sprintf("validationToken is %d bytes, the maximum is %d",
			len(tokens[0]), maxBytes))
	}
	return tokens[0], true, nil
}

func badToken(message string) error {
	return &server.HTTPError{Status: http.StatusBadRequest, Message: message}
}

// echoToken completes Graph's validation handshake: 200 with the token as
// the whole text/plain body. nosniff keeps a browser from running a token
// that looks like HTML, because the echo reflects caller input.
func (h *Handler) echoToken(c echo.Context, endpoint, token string) error {
	// Graph sends a short text/plain body, which carries nothing. Reading a
	// bounded part of it lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(c.Request().Body, int64(h.maxTokenBytes)))

	h.logger.InfoContext(c.Request().Context(), "responded to subscription validation",
		"endpoint", endpoint,
		"request_id", server.RequestID(c),
		"token_bytes", len(token))

	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(token))
}

// readBody reads the request body up to maxBodyBytes. A larger body is
// rejected with 413 before any of it is decoded.
func (h *Handler) readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	if req.ContentLength > h.maxBodyBytes {
		return nil, bodyTooLarge(h.maxBodyBytes)
	}

	// Sized from Content-Length, the buffer takes the whole body without
	// growing, because bytes.Buffer needs bytes.MinRead spare bytes to see
	// EOF.
	size := int64(defaultBodyBuffer)
	if req.ContentLength > 0 {
		size = req.ContentLength + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(http.MaxBytesReader(c.Response().Writer, req.Body, h.maxBodyBytes))
	var maxBytesErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytesErr):
		// The limit hit may be the server's lower one, so report that.
		return nil, bodyTooLarge(maxBytesErr.Limit)
	case err != nil:
		// The client stopped sending or was too slow: the body is not usable.
		return nil, &server.HTTPError{
			Status:  http.StatusBadRequest,
			Message: "reading the request body failed",
			Err:     err,
		}
	}
	return buf.Bytes(), nil
}

// defaultBodyBuffer is the starting buffer for a body sent without
// Content-Length. It holds a single notification (about 600 bytes) and a
// few more before it grows.
const defaultBodyBuffer = 4 << 10

func bodyTooLarge(limit int64) *server.HTTPError {
	return &server.HTTPError{
		Status:  http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("request body exceeds %d bytes", limit),
	}
}
