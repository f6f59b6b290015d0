package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSubscriptionExpiry(t *testing.T) {
	m := New()
	first := time.Date(2025, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	second := time.Date(2025, 3, 4, 8, 30, 0, 0, time.UTC)

	m.SetSubscriptionExpiry("sub-a", first.Add(-time.Hour))
	m.SetSubscriptionExpiry("sub-a", first)
	m.SetSubscriptionExpiry("sub-b", second)

	tests := []struct {
		id   string
		want float64
	}{
		{"sub-a", float64(first.UnixMilli()) / 1000},
		{"sub-b", float64(second.Unix())},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got := testutil.ToFloat64(m.subscriptionExpiry.WithLabelValues(tt.id))
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestForgetSubscription(t *testing.T) {
	m := New()
	m.SetSubscriptionExpiry("sub-a", time.Unix(1_700_000_000, 0))
	m.SetSubscriptionExpiry("sub-b", time.Unix(1_700_000_000, 0))

	m.ForgetSubscription("sub-a")
	m.ForgetSubscription("never-set")

	if got := testutil.CollectAndCount(m.subscriptionExpiry); got != 1 {
		t.Errorf("got %d series, want 1", got)
	}
	labels := map[string]string{"subscription_id": "sub-b"}
	if findMetric(t, m, "entrabridge_subscription_expiry_timestamp_seconds", labels) == nil {
		t.Error("got no series for sub-b, want it kept")
	}
}

func TestDeltaRun(t *testing.T) {
	earlier := time.Unix(1_700_000_000, 0)
	later := earlier.Add(15 * time.Minute)
	type run struct {
		ok      bool
		at      time.Time
		changed int
	}
	tests := []struct {
		name        string
		runs        []run
		wantSuccess float64
		wantFailure float64
		wantLast    float64
		wantChanged float64
	}{
		{"none", nil, 0, 0, 0, 0},
		{"one success", []run{{true, earlier, 3}}, 1, 0, 1_700_000_000, 3},
		{
			name:        "failure keeps last success",
			runs:        []run{{true, earlier, 3}, {false, later, 2}},
			wantSuccess: 1, wantFailure: 1, wantLast: 1_700_000_000, wantChanged: 5,
		},
		{
			name:        "later success moves last success",
			runs:        []run{{true, earlier, 0}, {true, later, 1}},
			wantSuccess: 2, wantLast: float64(later.Unix()), wantChanged: 1,
		},
		{"negative changed ignored", []run{{false, later, -4}}, 0, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			for _, r := range tt.runs {
				m.DeltaRun(r.ok, r.at, r.changed)
			}
			checks := []struct {
				series string
				got    float64
				want   float64
			}{
				{`delta_runs_total{result="success"}`, testutil.ToFloat64(m.deltaRuns.WithLabelValues(deltaSuccess)), tt.wantSuccess},
				{`delta_runs_total{result="failure"}`, testutil.ToFloat64(m.deltaRuns.WithLabelValues(deltaFailure)), tt.wantFailure},
				{"delta_last_success_timestamp_seconds", testutil.ToFloat64(m.deltaLastSuccess), tt.wantLast},
				{"delta_changed_users_total", testutil.ToFloat64(m.deltaChangedUsers), tt.wantChanged},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.series, c.got, c.want)
				}
			}
		})
	}
}
