package redisstore_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// startRedisServer runs redis-server on addr with an fsync'ed AOF in dir
// and waits until it responds to PING.
func startRedisServer(t *testing.T, addr, dir string) *exec.Cmd {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server",
		"--bind", "127.0.0.1",
		"--port", port,
		"--dir", dir,
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--save", "",
		"--daemonize", "no",
	)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	waitFor(t, "redis-server to respond to PING", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := redisstore.Open(ctx, "redis://"+addr, redisstore.Options{})
		if err != nil {
			return false
		}
		s.Close()
		return true
	})
	return cmd
}

// TestAcknowledgedSurvivesKill enqueues and moves work on a redis-server
// with appendfsync always, kills it with SIGKILL, restarts it on the same
// directory and checks that everything Redis acknowledged is still there.
func TestAcknowledgedSurvivesKill(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH, and CI=true requires this test")
		}
		t.Skip("redis-server is not on PATH")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()

	server := startRedisServer(t, addr, dir)
	ctx := testContext(t)
	s, err := redisstore.Open(ctx, "redis://"+addr, redisstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	const batches, perBatch = 50, 4
	for b := range batches {
		changes := make([]bridge.Change, perBatch)
		for i := range changes {
			changes[i] = change("u" + strconv.Itoa(b*perBatch+i))
		}
		if err := s.Enqueue(ctx, changes, nil); err != nil {
			t.Fatalf("Enqueue batch %d: %v", b, err)
		}
	}
	if n, err := s.Schedule(ctx, "c1", time.Hour, 10, 0); err != nil || n != 10 {
		t.Fatalf("Schedule: got %d, %v, want 10, nil", n, err)
	}
	if err := s.SetMapping(ctx, "obj-1", "scim-1"); err != nil {
		t.Fatalf("SetMapping: %v", err)
	}
	s.Close()

	if err := server.Process.Kill(); err != nil {
		t.Fatalf("kill redis-server: %v", err)
	}
	server.Wait()
	startRedisServer(t, addr, dir)

	s, err = redisstore.Open(ctx, "redis://"+addr, redisstore.Options{})
	if err != nil {
		t.Fatalf("Open after restart: %v", err)
	}
	defer s.Close()
	n, err := redisstore.InboxLen(ctx, s)
	if err != nil {
		t.Fatalf("inbox length: %v", err)
	}
	// Each Enqueue call is one inbox entry with perBatch users, and the
	// 10 entries scheduled made 10*perBatch users scheduled.
	if n != batches {
		t.Errorf("got %d inbox entries after restart, want %d", n, batches)
	}
	d, err := s.Depths(ctx)
	if err != nil {
		t.Fatalf("Depths: %v", err)
	}
	want := redisstore.Depths{Scheduled: 10 * perBatch, InboxPending: batches - 10}
	if d != want {
		t.Errorf("depths after restart: got %+v, want %+v", d, want)
	}
	if _, ok, err := s.Mapping(ctx, "obj-1"); err != nil || !ok {
		t.Errorf("mapping after restart: got ok %v, err %v, want true, nil", ok, err)
	}
}
