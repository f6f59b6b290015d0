package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// modeServeReceiver is the hidden subcommand that runs the re-created
// receiver with pprof.
const modeServeReceiver = "serve-receiver"

// profileStep is one saturation step of the profile phase.
type profileStep struct {
	kind    string
	binary  loadResult
	rebuilt loadResult
	file    string
	err     error
}

// profile runs the saturation steps against the entrabridge binary and
// against the receiver re-created in this program, and records a CPU
// profile of the latter for each kind of body.
func (b *bench) profile(ctx context.Context) (section, error) {
	clientState := randomSecret()
	ids := newObjectIDs(ingestUsers)
	kinds := []bodyKind{
		{"single", bodyPool(clientState, ids, 1, ingestUsers)},
		{fmt.Sprintf("batch of %d", b.opts.batchSize), bodyPool(clientState, ids, b.opts.batchSize, 200)},
	}

	steps := make([]profileStep, len(kinds))
	bridge, err := b.startBridge(ctx, "profile-binary", "receiver", "GRAPH_CLIENT_STATE="+clientState)
	if err != nil {
		return section{}, err
	}
	for i, kind := range kinds {
		steps[i].kind = kind.name
		steps[i].binary, _ = b.saturate(ctx, bridge, kind.bodies)
	}
	bridge.stop()

	rebuilt, pprofAddr, err := b.startRebuiltReceiver(ctx, clientState)
	if err != nil {
		return section{}, err
	}
	defer rebuilt.stop()
	for i, kind := range kinds {
		steps[i].file = filepath.Join(b.opts.profileDir, "receiver-"+strings.ReplaceAll(kind.name, " ", "-")+".pprof")
		var profiled sync.WaitGroup
		profiled.Go(func() { steps[i].err = fetchProfile(ctx, pprofAddr, b.opts.duration, steps[i].file) })
		steps[i].rebuilt, _ = b.saturate(ctx, rebuilt, kind.bodies)
		profiled.Wait()
	}
	return section{title: "Receiver profile", body: profileReport(b.opts, steps)}, nil
}

// saturate runs one closed-loop saturation step against srv and returns
// its result and the cores srv used during it.
func (b *bench) saturate(ctx context.Context, srv *serverProcess, bodies [][]byte) (loadResult, float64) {
	p := poster{client: newLoadClient(b.opts.clients), url: srv.base + "/webhooks/graph", body: cycle(bodies)}
	defer p.client.CloseIdleConnections()
	b.log.Info("saturation step", "server", srv.name, "clients", b.opts.clients)
	meter := startCPUMeter(srv.pid())
	res := closedLoop(ctx, p.post, b.opts.clients, b.opts.duration, b.opts.timeout)
	cores := meter.cores()
	b.waitQuiet(ctx, srv)
	return res, cores
}

// startRebuiltReceiver runs this program's serve-receiver mode with the
// same variables entrabridge gets, and returns it with its pprof address.
func (b *bench) startRebuiltReceiver(ctx context.Context, clientState string) (*serverProcess, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	env := append(b.baseEnv(),
		"LISTEN_ADDR="+addr,
		"REDIS_KEY_PREFIX="+b.keys.prefix("profile-rebuilt"),
		"LOG_FORMAT=json",
		"LOG_LEVEL=info",
		"GRAPH_CLIENT_STATE="+clientState,
		envPprof+"="+pprofAddr)
	srv, err := startServer(ctx, "profile-rebuilt", b.dir, b.selfPath, []string{modeServeReceiver}, env, "http://"+addr)
	return srv, pprofAddr, err
}

// fetchProfile records a CPU profile of d from the pprof server at addr
// into path.
func fetchProfile(ctx context.Context, addr string, d time.Duration, path string) error {
	seconds := max(int(math.Ceil(d.Seconds())), 1)
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch cpu profile: %s", statusText(resp.StatusCode))
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile file: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write profile file: %w", err)
	}
	return f.Close()
}

func profileReport(o options, steps []profileStep) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Closed-loop saturation with %d clients for %s each, first against the entrabridge binary, "+
		"then against the same receiver wiring re-created in benchbridge with net/http/pprof, while a "+
		"CPU profile was recorded. Inspect a profile with `go tool pprof -top <file>`.\n\n", o.clients, o.duration)
	t := table{header: []string{"Body", "Binary acked/s", "Re-created acked/s", "CPU profile"}}
	for _, s := range steps {
		file := s.file
		if s.err != nil {
			file = "failed: " + s.err.Error()
		}
		t.add(s.kind, formatRate(s.binary.throughput()), formatRate(s.rebuilt.throughput()), file)
	}
	sb.WriteString(t.markdown())
	return sb.String()
}
