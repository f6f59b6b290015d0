package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// readyTimeout bounds how long a bridge process may take to respond to
// /healthz after it starts, and stopTimeout how long it may take to exit
// after SIGTERM: its SHUTDOWN_TIMEOUT of 5 s and some margin.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// buildBinary builds ./cmd/entrabridge of the module that contains the
// working directory into dir and returns the binary's path.
func buildBinary(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root with go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return "", errors.New("not inside the entrabridge module: run from the repository, or pass -binary")
	}
	binary := filepath.Join(dir, "entrabridge")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/entrabridge")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build entrabridge in %s: %w", root, err)
	}
	return binary, nil
}

// bridgeEnv returns the environment shared by the bridge processes. Each
// process adds its own LISTEN_ADDR.
func bridgeEnv(fk *fakes, redisURL, prefix string, o options) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"SSL_CERT_FILE=" + fk.certFile,
		"REDIS_URL=" + redisURL,
		"REDIS_KEY_PREFIX=" + prefix,
		"GRAPH_BASE_URL=" + fk.Graph.BaseURL(),
		"GRAPH_CLIENT_STATE=" + clientState,
		"AZURE_TENANT_ID=" + tenantID,
		"AZURE_CLIENT_ID=" + clientID,
		"AZURE_CLIENT_SECRET=" + clientSecret,
		"AZURE_AUTHORITY_HOST=" + fk.Entra.AuthorityHost(),
		"ATLASSIAN_SCIM_URL=" + fk.gate.baseURL(),
		"ATLASSIAN_SCIM_TOKEN=" + scimToken,
		fmt.Sprintf("ATLASSIAN_SCIM_RATE=%g", o.scimRate),
		"DEBOUNCE=200ms",
		"LEASE_DURATION=" + o.lease.String(),
		"SHUTDOWN_TIMEOUT=5s",
		"LOG_FORMAT=json",
		"LOG_LEVEL=info",
	}
}

// bridgeProcess is one `entrabridge serve` process that can be killed and
// started again on the same address.
type bridgeProcess struct {
	name    string
	binary  string
	env     []string
	base    string
	logPath string

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed when the current process has been reaped.
	exited chan struct{}
	// killing is set while this program stops the process on purpose.
	killing bool
	// unexpectedExits counts exits this program did not cause.
	unexpectedExits int
}

func startBridges(ctx context.Context, binary, dir string, env []string) ([]*bridgeProcess, error) {
	var bridges []*bridgeProcess
	for i := range bridgeCount {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return bridges, fmt.Errorf("find a free port: %w", err)
		}
		addr := ln.Addr().String()
		ln.Close()
		b := &bridgeProcess{
			name:    fmt.Sprintf("bridge-%d", i+1),
			binary:  binary,
			env:     append(append([]string(nil), env...), "LISTEN_ADDR="+addr),
			base:    "http://" + addr,
			logPath: filepath.Join(dir, fmt.Sprintf("bridge-%d.log", i+1)),
		}
		bridges = append(bridges, b)
		if err := b.start(ctx); err != nil {
			stopBridges(bridges)
			return nil, err
		}
	}
	return bridges, nil
}

// start runs the process, appending to its log file, and waits until it
// responds 200 to /healthz.
func (b *bridgeProcess) start(ctx context.Context) error {
	logFile, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open %s log: %w", b.name, err)
	}
	cmd := exec.Command(b.binary, "serve")
	cmd.Env = b.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", b.name, err)
	}
	exited := make(chan struct{})
	b.mu.Lock()
	b.cmd, b.exited, b.killing = cmd, exited, false
	b.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		b.mu.Lock()
		if !b.killing {
			b.unexpectedExits++
		}
		b.mu.Unlock()
		close(exited)
	}()
	return b.waitReady(ctx, exited)
}

func (b *bridgeProcess) waitReady(ctx context.Context, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited during start; see %s", b.name, b.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(b.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not respond 200 to /healthz within %s; see %s", b.name, readyTimeout, b.logPath)
}

// kill sends SIGKILL, as a crash or an OOM kill would, and waits until the
// process is reaped.
func (b *bridgeProcess) kill() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.killing = true
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// stop sends SIGTERM and waits up to timeout for the process to exit, then
// kills it. It reports whether the process exited with status 0 in time.
func (b *bridgeProcess) stop(timeout time.Duration) bool {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.killing = true
	b.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		// cmd.Wait set ProcessState before exited was closed.
		return cmd.ProcessState.ExitCode() == 0
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		return false
	}
}

func (b *bridgeProcess) unexpected() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.unexpectedExits
}

// stopBridges stops every process with SIGTERM and returns how many did
// not exit cleanly within their shutdown timeout.
func stopBridges(bridges []*bridgeProcess) int {
	var unclean atomic.Int64
	var wg sync.WaitGroup
	for _, b := range bridges {
		wg.Go(func() {
			if !b.stop(stopTimeout) {
				unclean.Add(1)
			}
		})
	}
	wg.Wait()
	return int(unclean.Load())
}

// reclaimedUsers sums the users of the process's "reclaimed lapsed claims"
// log lines: claims of a killed process that a live one took over.
func (b *bridgeProcess) reclaimedUsers() (int, error) {
	f, err := os.Open(b.logPath)
	if err != nil {
		return 0, fmt.Errorf("read %s log: %w", b.name, err)
	}
	defer f.Close()
	total := 0
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for lines.Scan() {
		var entry struct {
			Msg   string `json:"msg"`
			Users int    `json:"users"`
		}
		if json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "reclaimed lapsed claims of stopped workers" {
			total += entry.Users
		}
	}
	if err := lines.Err(); err != nil {
		return 0, fmt.Errorf("read %s log: %w", b.name, err)
	}
	return total, nil
}
