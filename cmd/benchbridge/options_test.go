package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOptionsDefaults(t *testing.T) {
	o, err := parseOptions(nil, map[string]string{}, io.Discard)
	if err != nil {
		t.Fatalf("parseOptions: got error %v, want nil", err)
	}

	if !slices.Equal(o.phases, defaultPhases) {
		t.Errorf("phases: got %v, want %v", o.phases, defaultPhases)
	}
	if !slices.Equal(o.rates, []float64{500, 2000, 5000}) {
		t.Errorf("rates: got %v, want [500 2000 5000]", o.rates)
	}
	if o.workerConcurrency != 8 || o.scimRate != 10 || o.graphRate != 50 || o.debounce != time.Second {
		t.Errorf("worker settings: got concurrency %d, SCIM rate %g, Graph rate %g, debounce %s; "+
			"want entrabridge's defaults 8, 10, 50, 1s", o.workerConcurrency, o.scimRate, o.graphRate, o.debounce)
	}
	if o.pairs != 5 {
		t.Errorf("pairs: got %d, want 5", o.pairs)
	}
	if o.redisURL != "redis://127.0.0.1:6379/0" {
		t.Errorf("redis URL: got %q, want redis://127.0.0.1:6379/0", o.redisURL)
	}
}

func TestParseOptionsEnvironment(t *testing.T) {
	env := map[string]string{"WORKER_CONCURRENCY": "16", "ATLASSIAN_SCIM_RATE": "2.5", "GRAPH_RATE": "0", "DEBOUNCE": "0s",
		"REDIS_URL": "redis://127.0.0.1:6380/1"}

	o, err := parseOptions([]string{"-phases", "worker,e2e", "-duration", "2s"}, env, io.Discard)
	if err != nil {
		t.Fatalf("parseOptions: got error %v, want nil", err)
	}

	if !slices.Equal(o.phases, []string{"worker", "e2e"}) {
		t.Errorf("phases: got %v, want [worker e2e]", o.phases)
	}
	if o.workerConcurrency != 16 || o.scimRate != 2.5 || o.graphRate != 0 || o.debounce != 0 {
		t.Errorf("worker settings: got %d, %g, %g, %s; want 16, 2.5, 0, 0s",
			o.workerConcurrency, o.scimRate, o.graphRate, o.debounce)
	}
	if o.duration != 2*time.Second {
		t.Errorf("duration: got %s, want 2s", o.duration)
	}
	if o.redisURL != env["REDIS_URL"] {
		t.Errorf("redis URL: got %q, want %q", o.redisURL, env["REDIS_URL"])
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"unknown phase", []string{"-phases", "ingest,speed"}, nil, `unknown phase "speed"`},
		{"rate not a number", []string{"-rates", "500,fast"}, nil, `-rates: "fast"`},
		{"zero rate", []string{"-rates", "0"}, nil, `-rates: "0"`},
		{"zero duration", []string{"-duration", "0s"}, nil, "-duration 0s is invalid"},
		{"argument", []string{"now"}, nil, `unexpected argument "now"`},
		{"bad concurrency", nil, map[string]string{"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"},
		{"bad rate variable", nil, map[string]string{"ATLASSIAN_SCIM_RATE": "-1"}, "ATLASSIAN_SCIM_RATE"},
		{"bad graph rate", nil, map[string]string{"GRAPH_RATE": "fast"}, "GRAPH_RATE"},
		{"bad debounce", nil, map[string]string{"DEBOUNCE": "soon"}, "DEBOUNCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = map[string]string{}
			}
			_, err := parseOptions(tt.args, env, io.Discard)
			if err == nil {
				t.Fatalf("got nil error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
