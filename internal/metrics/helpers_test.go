package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// gatherFamily returns the family called name from the registry of m, or
// nil when the scrape has none.
func gatherFamily(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// findMetric returns the metric of the family called name whose labels
// equal labels, or nil when there is none.
func findMetric(t *testing.T, m *Metrics, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f := gatherFamily(t, m, name)
	if f == nil {
		return nil
	}
	for _, metric := range f.GetMetric() {
		if labelsEqual(metric.GetLabel(), labels) {
			return metric
		}
	}
	return nil
}

func labelsEqual(pairs []*dto.LabelPair, want map[string]string) bool {
	if len(pairs) != len(want) {
		return false
	}
	for _, p := range pairs {
		if v, ok := want[p.GetName()]; !ok || v != p.GetValue() {
			return false
		}
	}
	return true
}

// histogram returns the sample count and sum of the histogram called name
// with labels, failing the test when there is no such series.
func histogram(t *testing.T, m *Metrics, name string, labels map[string]string) (uint64, float64) {
	t.Helper()
	metric := findMetric(t, m, name, labels)
	if metric == nil {
		t.Fatalf("got no series %s%v in the registry, want one", name, labels)
	}
	h := metric.GetHistogram()
	return h.GetSampleCount(), h.GetSampleSum()
}
