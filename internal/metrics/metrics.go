// Package metrics exports the bridge's Prometheus metrics: notifications
// received, syncs and their lag, queue depths read from Redis at scrape
// time, outbound HTTP requests, Graph subscriptions and delta runs.
//
// Every metric lives in a Registry of its own, never the global default
// registry, so tests and tools can create several. The Metrics type meets
// notification.Metrics and worker.Observer, and its Handler serves the
// registry in the Prometheus exposition format.
package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric name of the bridge.
const namespace = "entrabridge"

// Metrics records the bridge's metrics in its own registry. Create it
// with New. Its methods are safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry
	handler  http.Handler
	logger   atomic.Pointer[slog.Logger]
	// now is the clock of the sync lag, replaced in tests.
	now func() time.Time

	notificationsReceived *prometheus.CounterVec
	notificationsAccepted *prometheus.CounterVec
	notificationsRejected *prometheus.CounterVec

	syncs        *prometheus.CounterVec
	syncDuration prometheus.Histogram
	syncLag      prometheus.Histogram

	queue *queueCollector
	// queueWrites is the function WatchQueueWrites set, or nil.
	queueWrites atomic.Pointer[queueWritesFunc]

	httpDuration *prometheus.HistogramVec

	subscriptionExpiry *prometheus.GaugeVec
	deltaLastSuccess   prometheus.Gauge
	deltaRuns          *prometheus.CounterVec
	deltaChangedUsers  prometheus.Counter
}

// New returns Metrics with every metric registered in a new registry,
// together with the Go runtime and process collectors and
// entrabridge_build_info.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), now: time.Now}
	m.logger.Store(slog.New(slog.DiscardHandler))

	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBuildInfo(),
	)
	m.registerNotifications()
	m.registerSyncs()
	m.registerQueue()
	m.registerQueueWrites()
	m.registerHTTPClient()
	m.registerSubscriptions()

	m.handler = promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry,
		promhttp.HandlerOpts{ErrorLog: errorLog{m}, Registry: m.registry}))
	return m
}

// Handler returns the HTTP handler that serves the registry in the
// Prometheus exposition format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry returns the registry that holds every metric of m, for callers
// that add collectors of their own or gather directly.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// SetLogger sets where m logs failed queue depth reads and failed scrapes.
// Until it is called, m logs nothing.
func (m *Metrics) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	m.logger.Store(l)
}

func (m *Metrics) log() *slog.Logger { return m.logger.Load() }

// errorLog passes errors of the promhttp handler to the logger of m.
type errorLog struct{ m *Metrics }

func (e errorLog) Println(v ...any) {
	e.m.log().Error("serve metrics failed", "err", fmt.Sprint(v...))
}

// newBuildInfo returns entrabridge_build_info, which is always 1 and
// carries the module version, as the version command prints it, and the Go
// version that built the binary.
func newBuildInfo() prometheus.Collector {
	version := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		version = info.Main.Version
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "Build information of the running binary; the value is always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}

// addCount adds n to c. Counters reject negative additions, so n below 1
// changes nothing.
func addCount(c prometheus.Counter, n int) {
	if n > 0 {
		c.Add(float64(n))
	}
}
