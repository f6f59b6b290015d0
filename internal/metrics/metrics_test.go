package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/notification"
	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/worker"
)

// wantFamilies maps every family the bridge defines to its type in the
// text exposition format.
var wantFamilies = map[string]string{
	"entrabridge_build_info":                            "gauge",
	"entrabridge_notifications_received_total":          "counter",
	"entrabridge_notifications_accepted_total":          "counter",
	"entrabridge_notifications_rejected_total":          "counter",
	"entrabridge_syncs_total":                           "counter",
	"entrabridge_sync_duration_seconds":                 "histogram",
	"entrabridge_sync_lag_seconds":                      "histogram",
	"entrabridge_queue_users":                           "gauge",
	"entrabridge_dead_letters":                          "gauge",
	"entrabridge_inbox_backlog":                         "gauge",
	"entrabridge_lifecycle_backlog":                     "gauge",
	"entrabridge_queue_scrape_errors_total":             "counter",
	"entrabridge_queue_writes_total":                    "counter",
	"entrabridge_queue_write_round_trips_total":         "counter",
	"entrabridge_http_client_request_duration_seconds":  "histogram",
	"entrabridge_subscription_expiry_timestamp_seconds": "gauge",
	"entrabridge_delta_last_success_timestamp_seconds":  "gauge",
	"entrabridge_delta_runs_total":                      "counter",
	"entrabridge_delta_changed_users_total":             "counter",
	"go_goroutines":                                     "gauge",
	"process_start_time_seconds":                        "gauge",
	"promhttp_metric_handler_requests_total":            "counter",
}

// exercise moves every metric of m that has no series until first used.
func exercise(t *testing.T, m *Metrics) {
	t.Helper()
	m.WatchQueue(func(context.Context) (redisstore.Depths, error) {
		return redisstore.Depths{Due: 1}, nil
	})
	m.Synced(bridge.Job{NotifiedAt: time.Now().Add(-time.Minute)}, worker.ResultSynced, time.Second)
	m.SetSubscriptionExpiry("sub-1", time.Now().Add(48*time.Hour))
	m.DeltaRun(true, time.Now(), 2)
	m.Received(notification.EndpointChanges, 1)

	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	client := &http.Client{Transport: m.InstrumentTransport("graph", nil)}
	resp, err := client.Get(srv.URL + "/v1.0/users/u1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	resp.Body.Close()
}

func TestHandlerServesEveryFamily(t *testing.T) {
	m := New()
	exercise(t, m)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	body := scrape(t, srv.URL)

	for name, typ := range wantFamilies {
		t.Run(name, func(t *testing.T) {
			if line := "# TYPE " + name + " " + typ + "\n"; !strings.Contains(body, line) {
				t.Errorf("got no line %q in the scrape", strings.TrimSpace(line))
			}
		})
	}
}

func TestNewLeavesDefaultRegistryAlone(t *testing.T) {
	m := New()
	exercise(t, m)

	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), namespace+"_") {
			t.Errorf("got %s in the default registry, want it only in the registry of m", f.GetName())
		}
	}
}

func TestMetricNamesLint(t *testing.T) {
	m := New()
	exercise(t, m)

	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatalf("GatherAndLint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestBuildInfo(t *testing.T) {
	m := New()
	f := gatherFamily(t, m, "entrabridge_build_info")
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("got family %v, want one series", f)
	}
	metric := f.GetMetric()[0]
	if got := metric.GetGauge().GetValue(); got != 1 {
		t.Errorf("value: got %v, want 1", got)
	}
	labels := map[string]string{}
	for _, l := range metric.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if got := labels["goversion"]; got != runtime.Version() {
		t.Errorf("goversion: got %q, want %q", got, runtime.Version())
	}
	if got := labels["version"]; got == "" {
		t.Error("version: got empty, want the module version or \"unknown\"")
	}
}

func TestNewRegistriesIndependent(t *testing.T) {
	first, second := New(), New()
	first.Received(notification.EndpointChanges, 3)

	if got := testutil.ToFloat64(second.notificationsReceived.WithLabelValues(notification.EndpointChanges)); got != 0 {
		t.Errorf("second registry: got %v received, want 0", got)
	}
	if first.Registry() == second.Registry() {
		t.Error("got one registry for two Metrics, want two")
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200", url, resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	return string(body)
}
