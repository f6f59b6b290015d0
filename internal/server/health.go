package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// readyTimeout bounds Config.Ready, so that a hung dependency fails the
// probe instead of holding it open.
const readyTimeout = 2 * time.Second

// StatusBody is the JSON body of a successful /healthz or /readyz response.
type StatusBody struct {
	Status string `json:"status"`
}

// serveHealth reports that the process serves HTTP. It checks nothing else,
// so an orchestrator restarts the process only when it stops responding.
func (s *Server) serveHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, StatusBody{Status: "ok"})
}

// serveReady runs the readiness check. The response names only whether the
// check failed or timed out, because /readyz shares its port with the
// public webhook and the check's error can carry internal addresses. The
// error handler logs the cause.
func (s *Server) serveReady(c echo.Context) error {
	if s.ready == nil {
		return c.JSON(http.StatusOK, StatusBody{Status: "ok"})
	}

	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()

	if err := s.ready(ctx); err != nil {
		message := "not ready: readiness check failed"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			message = fmt.Sprintf("not ready: readiness check timed out after %s", readyTimeout)
		}
		return &HTTPError{
			Status:  http.StatusServiceUnavailable,
			Message: message,
			Err:     fmt.Errorf("readiness check: %w", err),
		}
	}
	return c.JSON(http.StatusOK, StatusBody{Status: "ok"})
}
