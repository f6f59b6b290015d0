package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/server"
)

// Table sizes of the overview.
const (
	maxAuditEntries = 50
	maxDeadLetters  = 100
)

// subscriptionWarning is the time left before expiry below which the page
// marks the subscription in red. The subscription role renews by default
// once less than 21 days remain, so a red mark means renewals have been
// failing for about two weeks.
const subscriptionWarning = 7 * 24 * time.Hour

// overviewPage is the data of overview.html. Each section is read on its
// own, and a failed read shows as that section's error, so a broken part
// of the bridge does not hide the rest.
type overviewPage struct {
	frame
	Now time.Time

	Depths      redisstore.Depths
	DepthsError string

	Subscription      SubscriptionStatus
	SubscriptionError string
	// SubscriptionWarning is set when the subscription expires within
	// subscriptionWarning or has expired.
	SubscriptionWarning bool

	Delta      DeltaStatus
	DeltaError string

	ShowUserDetails bool
	Audit           []bridge.AuditEntry
	AuditError      string

	DeadLetters      []bridge.DeadLetter
	DeadLettersError string
}

// serveOverview shows the overview.
func (h *Handler) serveOverview(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), storeTimeout)
	defer cancel()

	a, _ := c.Get(authKey).(auth)
	csrf := ""
	if a.session != "" {
		csrf = h.keys.csrfToken(a.session)
	}
	p := overviewPage{
		frame: frame{
			Title:     "Overview",
			CSRFToken: csrf,
			Flash:     h.takeFlash(c),
			RequestID: server.RequestID(c),
		},
		Now:             h.now(),
		ShowUserDetails: h.logUserDetails,
	}

	var err error
	p.Depths, err = h.store.Depths(ctx)
	p.DepthsError = h.sectionError(c, "queue depths", err)
	p.DeadLetters, err = h.store.DeadLetters(ctx, maxDeadLetters)
	p.DeadLettersError = h.sectionError(c, "dead letters", err)
	p.Audit, err = h.store.Audit(ctx, "", time.Time{}, maxAuditEntries)
	p.AuditError = h.sectionError(c, "audit trail", err)

	if h.status != nil {
		p.Subscription, err = h.status.Subscription(ctx)
		p.SubscriptionError = h.sectionError(c, "subscription", err)
		p.Delta, err = h.status.LastDelta(ctx)
		p.DeltaError = h.sectionError(c, "last delta run", err)
	}
	if p.Subscription.Found {
		p.SubscriptionWarning = p.Subscription.Expires.Sub(p.Now) < subscriptionWarning
	}
	return h.render(c, http.StatusOK, "overview.html", p)
}

// sectionError logs err and returns the text the section shows in its
// place, or "" when err is nil. The text names the request ID only, since
// an error can carry internal addresses.
func (h *Handler) sectionError(c echo.Context, section string, err error) string {
	if err == nil {
		return ""
	}
	id := server.RequestID(c)
	h.logger.ErrorContext(c.Request().Context(), "admin page section unavailable",
		"section", section, "request_id", id, "err", err)
	return "Could not read the " + section + ". The error is logged with request ID " + id + "."
}
