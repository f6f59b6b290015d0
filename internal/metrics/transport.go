package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// statusError is the status label of a request that got no response.
const statusError = "error"

func (m *Metrics) registerHTTPClient() {
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "http_client_request_duration_seconds",
		Help: "Duration of outbound HTTP requests until the response headers arrived, by " +
			"service, method, path template and status code (\"error\" without a response).",
		// The top bucket is the default timeout of the Graph and SCIM
		// clients, 30 s.
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"service", "method", "path", "status"})
	m.registry.MustRegister(m.httpDuration)
}

// InstrumentTransport returns a RoundTripper that sends each request
// through next and observes its duration in
// entrabridge_http_client_request_duration_seconds. service names the
// remote side: "graph", "scim" or "entra". The path label is the path's
// template, with every segment that is not a known API word replaced by
// "{id}", so no user ID, tenant ID or email address becomes a label. A nil
// next means http.DefaultTransport.
//
// The duration ends when next returns, that is when the response headers
// arrived, so it leaves out reading the body.
func (m *Metrics) InstrumentTransport(service string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &instrumentedTransport{next: next, service: service, duration: m.httpDuration}
}

type instrumentedTransport struct {
	next     http.RoundTripper
	service  string
	duration *prometheus.HistogramVec
}

// RoundTrip sends req through the wrapped transport and observes how long
// it took.
func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	elapsed := time.Since(start)

	status := statusError
	if err == nil && resp != nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	t.duration.WithLabelValues(t.service, methodLabel(req.Method), pathTemplate(req.URL.Path), status).
		Observe(elapsed.Seconds())
	return resp, err
}

// methodLabel returns the standard method name, or "other" for any other
// method, so the label cannot grow without bound.
func methodLabel(method string) string {
	switch method {
	case "":
		return http.MethodGet
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}
