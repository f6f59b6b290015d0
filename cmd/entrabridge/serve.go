package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/spf13/cobra"

	"github.com/entrabridge/entrabridge/internal/admin"
	"github.com/entrabridge/entrabridge/internal/config"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/metrics"
	"github.com/entrabridge/entrabridge/internal/notification"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/scim"
	"github.com/entrabridge/entrabridge/internal/server"
	"github.com/entrabridge/entrabridge/internal/throttle"
	"github.com/entrabridge/entrabridge/internal/worker"
)

func (c *cli) serveCommand() *cobra.Command {
	var roles []string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the notification receiver and the sync worker",
		Long: "serve runs the HTTP receiver for Graph change notifications and the worker that\n" +
			"syncs changed users to Atlassian. --roles runs only some of them, so receivers\n" +
			"and workers can scale apart.\n\nEnvironment variables:\n" + variablesHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			parsed, err := parseRoles(roles)
			if err != nil {
				return err
			}
			cfg, err := config.Load(c.env)
			if len(roles) == 0 {
				parsed = defaultRoles(cfg)
			}
			// Report every problem at once: invalid values and what the
			// roles need but is missing.
			if err = errors.Join(err, cfg.CheckRoles(parsed...)); err != nil {
				return fmt.Errorf("invalid configuration:\n%w", err)
			}
			if dryRun {
				cfg.Sync.DryRun = true
			}
			setServeGCPercent(c.env)
			return serve(cmd.Context(), app{cfg: cfg, roles: parsed, log: newLogger(cfg, c.stderr)})
		},
	}
	cmd.Flags().StringSliceVar(&roles, "roles", nil,
		"roles to run: receiver, worker, subscription (default: receiver and worker, "+
			"plus subscription when GRAPH_NOTIFICATION_URL is set)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false,
		"record each PATCH in the audit trail instead of sending it (same as DRY_RUN=true)")
	return cmd
}

