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

// startupTimeout bounds how long a server under test may take to respond
// on its health endpoint after it starts.
const startupTimeout = 60 * time.Second

// stopTimeout bounds how long a server may take to exit after SIGTERM
// before it is killed. entrabridge waits up to SHUTDOWN_TIMEOUT (20 s by
// default) for syncs in flight.
const stopTimeout = 30 * time.Second

// serverProcess is a running server under test: entrabridge or a baseline.
type serverProcess struct {
	name string
	cmd  *exec.Cmd
	// base is the server's root URL, http://127.0.0.1:<port>.
	base    string
	logPath string
	exited  chan struct{}
}

// startServer runs path with args and env, sending its output to a log
// file in dir, and waits until base+"/healthz" responds 200.
func startServer(ctx context.Context, name, dir, path string, args, env []string, base string) (*serverProcess, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log of %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &serverProcess{name: name, cmd: cmd, base: base, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()

	if err := s.waitHealthy(ctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return s, nil
}

func (s *serverProcess) pid() int { return s.cmd.Process.Pid }

func (s *serverProcess) waitHealthy(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startupTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited during startup", s.name)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := client.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		sleepContext(ctx, 50*time.Millisecond)
	}
	return fmt.Errorf("%s did not respond 200 on %s/healthz within %s: see its log below", s.name, s.base, startupTimeout)
}

// stop sends SIGTERM and waits for the process to exit, killing it after
// stopTimeout.
func (s *serverProcess) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// logTail returns the last lines of the server's log, for error messages.
func (s *serverProcess) logTail() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return s.name + " log (" + s.logPath + "):\n" + strings.Join(lines, "\n")
}

// cpuMeter measures the CPU a process used between start and stop.
type cpuMeter struct {
	pid   int
	cpu   time.Duration
	start time.Time
}

func startCPUMeter(pid int) *cpuMeter {
	cpu, _ := cpuTime(pid)
	return &cpuMeter{pid: pid, cpu: cpu, start: time.Now()}
}

// cores returns the average number of cores used since start, or -1 when
// the process's CPU time could not be read.
func (m *cpuMeter) cores() float64 {
	cpu, err := cpuTime(m.pid)
	if err != nil {
		return -1
	}
	return (cpu - m.cpu).Seconds() / time.Since(m.start).Seconds()
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for servers that take their address as configuration.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", errors.Join(fmt.Errorf("release port %s", addr), err)
	}
	return addr, nil
}

// waitQuiet waits until srv is quiet (see quietCores) or quietTimeout
// passes, and logs a warning in the second case.
func (b *bench) waitQuiet(ctx context.Context, srv *serverProcess) {
	deadline := time.Now().Add(quietTimeout)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		meter := startCPUMeter(srv.pid())
		sleepContext(ctx, quietInterval)
		if cores := meter.cores(); cores >= 0 && cores < quietCores {
			return
		}
	}
	b.log.Warn("server still busy after the load step; the next step may be affected",
		"server", srv.name, "waited", quietTimeout)
}
