package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entrabridge/entrabridge/internal/config"
	"github.com/entrabridge/entrabridge/internal/metrics"
	"github.com/entrabridge/entrabridge/internal/notification"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/server"
)

// envPprof names the loopback address on which the re-created receiver
// serves net/http/pprof.
const envPprof = "BENCHBRIDGE_PPROF"

// serveGCPercent copies the GC target `entrabridge serve` sets when GOGC
// is unset (cmd/entrabridge/gc.go).
const serveGCPercent = 200

// serveReceiver runs the receiver role of `entrabridge serve` re-created
// from the internal packages, plus net/http/pprof on BENCHBRIDGE_PPROF,
// so that the receiver can be profiled without changing entrabridge. It
// reads entrabridge's variables.
//
// NOTE: this copies the receiver wiring of cmd/entrabridge/serve.go
// (GC target, store, metrics, server, notification handler, JSON log to
// stderr). A
// change there must be repeated here, or the profiles stop matching the
// real binary. The profile phase reports both throughputs to show drift.
func serveReceiver(ctx context.Context, env map[string]string, _ io.Writer) error {
	cfg, err := config.Load(env)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if env["GOGC"] == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	store, err := redisstore.Open(ctx, cfg.RedisURL, redisstore.Options{Prefix: cfg.KeyPrefix, InboxRetention: cfg.InboxRetention})
	if err != nil {
		return fmt.Errorf("connect to redis (REDIS_URL): %w", err)
	}
	defer store.Close()

	m := metrics.New()
	m.SetLogger(logger)
	m.WatchQueue(store.Depths)
	m.WatchQueueWrites(store.QueueWrites)
	srv := server.New(server.Config{Addr: cfg.ListenAddr, Logger: logger, Ready: store.Ping, BodyLimit: cfg.MaxBodyBytes})
	srv.Echo().GET("/metrics", echo.WrapHandler(m.Handler()))
	h, err := notification.NewHandler(notification.Config{
		ClientStates: cfg.ClientStates, MaxBodyBytes: cfg.MaxBodyBytes, Logger: logger, Metrics: m,
	}, store)
	if err != nil {
		return err
	}
	h.Register(srv.Echo())

	if addr := env[envPprof]; addr != "" {
		go servePprof(addr, logger)
	}
	return runServer(ctx, srv, cfg.ListenAddr)
}

func runServer(ctx context.Context, srv *server.Server, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", addr, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Start(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// servePprof serves the net/http/pprof handlers on addr until the process
// ends.
func servePprof(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		logger.Error("pprof server stopped", "addr", addr, "err", err)
	}
}
