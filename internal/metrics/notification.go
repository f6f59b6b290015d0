package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/entrabridge/entrabridge/internal/notification"
)

var _ notification.Metrics = (*Metrics)(nil)

// Values of the kind label of entrabridge_notifications_accepted_total.
const (
	kindChange    = "change"
	kindLifecycle = "lifecycle"
)

// rejectionReasons are the reasons the notification handler reports, so
// their series exist at 0 before the first rejection.
var rejectionReasons = []string{
	notification.ReasonInvalidItem,
	notification.ReasonClientState,
	notification.ReasonUserID,
	notification.ReasonNotLifecycle,
	notification.ReasonSubscriptionID,
	notification.ReasonQueueUnavailable,
}

func (m *Metrics) registerNotifications() {
	m.notificationsReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "notifications_received_total",
		Help:      "Notification items decoded from Graph requests, by endpoint.",
	}, []string{"endpoint"})
	m.notificationsAccepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "notifications_accepted_total",
		Help:      "Notification items stored in the queue, by endpoint and kind (change or lifecycle).",
	}, []string{"endpoint", "kind"})
	m.notificationsRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "notifications_rejected_total",
		Help:      "Notification items not queued, by endpoint and reason.",
	}, []string{"endpoint", "reason"})
	m.registry.MustRegister(m.notificationsReceived, m.notificationsAccepted, m.notificationsRejected)

	for _, endpoint := range []string{notification.EndpointChanges, notification.EndpointLifecycle} {
		m.notificationsReceived.WithLabelValues(endpoint)
		m.notificationsAccepted.WithLabelValues(endpoint, kindChange)
		m.notificationsAccepted.WithLabelValues(endpoint, kindLifecycle)
		for _, reason := range rejectionReasons {
			m.notificationsRejected.WithLabelValues(endpoint, reason)
		}
	}
}

// Received counts items decoded from one request to endpoint.
func (m *Metrics) Received(endpoint string, items int) {
	addCount(m.notificationsReceived.WithLabelValues(endpoint), items)
}

// Accepted counts the change and lifecycle items of one request to
// endpoint that the queue stored.
func (m *Metrics) Accepted(endpoint string, changes, lifecycles int) {
	addCount(m.notificationsAccepted.WithLabelValues(endpoint, kindChange), changes)
	addCount(m.notificationsAccepted.WithLabelValues(endpoint, kindLifecycle), lifecycles)
}

// Rejected counts items of one request to endpoint that were not queued
// for reason, one of the notification.Reason constants.
func (m *Metrics) Rejected(endpoint, reason string, items int) {
	addCount(m.notificationsRejected.WithLabelValues(endpoint, reason), items)
}
