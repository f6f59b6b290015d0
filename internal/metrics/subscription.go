package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the result label of entrabridge_delta_runs_total.
const (
	deltaSuccess = "success"
	deltaFailure = "failure"
)

func (m *Metrics) registerSubscriptions() {
	m.subscriptionExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "subscription_expiry_timestamp_seconds",
		Help:      "Expiration time of each Graph subscription, in seconds since the Unix epoch.",
	}, []string{"subscription_id"})
	m.deltaLastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "delta_last_success_timestamp_seconds",
		Help:      "End of the last successful Graph delta run, in seconds since the Unix epoch; 0 before the first.",
	})
	m.deltaRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "delta_runs_total",
		Help:      "Graph delta runs, by result (success or failure).",
	}, []string{"result"})
	m.deltaChangedUsers = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "delta_changed_users_total",
		Help:      "Changed users reported by Graph delta runs.",
	})
	m.registry.MustRegister(m.subscriptionExpiry, m.deltaLastSuccess, m.deltaRuns, m.deltaChangedUsers)

	m.deltaRuns.WithLabelValues(deltaSuccess)
	m.deltaRuns.WithLabelValues(deltaFailure)
}

// SetSubscriptionExpiry records that the Graph subscription id expires at
// t.
func (m *Metrics) SetSubscriptionExpiry(id string, t time.Time) {
	m.subscriptionExpiry.WithLabelValues(id).Set(unixSeconds(t))
}

// ForgetSubscription removes the expiry of a deleted or replaced Graph
// subscription, so that its past expiry does not look like a lapse.
func (m *Metrics) ForgetSubscription(id string) {
	m.subscriptionExpiry.DeleteLabelValues(id)
}

// DeltaRun records one Graph delta run that ended at t and adds changed to
// entrabridge_delta_changed_users_total, whether or not the run succeeded.
// A successful run also sets the last success time to t.
func (m *Metrics) DeltaRun(ok bool, t time.Time, changed int) {
	if ok {
		m.deltaRuns.WithLabelValues(deltaSuccess).Inc()
		m.deltaLastSuccess.Set(unixSeconds(t))
	} else {
		m.deltaRuns.WithLabelValues(deltaFailure).Inc()
	}
	addCount(m.deltaChangedUsers, changed)
}

// unixSeconds returns t in seconds since the Unix epoch, with millisecond
// precision.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}
