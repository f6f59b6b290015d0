package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/server"
)

// storeTimeout bounds the store calls of one admin request. It stays
// below the server's 8 s write timeout, so a hung Redis produces an error
// page rather than a dropped connection.
const storeTimeout = 4 * time.Second

// maxShownIDBytes bounds a dead letter ID quoted back on the 404 page.
const maxShownIDBytes = 64

// deadLetterAction is retry or drop.
type deadLetterAction struct {
	// name is "retry" or "drop", for logs.
	name string
	// pastTense is "retried" or "dropped", for messages. It is also the
	// flash kind.
	pastTense string
	apply     func(ctx context.Context, id string) error
}

func (h *Handler) retryDeadLetter(c echo.Context) error {
	return h.actOnDeadLetter(c, deadLetterAction{
		name: "retry", pastTense: flashRetried, apply: h.store.RetryDeadLetter,
	})
}

func (h *Handler) dropDeadLetter(c echo.Context) error {
	return h.actOnDeadLetter(c, deadLetterAction{
		name: "drop", pastTense: flashDropped, apply: h.store.DropDeadLetter,
	})
}

// actOnDeadLetter applies action to the dead letter in the path and
// redirects to the overview with a flash, or shows 404 when no dead
// letter has that ID.
func (h *Handler) actOnDeadLetter(c echo.Context, action deadLetterAction) error {
	id := c.Param("id")
	ctx, cancel := context.WithTimeout(c.Request().Context(), storeTimeout)
	defer cancel()

	err := action.apply(ctx, id)
	if errors.Is(err, redisstore.ErrNotFound) {
		return h.renderError(c, http.StatusNotFound, fmt.Sprintf(
			"No dead letter has ID %q. Another operator may have retried or dropped it already.",
			truncate(id, maxShownIDBytes)))
	}
	a, _ := c.Get(authKey).(auth)
	if err != nil {
		h.logger.ErrorContext(ctx, "admin dead letter action failed",
			"action", action.name, "dead_letter_id", id, "request_id", server.RequestID(c), "err", err)
		return h.renderError(c, http.StatusInternalServerError, fmt.Sprintf(
			"The dead letter was not %s because the store failed. Try again. The error is logged "+
				"with request ID %s.", action.pastTense, server.RequestID(c)))
	}

	h.logger.InfoContext(ctx, "admin dead letter "+action.pastTense,
		"dead_letter_id", id, "request_id", server.RequestID(c),
		"auth", a.method(), "remote_ip", c.RealIP())
	h.setFlash(c, action.pastTense, id)
	return c.Redirect(http.StatusSeeOther, BasePath)
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
