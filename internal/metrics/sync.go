package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/worker"
)

var _ worker.Observer = (*Metrics)(nil)

// syncResults are the worker's results, so their series exist at 0 before
// the first sync.
var syncResults = []worker.Result{
	worker.ResultSynced,
	worker.ResultUnchanged,
	worker.ResultDryRun,
	worker.ResultUserGone,
	worker.ResultRetry,
	worker.ResultDeadLettered,
}

func (m *Metrics) registerSyncs() {
	m.syncs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "syncs_total",
		Help:      "Sync attempts of one user, by result.",
	}, []string{"result"})
	m.syncDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "sync_duration_seconds",
		Help:      "Duration of one sync attempt, including ending its claim in the store.",
		// A sync is one Graph read and a few SCIM requests. The top bucket
		// is the worker's default lease of 60 s.
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	})
	m.syncLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "sync_lag_seconds",
		Help: "Time from accepting the oldest notification a sync covers to the end of " +
			"that sync, for syncs with result synced, unchanged or dry_run.",
		// The lag includes the debounce window and, after failures, retry
		// backoff for up to the default maximum retry age of 24 h.
		Buckets: []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400},
	})
	m.registry.MustRegister(m.syncs, m.syncDuration, m.syncLag)

	for _, r := range syncResults {
		m.syncs.WithLabelValues(string(r))
	}
}

// Synced records the outcome of one sync attempt that took d. It meets
// worker.Observer. The lag is observed only when the attempt brought
// Atlassian to Graph's state and job.NotifiedAt is set, because a sync
// that will be retried or was dead-lettered has not delivered the change.
func (m *Metrics) Synced(job bridge.Job, result worker.Result, d time.Duration) {
	m.syncs.WithLabelValues(string(result)).Inc()
	m.syncDuration.Observe(d.Seconds())

	if job.NotifiedAt.IsZero() || !deliversChange(result) {
		return
	}
	// NotifiedAt may come from another replica's clock, and a lag that
	// clock skew makes negative is recorded as 0.
	lag := max(m.now().Sub(job.NotifiedAt), 0)
	m.syncLag.Observe(lag.Seconds())
}

// deliversChange reports whether result leaves Atlassian matching Graph,
// or would have in a dry run.
func deliversChange(result worker.Result) bool {
	switch result {
	case worker.ResultSynced, worker.ResultUnchanged, worker.ResultDryRun:
		return true
	}
	return false
}
