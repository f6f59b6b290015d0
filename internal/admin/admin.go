// Package admin serves the bridge's admin page under /admin: queue depths,
// the Graph subscription and last delta run, the recent audit trail, and
// the dead letters, which an operator can retry or drop.
//
// The page is server-rendered HTML with one stylesheet and no JavaScript.
// Every route but the login form and the stylesheet needs the admin token:
// typed into the login form, which sets a signed session cookie, or sent as
// "Authorization: Bearer <token>" by scripts. Forms sent with the session
// cookie carry a CSRF token bound to that session.
package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// BasePath is the path prefix of every admin route.
const BasePath = "/admin"

// Store is the state the page reads and acts on. redisstore.Store
// implements it. RetryDeadLetter and DropDeadLetter return an error
// wrapping redisstore.ErrNotFound when no dead letter has the ID.
type Store interface {
	Depths(ctx context.Context) (redisstore.Depths, error)
	Audit(ctx context.Context, userID string, since time.Time, max int) ([]bridge.AuditEntry, error)
	DeadLetters(ctx context.Context, max int) ([]bridge.DeadLetter, error)
	RetryDeadLetter(ctx context.Context, id string) error
	DropDeadLetter(ctx context.Context, id string) error
}

// Status reports the Graph subscription and the delta query state, which
// another package keeps.
type Status interface {
	Subscription(ctx context.Context) (SubscriptionStatus, error)
	LastDelta(ctx context.Context) (DeltaStatus, error)
}

// SubscriptionStatus is the bridge's Graph change notification
// subscription. The page shows "not configured" when Found is false.
type SubscriptionStatus struct {
	// ID is the Graph subscription ID.
	ID string
	// NotificationURL is the URL that Graph sends change notifications to.
	NotificationURL string
	// Expires is the subscription's expirationDateTime.
	Expires time.Time
	// Found reports whether a subscription is known.
	Found bool
}

// DeltaStatus is the outcome of the latest delta query run. The page shows
// "not configured" when Found is false.
type DeltaStatus struct {
	// At is when the run ended.
	At time.Time
	// OK reports whether the run succeeded.
	OK bool
	// Changed counts the users the run found changed.
	Changed int
	// Error is the failure of an unsuccessful run.
	Error string
	// Found reports whether any run is recorded.
	Found bool
}

// Config configures a Handler.
type Config struct {
	// Token is the admin token (ADMIN_TOKEN). If empty, the page is
	// disabled: Register adds no route, so /admin responds 404. Changing
	// it invalidates every session.
	Token string
	// Logger receives failed logins, retries, drops and store errors. It
	// never receives a token. If nil, nothing is logged.
	Logger *slog.Logger
	// LogUserDetails shows userPrincipalName and mail values and PATCH
	// errors from the audit trail (LOG_USER_DETAILS). If false, the audit
	// table shows object IDs and results only.
	LogUserDetails bool
	// Now returns the current time for session expiry, the login failure
	// limit and the ages shown on the page. If nil, time.Now is used.
	Now func() time.Time
}

// Handler serves the admin page. It is safe for concurrent use.
type Handler struct {
	enabled        bool
	tokenTooShort  bool
	keys           keys
	store          Store
	status         Status
	logger         *slog.Logger
	logUserDetails bool
	now            func() time.Time
	failures       *failureLimiter
	pages          pages
}

// New returns a Handler that reads and acts on store. status may be nil,
// and then the subscription and delta sections show "not configured".
// New panics if store is nil while cfg.Token is set.
func New(cfg Config, store Store, status Status) *Handler {
	h := &Handler{
		enabled:        cfg.Token != "",
		tokenTooShort:  cfg.Token != "" && len(cfg.Token) < minTokenBytes,
		keys:           newKeys(cfg.Token),
		store:          store,
		status:         status,
		logger:         cfg.Logger,
		logUserDetails: cfg.LogUserDetails,
		now:            cfg.Now,
		failures:       newFailureLimiter(maxLoginFailures, loginFailureWindow, maxTrackedAddresses),
		pages:          parsePages(),
	}
	if h.enabled && store == nil {
		panic("admin: New: store is nil")
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// redirectToOverview sends "/admin/" to "/admin", where the overview is.
func redirectToOverview(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, BasePath)
}

// Register adds the admin routes under BasePath to e, or nothing when the
// token is empty.
func (h *Handler) Register(e *echo.Echo) {
	if !h.enabled {
		h.logger.Info("admin page disabled because ADMIN_TOKEN is empty")
		return
	}
	if h.tokenTooShort {
		h.logger.Warn("ADMIN_TOKEN is short, so it is easier to guess. Use a random value of at least 32 characters",
			"min_recommended_bytes", minTokenBytes)
	}

	g := e.Group(BasePath, setSecurityHeaders)
	g.GET(stylesheetPath, serveStylesheet)
	g.GET("/login", h.serveLogin)
	g.POST("/login", h.login)
	g.POST("/logout", h.logout, h.requireAuth, h.requireCSRF)
	g.GET("", h.serveOverview, h.requireAuth)
	g.GET("/", redirectToOverview)
	g.POST("/dead-letters/:id/retry", h.retryDeadLetter, h.requireAuth, h.requireCSRF)
	g.POST("/dead-letters/:id/drop", h.dropDeadLetter, h.requireAuth, h.requireCSRF)
}
