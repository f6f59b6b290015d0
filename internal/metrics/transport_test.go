package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestInstrumentTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			w.WriteHeader(http.StatusOK)
		case strings.Contains(r.URL.Path, "/Users/"):
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()

	const (
		userID  = "6a3c4f3e-2b1d-4c5e-9f8a-1b2c3d4e5f60"
		scimID  = "scim-user-77"
		tenant  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		dirID   = "directory-9"
		userUPN = "alice@contoso.com"
	)
	tests := []struct {
		name    string
		service string
		method  string
		path    string
		want    map[string]string
	}{
		{
			name:    "graph user not found",
			service: "graph", method: http.MethodGet,
			path: "/v1.0/users/" + userID + "?$select=id,userPrincipalName,mail",
			want: map[string]string{"service": "graph", "method": "GET", "path": "/v1.0/users/{id}", "status": "404"},
		},
		{
			name:    "graph user by upn",
			service: "graph", method: http.MethodGet,
			path: "/v1.0/users/" + userUPN,
			want: map[string]string{"service": "graph", "method": "GET", "path": "/v1.0/users/{id}", "status": "404"},
		},
		{
			name:    "scim patch throttled",
			service: "scim", method: http.MethodPatch,
			path: "/scim/directory/" + dirID + "/Users/" + scimID,
			want: map[string]string{
				"service": "scim", "method": "PATCH",
				"path": "/scim/directory/{id}/Users/{id}", "status": "429",
			},
		},
		{
			name:    "entra token",
			service: "entra", method: http.MethodPost,
			path: "/" + tenant + "/oauth2/v2.0/token",
			want: map[string]string{"service": "entra", "method": "POST", "path": "/{id}/oauth2/v2.0/token", "status": "200"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			client := &http.Client{Transport: m.InstrumentTransport(tt.service, srv.Client().Transport)}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()

			count, _ := histogram(t, m, "entrabridge_http_client_request_duration_seconds", tt.want)
			if count != 1 {
				t.Errorf("got %d observations with labels %v, want 1", count, tt.want)
			}
		})
	}
}

func TestInstrumentTransportKeepsIDsOutOfLabels(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	m := New()
	client := &http.Client{Transport: m.InstrumentTransport("graph", nil)}
	ids := []string{"6a3c4f3e-2b1d-4c5e-9f8a-1b2c3d4e5f60", "alice@contoso.com", "tenant-guid"}
	for _, id := range ids {
		resp, err := client.Get(srv.URL + "/" + id + "/v1.0/users/" + id + "?filter=" + id)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		resp.Body.Close()
	}

	f := gatherFamily(t, m, "entrabridge_http_client_request_duration_seconds")
	if f == nil {
		t.Fatal("got no request duration family, want one")
	}
	if got := len(f.GetMetric()); got != 1 {
		t.Errorf("got %d series for three requests of one shape, want 1", got)
	}
	for _, metric := range f.GetMetric() {
		for _, label := range metric.GetLabel() {
			for _, id := range ids {
				if strings.Contains(label.GetValue(), id) {
					t.Errorf("label %s=%q contains %q", label.GetName(), label.GetValue(), id)
				}
			}
		}
	}
}

func TestInstrumentTransportWithoutResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()

	m := New()
	client := &http.Client{Transport: m.InstrumentTransport("scim", nil)}
	resp, err := client.Get(url + "/scim/directory/d/Users")
	if err == nil {
		resp.Body.Close()
		t.Fatal("got a response from a closed server, want an error")
	}

	want := map[string]string{"service": "scim", "method": "GET", "path": "/scim/directory/{id}/Users", "status": "error"}
	count, _ := histogram(t, m, "entrabridge_http_client_request_duration_seconds", want)
	if count != 1 {
		t.Errorf("got %d observations with labels %v, want 1", count, want)
	}
}

func TestInstrumentTransportNilNext(t *testing.T) {
	m := New()
	rt := m.InstrumentTransport("graph", nil)
	it, ok := rt.(*instrumentedTransport)
	if !ok {
		t.Fatalf("got %T, want *instrumentedTransport", rt)
	}
	if it.next != http.DefaultTransport {
		t.Errorf("got next %T %p, want http.DefaultTransport", it.next, it.next)
	}
}
