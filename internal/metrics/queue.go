package metrics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// queueReadTimeout bounds the depth read of one scrape, so that a slow
// Redis makes the queue gauges go missing instead of stalling the scrape
// past Prometheus's default scrape_timeout of 10 s (Prometheus
// configuration reference).
const queueReadTimeout = 2 * time.Second

// queueErrorLogInterval is the minimum time between two log lines about
// failed depth reads. Every failure is still counted.
const queueErrorLogInterval = time.Minute

// depthsFunc reads the current queue depths, as redisstore.Store.Depths
// does.
type depthsFunc func(ctx context.Context) (redisstore.Depths, error)

// queueCollector reads the queue depths at scrape time. Until WatchQueue
// sets a function, it collects only the error counter.
type queueCollector struct {
	m      *Metrics
	depths atomic.Pointer[depthsFunc]
	errors prometheus.Counter

	users            *prometheus.Desc
	deadLetters      *prometheus.Desc
	inboxBacklog     *prometheus.Desc
	lifecycleBacklog *prometheus.Desc

	// readTimeout bounds one depth read. It is queueReadTimeout except in
	// tests.
	readTimeout time.Duration

	logMu    sync.Mutex
	lastLog  time.Time
	unlogged int
}

func (m *Metrics) registerQueue() {
	m.queue = &queueCollector{
		m: m,
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "queue_scrape_errors_total",
			Help:      "Failed reads of the queue depths during a scrape.",
		}),
		users: prometheus.NewDesc(namespace+"_queue_users",
			"Users in the sync queue by state. A retrying user is also counted as due, "+
				"scheduled or in_flight.",
			[]string{"state"}, nil),
		deadLetters: prometheus.NewDesc(namespace+"_dead_letters",
			"Dead letters waiting for an operator.", nil, nil),
		inboxBacklog: prometheus.NewDesc(namespace+"_inbox_backlog",
			"Inbox entries (accepted webhook requests) the scheduler has not yet processed.", nil, nil),
		lifecycleBacklog: prometheus.NewDesc(namespace+"_lifecycle_backlog",
			"Accepted lifecycle notifications not yet acknowledged.", nil, nil),
		readTimeout: queueReadTimeout,
	}
	m.registry.MustRegister(m.queue)
}

// WatchQueue makes every scrape call depths, with a timeout of 2 s, and
// export the counts as entrabridge_queue_users, entrabridge_dead_letters,
// entrabridge_inbox_backlog and entrabridge_lifecycle_backlog. When the
// call fails, those gauges are left out of the scrape and
// entrabridge_queue_scrape_errors_total grows. A later call replaces the
// function; nil stops the reads.
func (m *Metrics) WatchQueue(depths func(ctx context.Context) (redisstore.Depths, error)) {
	if depths == nil {
		m.queue.depths.Store(nil)
		return
	}
	f := depthsFunc(depths)
	m.queue.depths.Store(&f)
}

// Describe sends the descriptors of every queue metric.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.users
	ch <- c.deadLetters
	ch <- c.inboxBacklog
	ch <- c.lifecycleBacklog
	c.errors.Describe(ch)
}

// Collect reads the depths and sends the gauges and the error counter.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	defer c.errors.Collect(ch)

	f := c.depths.Load()
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.readTimeout)
	defer cancel()
	d, err := (*f)(ctx)
	if err != nil {
		c.errors.Inc()
		c.logError(err)
		return
	}

	gauge := func(desc *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(c.users, d.Due, "due")
	gauge(c.users, d.Scheduled, "scheduled")
	gauge(c.users, d.InFlight, "in_flight")
	gauge(c.users, d.Retrying, "retrying")
	gauge(c.deadLetters, d.Dead)
	gauge(c.inboxBacklog, d.InboxPending)
	gauge(c.lifecycleBacklog, d.LifecyclePending)
}

// logError logs a failed depth read at most once per
// queueErrorLogInterval, with the count of failures not logged since.
func (c *queueCollector) logError(err error) {
	c.logMu.Lock()
	now := time.Now()
	if !c.lastLog.IsZero() && now.Sub(c.lastLog) < queueErrorLogInterval {
		c.unlogged++
		c.logMu.Unlock()
		return
	}
	unlogged := c.unlogged
	c.lastLog, c.unlogged = now, 0
	c.logMu.Unlock()

	c.m.log().Error("read queue depths for metrics failed",
		"err", err, "failures_not_logged", unlogged)
}
