// Package server is the HTTP shell shared by every role that serves HTTP: an
// Echo instance with request IDs, panic recovery, an access log, one JSON
// error handler, health endpoints and an http.Server with explicit timeouts.
// Role packages add their routes through Echo.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/lograte"
)

// DefaultBodyLimit is the request body ceiling used when Config.BodyLimit is
// zero. Routes may set a lower limit of their own.
const DefaultBodyLimit = 4 << 20

// Timeouts of the http.Server. Microsoft Graph waits 10 s for a webhook
// response and counts any response slower than 3 s against the endpoint, so
// every request must finish well within 10 s.
const (
	// readHeaderTimeout bounds how long a client may take to send its
	// headers, so slow-header (slowloris) clients cannot hold connections.
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds reading the whole request, body included. A 1 MiB
	// notification batch read in 5 s needs only about 200 KiB/s.
	readTimeout = 5 * time.Second
	// writeTimeout runs from the end of the request headers, so it covers
	// the body read, the handler and the response write. It is longer than
	// readTimeout plus the handlers' own 2 s budgets, and shorter than
	// Graph's 10 s, so a stuck connection is closed before Graph gives up.
	writeTimeout = 8 * time.Second
	// idleTimeout lets Graph reuse keep-alive connections between
	// deliveries while bounding how many idle sockets a client can hold.
	idleTimeout = 60 * time.Second
	// maxHeaderBytes covers the request line and headers. Graph sends small
	// headers and a query of at most one validation token, so 64 KiB leaves
	// ample room where net/http's 1 MiB default invites memory abuse.
	maxHeaderBytes = 64 << 10
)

// Config configures a Server.
type Config struct {
	// Addr is the TCP address ListenAndServe listens on, such as
	// "127.0.0.1:8080" or ":8080" (LISTEN_ADDR).
	Addr string
	// Logger receives the access log (Debug), server starts and stops
	// (Info) and failed requests (Error). If nil, nothing is logged.
	Logger *slog.Logger
	// Ready reports whether the process can serve traffic, for example by
	// pinging Redis. GET /readyz calls it with a 2 s deadline. If nil, the
	// server is always ready.
	Ready func(ctx context.Context) error
	// BodyLimit is the maximum request body size in bytes for every route.
	// If zero, DefaultBodyLimit applies.
	BodyLimit int64
}

// Server serves an Echo application over an http.Server with explicit
// timeouts.
type Server struct {
	echo   *echo.Echo
	http   *http.Server
	logger *slog.Logger
	ready  func(ctx context.Context) error
	// errorLogs limits the 5xx lines, because an outage of Redis makes
	// every webhook request fail the same way.
	errorLogs *lograte.Limiter

	mu       sync.Mutex
	listener net.Listener
}

// maxErrorLogsPerSecond caps the "request failed" lines; the next line
// allowed reports how many were held back.
const maxErrorLogsPerSecond = 5

// New builds a Server with the middleware, error handler and health routes
// installed. Call Echo to add routes, then Start or ListenAndServe.
func New(cfg Config) *Server {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bodyLimit := cfg.BodyLimit
	if bodyLimit <= 0 {
		bodyLimit = DefaultBodyLimit
	}

	s := &Server{echo: echo.New(), logger: logger, ready: cfg.Ready, errorLogs: lograte.New(maxErrorLogsPerSecond)}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError

	// Order matters: the request ID must exist before anything logs, the
	// access log must see the status the error handler wrote, and a panic
	// must become a response before the access log records it.
	s.echo.Use(assignRequestID, logAccess(logger), recoverPanic, limitBody(bodyLimit))

	s.echo.GET("/healthz", s.serveHealth)
	s.echo.GET("/readyz", s.serveReady)

	s.http = &http.Server{
		Addr:              cfg.Addr,
		Handler:           s.echo,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Echo returns the Echo instance, for role packages to register routes on.
func (s *Server) Echo() *echo.Echo { return s.echo }

// ListenAndServe listens on Config.Addr and serves until Shutdown. It
// returns http.ErrServerClosed after Shutdown.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.http.Addr)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", s.http.Addr, err)
	}
	return s.Start(ln)
}

// Start serves on ln until Shutdown and takes ownership of ln. It returns
// http.ErrServerClosed after Shutdown.
func (s *Server) Start(ln net.Listener) error {
	s.mu.Lock()
	s.listener = ln
	s.mu.Unlock()

	err := s.http.Serve(ln)
	if !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	}
	return err
}

// Addr returns the address the server listens on, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Shutdown stops accepting connections and waits for requests in flight to
// finish or for ctx to end, whichever comes first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.logger.Info("http server shutting down")
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	s.logger.Info("http server stopped")
	return nil
}
