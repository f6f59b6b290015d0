package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/entrabridge/entrabridge/internal/config"
)

// The phases, in the order they run.
const (
	phaseIngest  = "ingest"
	phaseWorker  = "worker"
	phaseE2E     = "e2e"
	phaseMemory  = "memory"
	phaseProfile = "profile"
)

// allPhases lists every phase in the order they run.
var allPhases = []string{phaseIngest, phaseWorker, phaseE2E, phaseMemory, phaseProfile}

// defaultPhases are the phases run when -phases is not given.
var defaultPhases = []string{phaseIngest, phaseWorker, phaseE2E, phaseMemory}

// options is the validated command line and environment.
type options struct {
	duration    time.Duration
	phases      []string
	out         string
	bridge      string
	redisURL    string
	rates       []float64
	clients     int
	batchSize   int
	latency     time.Duration
	timeout     time.Duration
	maxInFlight int
	pairs       int
	profileDir  string
	keep        bool

	e2eDuration  time.Duration
	e2eRate      float64
	e2eLatency   time.Duration
	e2eSCIMRate  float64
	e2eGraphRate float64

	// Worker settings passed to entrabridge in the worker phase, read from
	// the variables entrabridge itself reads, with its defaults.
	workerConcurrency int
	scimRate          float64
	graphRate         float64
	debounce          time.Duration
}

func (o options) runs(phase string) bool { return slices.Contains(o.phases, phase) }

func parseOptions(args []string, env map[string]string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("benchbridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var phases, rates string
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured load step")
	fs.StringVar(&phases, "phases", strings.Join(defaultPhases, ","), "comma-separated phases to run: "+strings.Join(allPhases, ", "))
	fs.StringVar(&o.out, "out", "", "also write the results as markdown to this file")
	fs.StringVar(&o.bridge, "bridge", "", "entrabridge binary to measure; empty builds ./cmd/entrabridge with go build")
	fs.StringVar(&rates, "rates", "500,2000,5000", "comma-separated offered request rates of the ingest phase, in requests per second")
	fs.IntVar(&o.clients, "clients", 32, "concurrent clients of the closed-loop saturation step")
	fs.IntVar(&o.batchSize, "batch", 20, "notifications per request in the batch steps")
	fs.DurationVar(&o.latency, "latency", 100*time.Millisecond, "response delay of fake Graph and fake SCIM in the worker phase and the inline baseline")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "request timeout of the load generator; Graph gives up on a webhook after 10s")
	fs.IntVar(&o.maxInFlight, "max-inflight", 4096, "most requests the open-loop generator keeps open at once")
	fs.IntVar(&o.pairs, "pairs", 5, "paired saturation rounds of entrabridge and the bare handler per body kind; 0 for none")
	fs.StringVar(&o.profileDir, "profile-dir", ".", "folder for the CPU profiles of the profile phase")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder with the servers' logs instead of removing it")
	fs.DurationVar(&o.e2eDuration, "e2e-duration", 30*time.Second, "length of each end-to-end run")
	fs.Float64Var(&o.e2eRate, "e2e-rate", 100, "changes per second in the end-to-end phase")
	fs.DurationVar(&o.e2eLatency, "e2e-latency", 0, "response delay of fake Graph and fake SCIM in the end-to-end phase")
	fs.Float64Var(&o.e2eSCIMRate, "e2e-scim-rate", 250, "ATLASSIAN_SCIM_RATE in the end-to-end phase, in requests per second")
	fs.Float64Var(&o.e2eGraphRate, "e2e-graph-rate", 250, "GRAPH_RATE in the end-to-end phase, in requests per second")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: benchbridge takes only flags", fs.Arg(0))
	}

	var errs []error
	var err error
	if o.phases, err = parsePhases(phases); err != nil {
		errs = append(errs, err)
	}
	if o.rates, err = parseRates(rates); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.readWorkerSettings(env)...)
	errs = append(errs, o.validate()...)
	o.redisURL = env["REDIS_URL"]
	if o.redisURL == "" {
		o.redisURL = "redis://127.0.0.1:6379/0"
	}
	return o, errors.Join(errs...)
}

