// Package notification receives Microsoft Graph change and lifecycle
// notifications for users. It responds to Graph's validation handshake,
// checks each item's clientState, and queues the valid items in one durable
// write before it responds 202. It makes no Graph or SCIM calls, so the
// queue write, bounded by Config.EnqueueTimeout, is its only slow step:
// Graph counts a response slower than 3 s against the endpoint.
package notification

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/lograte"
	"github.com/entrabridge/entrabridge/internal/server"
)

// Routes the handler registers, and the endpoint names it reports to
// Metrics.
const (
	ChangesPath   = "/webhooks/graph"
	LifecyclePath = "/webhooks/graph/lifecycle"

	EndpointChanges   = "changes"
	EndpointLifecycle = "lifecycle"
)

// Defaults for zero Config fields.
const (
	// DefaultMaxBodyBytes bounds a notification body. A basic users
	// notification item is about 580 bytes in the recorded payloads, so
	// 1 MiB holds well over 1,000 items.
	// NOTE: Graph documents no maximum batch size, so this is an estimate.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxTokenBytes bounds the validation token echoed back. Graph's
	// tokens look like "Validation: Testing client application
	// reachability for subscription Request-Id: <GUID>", about 110 bytes.
	// NOTE: Graph documents no maximum, so the limit leaves room for a
	// longer format while it still bounds what the endpoint reflects.
	DefaultMaxTokenBytes = 1024
	// DefaultEnqueueTimeout bounds the queue write, so that a hung store
	// produces a 503 that Graph retries, before Graph's 3 s slow mark.
	DefaultEnqueueTimeout = 2 * time.Second
)

// maxRejectionLogsPerSecond caps the warning lines about rejected items
// across all requests. Metrics still count every rejected item.
const maxRejectionLogsPerSecond = 10

// Queue stores accepted notifications durably. Enqueue returns nil only
// after the store acknowledged the write. internal/redisstore.Store
// implements it.
type Queue interface {
	Enqueue(ctx context.Context, changes []bridge.Change, lifecycles []bridge.Lifecycle) error
}

// Metrics receives item counts per endpoint (EndpointChanges or
// EndpointLifecycle). Rejected's reason is one of the Reason constants.
type Metrics interface {
	Received(endpoint string, items int)
	Accepted(endpoint string, changes, lifecycles int)
	Rejected(endpoint, reason string, items int)
}

// Config configures a Handler.
type Config struct {
	// ClientStates are the accepted clientState secrets: the current one
	// first, then any previous one kept while subscriptions are rotated.
	// At least one is required, and each must be 1 to 128 bytes.
	ClientStates []string
	// MaxBodyBytes is the maximum notification body size in bytes. If
	// zero, DefaultMaxBodyBytes applies.
	MaxBodyBytes int64
	// MaxTokenBytes is the maximum decoded validationToken size in bytes.
	// If zero, DefaultMaxTokenBytes applies.
	MaxTokenBytes int
	// EnqueueTimeout bounds each Queue.Enqueue call. If zero,
	// DefaultEnqueueTimeout applies.
	EnqueueTimeout time.Duration
	// Logger receives one line per request and a warning per reason and
	// subscription of rejected items, at most 10 warnings per second. If
	// nil, nothing is logged.
	Logger *slog.Logger
	// Metrics receives counts. If nil, none are reported.
	Metrics Metrics
	// Now returns the current time, which is stamped on accepted items and
	// paces the rejection warnings. If nil, time.Now is used.
	Now func() time.Time
}

// Handler serves the change and lifecycle webhook endpoints. It is safe for
// concurrent use.
type Handler struct {
	queue          Queue
	clientStates   clientStates
	maxBodyBytes   int64
	maxTokenBytes  int
	enqueueTimeout time.Duration
	logger         *slog.Logger
	metrics        Metrics
	now            func() time.Time
	rejectionLogs  *lograte.Limiter
}