func parseRoles(names []string) ([]config.Role, error) {
	var roles []config.Role
	for _, n := range names {
		r := config.Role(strings.TrimSpace(n))
		if r != config.RoleReceiver && r != config.RoleWorker && r != config.RoleSubscription {
			return nil, fmt.Errorf("--roles: unknown role %q: use receiver, worker or subscription", n)
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// defaultRoles returns the receiver and the worker, and the subscription
// role when a notification URL to subscribe with is configured. Running the
// subscription role on every replica is safe: one leader acts.
func defaultRoles(cfg config.Config) []config.Role {
	roles := []config.Role{config.RoleReceiver, config.RoleWorker}
	if cfg.Subscription.NotificationURL != "" {
		roles = append(roles, config.RoleSubscription)
	}
	return roles
}

func variablesHelp() string {
	var b strings.Builder
	for _, v := range config.Variables {
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(&b, "  %-34s %s%s\n", v.Name, v.Help, def)
	}
	return b.String()
}

// app is everything serve needs beyond the configuration. The demo fills
// the optional fields to run against in-process fakes.
type app struct {
	cfg   config.Config
	roles []config.Role
	log   *slog.Logger

	// httpClient, when set, carries every Graph, token and SCIM request;
	// nil means Go's default transport, which trusts SSL_CERT_FILE.
	httpClient *http.Client
	// listener, when set, is where the receiver listens instead of
	// LISTEN_ADDR.
	listener net.Listener
	// store, when set, is used instead of opening REDIS_URL.
	store *redisstore.Store
}

func (a app) has(r config.Role) bool { return slices.Contains(a.roles, r) }

// serve runs the configured roles until ctx ends, then shuts down in order:
// stop accepting notifications, let in-flight syncs finish within
// SHUTDOWN_TIMEOUT (releasing the rest to other workers), close Redis.
func serve(ctx context.Context, a app) error {
	if err := a.cfg.CheckRoles(a.roles...); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	redisstore.SetLogger(a.log)
	store := a.store
	if store == nil {
		var err error
		if store, err = openStore(ctx, a.cfg, a.log); err != nil {
			return err
		}
		defer store.Close()
	}

	m := metrics.New()
	m.SetLogger(a.log)
	m.WatchQueue(store.Depths)
	m.WatchQueueWrites(store.QueueWrites)

	// Every role serves /healthz, /readyz and /metrics; the receiver role
	// adds the webhooks.
	srv := server.New(server.Config{
		Addr:   a.cfg.ListenAddr,
		Logger: a.log,
		Ready:  store.Ping,
		// The webhook handler applies MAX_BODY_BYTES itself, so that it can
		// count and log what it rejects; this is only the server's ceiling.
		BodyLimit: max(a.cfg.MaxBodyBytes, server.DefaultBodyLimit),
	})
	// /metrics and /admin go on OPS_LISTEN_ADDR when it is set, so that
	// they need not share the port Graph reaches from the internet.
	ops := srv
	if a.cfg.OpsListenAddr != "" {
		ops = server.New(server.Config{Addr: a.cfg.OpsListenAddr, Logger: a.log, Ready: store.Ping})
	}
	ops.Echo().GET("/metrics", echo.WrapHandler(m.Handler()))
	admin.New(admin.Config{Token: a.cfg.AdminToken, Logger: a.log, LogUserDetails: a.cfg.LogUserDetails},
		store, adminStatus{store}).Register(ops.Echo())
	if a.has(config.RoleReceiver) {
		if err := registerReceiver(a, srv, store, m); err != nil {
			return err
		}
	}
	serverErr := make(chan error, 2)
	if err := startServer(a, srv, a.listener, a.cfg.ListenAddr, "LISTEN_ADDR", serverErr); err != nil {
		return err
	}
	if ops != srv {
		if err := startServer(a, ops, nil, a.cfg.OpsListenAddr, "OPS_LISTEN_ADDR", serverErr); err != nil {
			return err
		}
		defer shutdownServer(a, ops)
	}

	workerDone := make(chan error, 1)
	if a.has(config.RoleWorker) {
		w, err := newWorker(a, store, m)
		if err != nil {
			return err
		}
		w.SetObserver(m)
		go func() { workerDone <- w.Run(ctx, a.cfg.ShutdownTimeout) }()
	} else {
		close(workerDone)
	}

	subscriptionDone := make(chan error, 1)
	if a.has(config.RoleSubscription) {
		mgr, _, err := subscriptionParts(a, store, m)
		if err != nil {
			return err
		}
		go func() { subscriptionDone <- mgr.Run(ctx) }()
	} else {
		close(subscriptionDone)
	}

	select {
	case <-ctx.Done():
	case err := <-serverErr:
		return fmt.Errorf("http server: %w", err)
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)

	shutdownServer(a, srv)
	if err := <-workerDone; err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if err := <-subscriptionDone; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("subscription role: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*redisstore.Store, error) {
	opts := redisstore.Options{Prefix: cfg.KeyPrefix, InboxRetention: cfg.InboxRetention}
	if cfg.RedisURL == config.Embedded {
		store, addr, err := redisstore.OpenEmbedded(opts)
		if err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		log.Warn("REDIS_URL=embedded: using an in-process Redis; every queued notification, "+
			"mapping and dead letter is LOST when this process stops. Use it for trials only.", "addr", addr)
		return store, nil
	}
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	store, err := redisstore.Open(connectCtx, cfg.RedisURL, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to redis (REDIS_URL): %w", err)
	}
	return store, nil
}

func registerReceiver(a app, srv *server.Server, store *redisstore.Store, m *metrics.Metrics) error {
	h, err := notification.NewHandler(notification.Config{
		ClientStates: a.cfg.ClientStates,
		MaxBodyBytes: a.cfg.MaxBodyBytes,
		Logger:       a.log,
		Metrics:      m,
	}, store)
	if err != nil {
		return err
	}
	h.Register(srv.Echo())
	return nil
}

// startServer serves srv on ln, or on a new listener on addr when ln is
// nil. name is the variable that sets addr, for the error message.
func startServer(a app, srv *server.Server, ln net.Listener, addr, name string, serverErr chan<- error) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("listen on %s %s: %w", name, addr, err)
		}
	}
	a.log.Info("http server listening", "addr", ln.Addr().String(), "set_by", name, "roles", fmt.Sprint(a.roles))
	go func() {
		if err := srv.Start(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serverErr <- err
		}
	}()
	return nil
}

// shutdownServer stops srv from accepting and waits for its requests, at
// most SHUTDOWN_TIMEOUT.
func shutdownServer(a app, srv *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		a.log.Error("http server shutdown failed", "err", err)
	}
}

