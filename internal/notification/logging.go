package notification

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/server"
)

// maxLoggedIDBytes caps a subscription ID in rejection logs, because it
// comes from an item that may not have passed the clientState check. Graph's
// subscription IDs are 36-character GUIDs.
const maxLoggedIDBytes = 64

// reportRejections counts rejected items per reason and logs one line per
// reason and subscription, with the subscription ID and a count, never a
// clientState or the body. The lines are rate-limited, because anyone who
// can reach the endpoint can produce them.
func (h *Handler) reportRejections(c echo.Context, endpoint string, rejections []rejection) {
	type group struct {
		reason, subscriptionID string
	}
	var reasons []string
	perReason := map[string]int{}
	var groups []group
	perGroup := map[group][]rejection{}

	for _, r := range rejections {
		if perReason[r.reason] == 0 {
			reasons = append(reasons, r.reason)
		}
		perReason[r.reason]++

		g := group{reason: r.reason, subscriptionID: r.subscriptionID}
		if len(perGroup[g]) == 0 {
			groups = append(groups, g)
		}
		perGroup[g] = append(perGroup[g], r)
	}

	for _, reason := range reasons {
		h.metrics.Rejected(endpoint, reason, perReason[reason])
	}
	for _, g := range groups {
		allowed, suppressed := h.rejectionLogs.Allow(h.now())
		if !allowed {
			continue
		}
		members := perGroup[g]
		h.logger.WarnContext(c.Request().Context(), "rejected notification items",
			"endpoint", endpoint,
			"request_id", server.RequestID(c),
			"subscription_id", truncate(g.subscriptionID, maxLoggedIDBytes),
			"reason", g.reason,
			"items", len(members),
			"first_index", members[0].index,
			"error", members[0].message,
			"suppressed_lines", suppressed)
	}
}

// rejectRequest counts and logs a request rejected as a whole, because
// its body was too large or could not be read as a notification batch.
// Such a request may have carried real notifications, so it must leave a
// trace even though no item was decoded. It returns err, marked as logged
// so that the server does not log it a second time.
func (h *Handler) rejectRequest(c echo.Context, endpoint string, err error) error {
	reason := ReasonMalformedBody
	var herr *server.HTTPError
	if errors.As(err, &herr) {
		herr.Logged = true
		if herr.Status == http.StatusRequestEntityTooLarge {
			reason = ReasonBodyTooLarge
		}
	}
	h.metrics.Rejected(endpoint, reason, 1)
	allowed, suppressed := h.rejectionLogs.Allow(h.now())
	if !allowed {
		return err
	}
	h.logger.WarnContext(c.Request().Context(), "rejected notification request",
		"endpoint", endpoint,
		"request_id", server.RequestID(c),
		"reason", reason,
		"error", err.Error(),
		"suppressed_lines", suppressed)
	return err
}

func truncate(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	return s[:maxBytes] + "..."
}

// logAccepted logs each lifecycle event at Info, and each change and the
// summary of the request at Debug. A line per request at Info would cost
// a log write for every webhook request, and the metrics already count
// what was accepted.
func (h *Handler) logAccepted(c echo.Context, endpoint string, b batch) {
	ctx := c.Request().Context()
	requestID := server.RequestID(c)

	for _, change := range b.changes {
		h.logger.LogAttrs(ctx, slog.LevelDebug, "queued change notification",
			slog.String("request_id", requestID),
			slog.String("subscription_id", change.SubscriptionID),
			slog.String("user_id", change.UserID),
			slog.String("change_type", change.ChangeType),
			slog.String("sequence_number", change.SequenceNumber))
	}
	for _, lifecycle := range b.lifecycles {
		h.logger.LogAttrs(ctx, slog.LevelInfo, "queued lifecycle notification",
			slog.String("request_id", requestID),
			slog.String("subscription_id", lifecycle.SubscriptionID),
			slog.String("lifecycle_event", lifecycle.Event))
	}
	h.logger.LogAttrs(ctx, slog.LevelDebug, "queued notifications",
		slog.String("endpoint", endpoint),
		slog.String("request_id", requestID),
		slog.Int("items", b.accepted()+len(b.rejections)),
		slog.Int("accepted", b.accepted()),
		slog.Int("rejected", len(b.rejections)))
}
