package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// build compiles ./cmd/entrabridge of the module around the working
// directory into dir and returns the binary's path.
func build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root with go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the entrabridge module: run from the repository, or pass -binary")
	}
	binary := filepath.Join(dir, "entrabridge")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/entrabridge")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ./cmd/entrabridge: %w", err)
	}
	return binary, nil
}

// bridge is one running `entrabridge serve` process.
type bridge struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	exited  chan struct{}
}

// startBridge runs binary serve with env on a free loopback port, logging
// to dir/bridge.log, and waits until /healthz responds 200.
func startBridge(ctx context.Context, binary, dir string, env []string) (*bridge, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()

	b := &bridge{base: "http://" + addr, logPath: filepath.Join(dir, "bridge.log"), exited: make(chan struct{})}
	logFile, err := os.Create(b.logPath)
	if err != nil {
		return nil, fmt.Errorf("create bridge log: %w", err)
	}
	b.cmd = exec.Command(binary, "serve")
	b.cmd.Env = append(env, "LISTEN_ADDR="+addr)
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	if err := b.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s serve: %w", binary, err)
	}
	go func() { _ = b.cmd.Wait(); logFile.Close(); close(b.exited) }()

	if err := b.waitHealthy(ctx, 30*time.Second); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

func (b *bridge) waitHealthy(ctx context.Context, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-b.exited:
			return fmt.Errorf("bridge exited during start; see %s", b.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(b.base + "/healthz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return fmt.Errorf("bridge did not respond 200 to /healthz within %s; see %s", limit, b.logPath)
}

// stop sends SIGTERM and kills the process if it has not exited after
// its shutdown timeout and a margin.
func (b *bridge) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(15 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

// bridgeEnv returns the bridge's environment: the fakes, Redis under
// prefix, and every bulk and rate setting at its default.
func bridgeEnv(fk *fakes, redisURL, prefix string) []string {
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
		"ATLASSIAN_SCIM_URL=" + fk.SCIM.BaseURL(),
		"ATLASSIAN_SCIM_TOKEN=" + scimToken,
		"SHUTDOWN_TIMEOUT=5s",
		"LOG_FORMAT=json",
		"LOG_LEVEL=info",
	}
}