// NewHandler validates cfg and returns a Handler that queues to q.
func NewHandler(cfg Config, q Queue) (*Handler, error) {
	if q == nil {
		return nil, fmt.Errorf("notification handler: queue is nil")
	}
	states, err := newClientStates(cfg.ClientStates)
	if err != nil {
		return nil, fmt.Errorf("notification handler: %w", err)
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxTokenBytes < 0 || cfg.EnqueueTimeout < 0 {
		return nil, fmt.Errorf("notification handler: MaxBodyBytes, MaxTokenBytes and EnqueueTimeout must not be negative")
	}

	h := &Handler{
		queue:          q,
		clientStates:   states,
		maxBodyBytes:   orDefault(cfg.MaxBodyBytes, DefaultMaxBodyBytes),
		maxTokenBytes:  orDefault(cfg.MaxTokenBytes, DefaultMaxTokenBytes),
		enqueueTimeout: orDefault(cfg.EnqueueTimeout, DefaultEnqueueTimeout),
		logger:         cfg.Logger,
		metrics:        cfg.Metrics,
		now:            cfg.Now,
		rejectionLogs:  lograte.New(maxRejectionLogsPerSecond),
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.metrics == nil {
		h.metrics = noMetrics{}
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

func orDefault[T comparable](value, fallback T) T {
	var zero T
	if value == zero {
		return fallback
	}
	return value
}

// Register adds POST ChangesPath and POST LifecyclePath to e.
func (h *Handler) Register(e *echo.Echo) {
	e.POST(ChangesPath, func(c echo.Context) error { return h.serve(c, EndpointChanges) })
	e.POST(LifecyclePath, func(c echo.Context) error { return h.serve(c, EndpointLifecycle) })
}

// serve responds to a validation request, or decodes, checks and queues a
// notification body. It responds 202 only after Queue.Enqueue returned nil.
func (h *Handler) serve(c echo.Context, endpoint string) error {
	token, isValidation, err := validationToken(c.Request(), h.maxTokenBytes)
	if err != nil {
		return err
	}
	if isValidation {
		return h.echoToken(c, endpoint, token)
	}

	body, err := h.readBody(c)
	if err != nil {
		return h.rejectRequest(c, endpoint, err)
	}
	items, err := Decode(body)
	if err != nil {
		return h.rejectRequest(c, endpoint, &server.HTTPError{Status: http.StatusBadRequest, Message: err.Error()})
	}
	h.metrics.Received(endpoint, len(items))

	b := h.sortItems(endpoint, items, h.now())
	h.reportRejections(c, endpoint, b.rejections)
	if b.accepted() == 0 {
		return &server.HTTPError{
			Status:  http.StatusBadRequest,
			Message: noValidItemsMessage(len(items), b.rejections),
		}
	}

	if err := h.enqueue(c.Request().Context(), b); err != nil {
		h.metrics.Rejected(endpoint, ReasonQueueUnavailable, b.accepted())
		return &server.HTTPError{
			Status:  http.StatusServiceUnavailable,
			Message: "queue unavailable, retry",
			Err:     err,
		}
	}
	h.metrics.Accepted(endpoint, len(b.changes), len(b.lifecycles))
	h.logAccepted(c, endpoint, b)
	return c.JSON(http.StatusAccepted, newAcceptedBody(b, server.RequestID(c)))
}

// enqueue writes every valid item in one Queue.Enqueue call, so a batch is
// either stored whole or not at all.
func (h *Handler) enqueue(ctx context.Context, b batch) error {
	ctx, cancel := context.WithTimeout(ctx, h.enqueueTimeout)
	defer cancel()
	return h.queue.Enqueue(ctx, b.changes, b.lifecycles)
}

type noMetrics struct{}

func (noMetrics) Received(string, int)         {}
func (noMetrics) Accepted(string, int, int)    {}
func (noMetrics) Rejected(string, string, int) {}