func parsePhases(list string) ([]string, error) {
	var phases []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(allPhases, p) {
			return nil, fmt.Errorf("-phases: unknown phase %q: use %s", p, strings.Join(allPhases, ", "))
		}
		phases = append(phases, p)
	}
	return phases, nil
}

func parseRates(list string) ([]float64, error) {
	var rates []float64
	for _, r := range strings.Split(list, ",") {
		rate, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || rate <= 0 {
			return nil, fmt.Errorf("-rates: %q is not a positive number of requests per second", r)
		}
		rates = append(rates, rate)
	}
	return rates, nil
}

// readWorkerSettings reads WORKER_CONCURRENCY, ATLASSIAN_SCIM_RATE,
// GRAPH_RATE and DEBOUNCE as entrabridge reads them, with entrabridge's
// defaults.
func (o *options) readWorkerSettings(env map[string]string) []error {
	settings := map[string]string{}
	for _, name := range []string{"WORKER_CONCURRENCY", "ATLASSIAN_SCIM_RATE", "GRAPH_RATE", "DEBOUNCE"} {
		settings[name] = env[name]
		if settings[name] == "" {
			settings[name] = variableDefault(name)
		}
	}

	var errs []error
	var err error
	if o.workerConcurrency, err = strconv.Atoi(settings["WORKER_CONCURRENCY"]); err != nil || o.workerConcurrency < 1 {
		errs = append(errs, fmt.Errorf("WORKER_CONCURRENCY %q is invalid: want a whole number of at least 1", settings["WORKER_CONCURRENCY"]))
	}
	if o.scimRate, err = strconv.ParseFloat(settings["ATLASSIAN_SCIM_RATE"], 64); err != nil || o.scimRate < 0 {
		errs = append(errs, fmt.Errorf("ATLASSIAN_SCIM_RATE %q is invalid: want requests per second, 0 for no limit", settings["ATLASSIAN_SCIM_RATE"]))
	}
	if o.graphRate, err = strconv.ParseFloat(settings["GRAPH_RATE"], 64); err != nil || o.graphRate < 0 {
		errs = append(errs, fmt.Errorf("GRAPH_RATE %q is invalid: want requests per second, 0 for no limit", settings["GRAPH_RATE"]))
	}
	if o.debounce, err = time.ParseDuration(settings["DEBOUNCE"]); err != nil || o.debounce < 0 {
		errs = append(errs, fmt.Errorf("DEBOUNCE %q is invalid: want a duration such as 1s", settings["DEBOUNCE"]))
	}
	return errs
}

func variableDefault(name string) string {
	for _, v := range config.Variables {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}

func (o options) validate() []error {
	var errs []error
	positive := map[string]time.Duration{
		"-duration": o.duration, "-timeout": o.timeout, "-e2e-duration": o.e2eDuration,
	}
	for name, d := range positive {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s %s is invalid: want a positive duration", name, d))
		}
	}
	if o.latency < 0 || o.e2eLatency < 0 {
		errs = append(errs, errors.New("-latency and -e2e-latency must not be negative"))
	}
	if o.clients < 1 || o.batchSize < 1 || o.maxInFlight < 1 {
		errs = append(errs, errors.New("-clients, -batch and -max-inflight must be at least 1"))
	}
	if o.pairs < 0 {
		errs = append(errs, errors.New("-pairs must not be negative"))
	}
	if o.e2eRate <= 0 || o.e2eSCIMRate < 0 || o.e2eGraphRate < 0 {
		errs = append(errs, errors.New("-e2e-rate must be positive, and -e2e-scim-rate and -e2e-graph-rate must not be negative"))
	}
	return errs
}
