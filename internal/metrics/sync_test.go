package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/worker"
)

func TestSyncedCountsAndLag(t *testing.T) {
	now := time.Date(2025, 2, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		result     worker.Result
		notifiedAt time.Time
		wantLags   uint64
		wantLagSum float64
	}{
		{"synced", worker.ResultSynced, now.Add(-90 * time.Second), 1, 90},
		{"unchanged", worker.ResultUnchanged, now.Add(-2 * time.Second), 1, 2},
		{"dry run", worker.ResultDryRun, now.Add(-time.Hour), 1, 3600},
		{"retry has no lag", worker.ResultRetry, now.Add(-90 * time.Second), 0, 0},
		{"dead letter has no lag", worker.ResultDeadLettered, now.Add(-90 * time.Second), 0, 0},
		{"user gone has no lag", worker.ResultUserGone, now.Add(-90 * time.Second), 0, 0},
		{"synced without notified time", worker.ResultSynced, time.Time{}, 0, 0},
		{"notified time ahead of clock", worker.ResultSynced, now.Add(5 * time.Second), 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.now = func() time.Time { return now }

			m.Synced(bridge.Job{UserID: "user-1", NotifiedAt: tt.notifiedAt}, tt.result, 1500*time.Millisecond)

			if got := testutil.ToFloat64(m.syncs.WithLabelValues(string(tt.result))); got != 1 {
				t.Errorf("syncs_total{result=%q}: got %v, want 1", tt.result, got)
			}
			count, sum := histogram(t, m, "entrabridge_sync_duration_seconds", nil)
			if count != 1 || sum != 1.5 {
				t.Errorf("sync_duration_seconds: got count %d sum %v, want count 1 sum 1.5", count, sum)
			}
			lags, lagSum := histogram(t, m, "entrabridge_sync_lag_seconds", nil)
			if lags != tt.wantLags {
				t.Errorf("sync_lag_seconds count: got %d, want %d", lags, tt.wantLags)
			}
			if lagSum != tt.wantLagSum {
				t.Errorf("sync_lag_seconds sum: got %v, want %v", lagSum, tt.wantLagSum)
			}
		})
	}
}

func TestSyncedLagBuckets(t *testing.T) {
	now := time.Date(2025, 2, 3, 10, 0, 0, 0, time.UTC)
	m := New()
	m.now = func() time.Time { return now }
	m.Synced(bridge.Job{NotifiedAt: now.Add(-45 * time.Second)}, worker.ResultSynced, time.Second)
	m.Synced(bridge.Job{NotifiedAt: now.Add(-20 * time.Minute)}, worker.ResultUnchanged, time.Second)

	want := `
# HELP entrabridge_sync_lag_seconds Time from accepting the oldest notification a sync covers to the end of that sync, for syncs with result synced, unchanged or dry_run.
# TYPE entrabridge_sync_lag_seconds histogram
entrabridge_sync_lag_seconds_bucket{le="0.5"} 0
entrabridge_sync_lag_seconds_bucket{le="1"} 0
entrabridge_sync_lag_seconds_bucket{le="2.5"} 0
entrabridge_sync_lag_seconds_bucket{le="5"} 0
entrabridge_sync_lag_seconds_bucket{le="10"} 0
entrabridge_sync_lag_seconds_bucket{le="30"} 0
entrabridge_sync_lag_seconds_bucket{le="60"} 1
entrabridge_sync_lag_seconds_bucket{le="120"} 1
entrabridge_sync_lag_seconds_bucket{le="300"} 1
entrabridge_sync_lag_seconds_bucket{le="600"} 1
entrabridge_sync_lag_seconds_bucket{le="1800"} 2
entrabridge_sync_lag_seconds_bucket{le="3600"} 2
entrabridge_sync_lag_seconds_bucket{le="14400"} 2
entrabridge_sync_lag_seconds_bucket{le="86400"} 2
entrabridge_sync_lag_seconds_bucket{le="+Inf"} 2
entrabridge_sync_lag_seconds_sum 1245
entrabridge_sync_lag_seconds_count 2
`
	if err := testutil.CollectAndCompare(m.syncLag, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestSyncResultsStartAtZero(t *testing.T) {
	m := New()
	for _, r := range syncResults {
		t.Run(string(r), func(t *testing.T) {
			if findMetric(t, m, "entrabridge_syncs_total", map[string]string{"result": string(r)}) == nil {
				t.Errorf("got no series for result %q before any sync, want one at 0", r)
			}
		})
	}
}
