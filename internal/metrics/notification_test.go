package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entrabridge/entrabridge/internal/notification"
)

func TestNotificationCounts(t *testing.T) {
	const (
		changes   = notification.EndpointChanges
		lifecycle = notification.EndpointLifecycle
	)
	tests := []struct {
		name  string
		apply func(m *Metrics)
		// want lists the expected values of some series.
		want []seriesValue
	}{
		{
			name: "batch accepted",
			apply: func(m *Metrics) {
				m.Received(changes, 5)
				m.Accepted(changes, 5, 0)
			},
			want: []seriesValue{
				{"received", []string{changes}, 5},
				{"accepted", []string{changes, kindChange}, 5},
				{"accepted", []string{changes, kindLifecycle}, 0},
			},
		},
		{
			name: "lifecycle accepted",
			apply: func(m *Metrics) {
				m.Received(lifecycle, 2)
				m.Accepted(lifecycle, 0, 2)
			},
			want: []seriesValue{
				{"received", []string{lifecycle}, 2},
				{"accepted", []string{lifecycle, kindLifecycle}, 2},
				{"received", []string{changes}, 0},
			},
		},
		{
			name: "partly rejected batches add up",
			apply: func(m *Metrics) {
				m.Received(changes, 4)
				m.Rejected(changes, notification.ReasonClientState, 3)
				m.Accepted(changes, 1, 0)
				m.Received(changes, 2)
				m.Rejected(changes, notification.ReasonClientState, 1)
				m.Rejected(changes, notification.ReasonUserID, 1)
			},
			want: []seriesValue{
				{"received", []string{changes}, 6},
				{"accepted", []string{changes, kindChange}, 1},
				{"rejected", []string{changes, notification.ReasonClientState}, 4},
				{"rejected", []string{changes, notification.ReasonUserID}, 1},
				{"rejected", []string{changes, notification.ReasonInvalidItem}, 0},
			},
		},
		{
			name: "zero and negative counts ignored",
			apply: func(m *Metrics) {
				m.Received(changes, 0)
				m.Received(changes, -3)
				m.Accepted(changes, -1, 0)
				m.Rejected(changes, notification.ReasonQueueUnavailable, -2)
			},
			want: []seriesValue{
				{"received", []string{changes}, 0},
				{"accepted", []string{changes, kindChange}, 0},
				{"rejected", []string{changes, notification.ReasonQueueUnavailable}, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			tt.apply(m)
			for _, s := range tt.want {
				got := testutil.ToFloat64(notificationVector(t, m, s.vector).WithLabelValues(s.labels...))
				if got != s.value {
					t.Errorf("%s%v: got %v, want %v", s.vector, s.labels, got, s.value)
				}
			}
		})
	}
}

func TestNotificationSeriesStartAtZero(t *testing.T) {
	m := New()
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"received", testutil.CollectAndCount(m.notificationsReceived), 2},
		{"accepted", testutil.CollectAndCount(m.notificationsAccepted), 2 * 2},
		{"rejected", testutil.CollectAndCount(m.notificationsRejected), 2 * len(rejectionReasons)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %d series, want %d", tt.got, tt.want)
			}
		})
	}
}

// seriesValue is one expected counter value of a notification metric.
type seriesValue struct {
	vector string
	labels []string
	value  float64
}

// notificationVector returns the counter vector of m called name:
// "received", "accepted" or "rejected".
func notificationVector(t *testing.T, m *Metrics, name string) *prometheus.CounterVec {
	t.Helper()
	switch name {
	case "received":
		return m.notificationsReceived
	case "accepted":
		return m.notificationsAccepted
	case "rejected":
		return m.notificationsRejected
	}
	t.Fatalf("unknown notification counter %q", name)
	return nil
}
