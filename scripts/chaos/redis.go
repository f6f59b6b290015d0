package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultRedisURL is the shared Redis used when redis-server is not on
// PATH and REDIS_URL is unset.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

// redisHandle is the Redis of the run: a redis-server this program owns, or
// a shared one it must not restart.
type redisHandle struct {
	url    string
	server *redisServer
}

// openRedis starts redis-server from PATH, or falls back to REDIS_URL.
func openRedis(ctx context.Context, dir string, out io.Writer) (*redisHandle, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		url := os.Getenv("REDIS_URL")
		if url == "" {
			url = defaultRedisURL
		}
		fmt.Fprintf(out, "redis-server not found on PATH: using the shared Redis at REDIS_URL "+
			"(default %s) and skipping the Redis restart\n", defaultRedisURL)
		return &redisHandle{url: url}, nil
	}
	s, err := startRedisServer(ctx, path, filepath.Join(dir, "redis"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "redis-server on 127.0.0.1:%d with appendfsync always\n", s.port)
	return &redisHandle{url: s.url(), server: s}, nil
}

func (h *redisHandle) owned() bool { return h.server != nil }

func (h *redisHandle) close() {
	if h.server != nil {
		h.server.kill()
	}
}

// redisServer is a redis-server process with an append-only file fsynced on
// every write, so a SIGKILL loses nothing it acknowledged.
type redisServer struct {
	path    string
	dir     string
	port    int
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

func startRedisServer(ctx context.Context, path, dir string) (*redisServer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create redis folder: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port for redis-server: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &redisServer{path: path, dir: dir, port: port, logPath: filepath.Join(dir, "redis.log")}
	return s, s.start(ctx)
}

func (s *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// start runs redis-server on s.dir and s.port, loading the append-only
// file of an earlier run, and waits for PING.
func (s *redisServer) start(ctx context.Context) error {
	s.cmd = exec.Command(s.path,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", s.logPath)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	cmd := s.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	s.exited = exited

	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port), MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited during start; see %s", s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if rdb.Ping(ctx).Err() == nil {
			return nil
		}
	}
	return errors.New("redis-server did not respond to PING within 10s; see " + s.logPath)
}

// kill sends SIGKILL and waits until the process is reaped.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}