// newGraphClient builds the Graph client from the configuration. With m
// set, its requests are measured.
func newGraphClient(a app, m *metrics.Metrics) (*graph.Client, error) {
	httpClient := a.httpClient
	if m != nil {
		httpClient = instrumentedClient(a.httpClient, "graph", m)
	}
	gc, err := graph.New(graphConfig(a.cfg.Graph, httpClient))
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	return gc, nil
}

// graphConfig converts the Graph settings for the graph package.
func graphConfig(g config.GraphConfig, httpClient *http.Client) graph.Config {
	return graph.Config{
		BaseURL: g.BaseURL, TenantID: g.TenantID, ClientID: g.ClientID,
		ClientSecret: g.ClientSecret, CertificatePath: g.CertificatePath,
		CertificatePassword: g.CertificatePassword, FederatedTokenFile: g.FederatedTokenFile,
		ManagedIdentity: g.ManagedIdentity, AuthorityHost: g.AuthorityHost,
		HTTPClient: httpClient,
	}
}

// instrumentedClient returns an HTTP client whose requests are measured
// under service, on top of base (nil means Go's default transport).
func instrumentedClient(base *http.Client, service string, m *metrics.Metrics) *http.Client {
	var transport http.RoundTripper
	if base != nil {
		transport = base.Transport
	}
	return &http.Client{Transport: m.InstrumentTransport(service, transport), Timeout: 30 * time.Second}
}

func newWorker(a app, store *redisstore.Store, m *metrics.Metrics) (*worker.Worker, error) {
	// The worker's Graph reads share one rate and one pause across the
	// pool, so a burst of notifications cannot run into Graph's quota.
	// A burst of 1: a larger burst lets a second after an idle moment carry
	// twice the rate, which the SCIM benchmark showed draws 429s.
	graphLimiter := throttle.New(store, "graph", a.cfg.Graph.Rate, 1)
	graphHTTP := a.httpClient
	if m != nil {
		graphHTTP = instrumentedClient(a.httpClient, "graph", m)
	}
	gcfg := graphConfig(a.cfg.Graph, graphHTTP)
	gcfg.Limiter = graphLimiter
	gc, err := graph.New(gcfg)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}

	limiter := throttle.New(store, "scim", a.cfg.SCIM.Rate, 1)
	sc, err := scim.New(a.cfg.SCIM.URL, a.cfg.SCIM.Token, scim.Options{
		HTTPClient: instrumentedClient(a.httpClient, "scim", m),
		Limiter:    limiter,
		UserAgent:  "entrabridge",
	})
	if err != nil {
		return nil, fmt.Errorf("scim client: %w", err)
	}

	s := a.cfg.Sync
	if len(s.VerifiedDomains) == 0 {
		a.log.Warn("ATLASSIAN_VERIFIED_DOMAINS is empty: email changes to any domain are sent; " +
			"a change to a domain the Atlassian organization has not verified unlinks the account")
	}
	return worker.New(worker.Config{
		Owner:          processOwner(),
		Concurrency:    s.Concurrency,
		Debounce:       s.Debounce,
		Lease:          s.Lease,
		MaxAttempts:    s.MaxAttempts,
		MaxRetryAge:    s.MaxRetryAge,
		DryRun:         s.DryRun,
		Policy:         planPolicy(s),
		LogUserDetails: a.cfg.LogUserDetails,
		Logger:         a.log,
		GraphPauser:    graphLimiter,
		Delta:          gc,
		// 0 turns bulk rounds off here, where the worker would read it as
		// its default.
		BulkThreshold:    cmp.Or(s.BulkThreshold, -1),
		BulkBatch:        s.BulkBatch,
		BulkLagAllowance: s.BulkLagAllowance,
	}, store, directory{gc}, sc, limiter)
}
