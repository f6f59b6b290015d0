package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// The tests in this file crash, starve and flood the built binary against a
// real Redis. Each checks that every accepted notification ends in one of
// three ways: the user's current state in Atlassian, no change needed, or a
// dead letter with a reason.

// chaosEnv is the configuration every test here adds to newProcess's.
// LEASE_DURATION=12s lets a killed worker's claim lapse soon while leaving
// a sync 9 s (the lease minus a margin of a quarter of it) for two SCIM
// requests of 3 s each. The SCIM rate limit is off because the tests count requests, not
// pace them.
var chaosEnv = []string{
	"LEASE_DURATION=12s",
	"ATLASSIAN_SCIM_RATE=0",
	"SHUTDOWN_TIMEOUT=2s",
}

// convergeTimeout bounds every wait for users to converge. The slowest
// path is a killed worker's claim: 12 s until it lapses plus up to 2 s until
// the reclaimer runs.
const convergeTimeout = 40 * time.Second

func TestChaosWorkerKilledMidSync(t *testing.T) {
	t.Parallel()
	b := newProcess(t, redistest.URL(t), chaosEnv...)
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.scim.SetLatency(3 * time.Second)
	b.start()

	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	if status, body := b.notify(testClientState, userID(1)); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}
	b.waitFor(convergeTimeout, "PATCH in flight at the fake", func() bool {
		return b.scim.Patches(rec) == 1
	})
	b.kill()
	b.scim.SetLatency(0)
	if got := b.scimUser(rec).UserName; got != "ada@contoso.com" {
		t.Fatalf("userName right after the kill = %q, want the old ada@contoso.com: "+
			"the kill did not interrupt the PATCH", got)
	}

	next := b.sibling()
	next.start()
	next.waitFor(convergeTimeout, "rename after the reclaim", func() bool {
		u := next.scimUser(rec)
		return u.UserName == "ada.lovelace@contoso.com" && emailOf(u) == "ada.lovelace@contoso.com"
	})
	next.settled(convergeTimeout)
	if dls := next.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
	// One PATCH was cut off by the kill, the second one went through.
	if got := b.scim.Patches(rec); got != 2 {
		t.Errorf("got %d PATCH requests, want 2", got)
	}
	if got := b.scim.Overlaps(); got != 0 {
		t.Errorf("got %d overlapping PATCHes, want 0", got)
	}
	if !strings.Contains(next.logs.String(), "reclaimed lapsed claims") {
		t.Errorf("new process never logged a reclaim; log:\n%s", next.logs.String())
	}
}

// TestChaosMinimumLeaseStarts starts the worker with the smallest
// LEASE_DURATION the configuration accepts.
func TestChaosMinimumLeaseStarts(t *testing.T) {
	t.Parallel()
	b := newProcess(t, redistest.URL(t), "LEASE_DURATION=10s")
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.start()

	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	if status, body := b.notify(testClientState, userID(1)); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}
	b.waitFor(convergeTimeout, "rename with a 10 s lease", func() bool {
		return b.scimUser(rec).UserName == "ada.lovelace@contoso.com"
	})
}

func TestChaosRedisRestartKeepsAccepted(t *testing.T) {
	t.Parallel()
	redis := startRedisServer(t)
	receiver := newProcess(t, redis.url(), chaosEnv...)
	const users = 100
	recs := make([]string, users)
	for i := range users {
		recs[i] = receiver.user(userID(200+i), fmt.Sprintf("user%d@contoso.com", i), fmt.Sprintf("user%d@contoso.com", i))
	}
	receiver.startWith("serve", "--roles", "receiver")

	for i := range users {
		upn := fmt.Sprintf("user%d.new@contoso.com", i)
		receiver.rename(userID(200+i), upn, upn)
		if status, body := receiver.notify(testClientState, userID(200+i)); status != http.StatusAccepted {
			t.Fatalf("notification %d: got %d %s, want 202", i, status, body)
		}
	}
	redis.kill()
	redis.start()

	worker := receiver.sibling()
	worker.startWith("serve", "--roles", "worker")
	for i, rec := range recs {
		want := fmt.Sprintf("user%d.new@contoso.com", i)
		worker.waitFor(convergeTimeout, rec+" to be renamed", func() bool {
			u := worker.scimUser(rec)
			return u.UserName == want && emailOf(u) == want
		})
	}
	if dls := worker.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
}

func TestChaosSCIMFailuresConverge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		users    int
		failures int
		status   int
		header   http.Header
		// minGap is the least time the bridge must wait after each failed
		// request before its next SCIM request.
		minGap time.Duration
	}{
		{name: "503 window", users: 3, failures: 6, status: http.StatusServiceUnavailable},
		{name: "429 with Retry-After", users: 1, failures: 2, status: http.StatusTooManyRequests,
			header: http.Header{"Retry-After": {"2"}}, minGap: 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newProcess(t, redistest.URL(t), chaosEnv...)
			recs := make([]string, tc.users)
			for i := range recs {
				recs[i] = b.user(userID(300+i), fmt.Sprintf("u%d@contoso.com", i), fmt.Sprintf("u%d@contoso.com", i))
			}
			b.scim.FailNext(tc.failures, tc.status, tc.header, nil)
			b.start()

			ids := make([]string, tc.users)
			for i := range ids {
				ids[i] = userID(300 + i)
				b.rename(ids[i], fmt.Sprintf("u%d.new@contoso.com", i), fmt.Sprintf("u%d.new@contoso.com", i))
			}
			if status, body := b.notify(testClientState, ids...); status != http.StatusAccepted {
				t.Fatalf("got %d %s, want 202", status, body)
			}
			for i, rec := range recs {
				want := fmt.Sprintf("u%d.new@contoso.com", i)
				b.waitFor(convergeTimeout, rec+" to be renamed", func() bool {
					u := b.scimUser(rec)
					return u.UserName == want && emailOf(u) == want
				})
			}
			b.settled(convergeTimeout)
			if dls := b.deadLetters(); len(dls) != 0 {
				t.Errorf("dead letters = %+v, want none", dls)
			}
			reqs := b.scim.Requests()
			if len(reqs) <= tc.failures {
				t.Fatalf("got %d SCIM requests, want more than the %d failures", len(reqs), tc.failures)
			}
			for i := range tc.failures {
				if gap := reqs[i+1].At.Sub(reqs[i].At); gap < tc.minGap {
					t.Errorf("request %d came %s after failed request %d, want at least %s",
						i+1, gap, i, tc.minGap)
				}
			}
		})
	}
}

func TestChaosBurstCoalesces(t *testing.T) {
	t.Parallel()
	b := newProcess(t, redistest.URL(t), chaosEnv...)
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.start()

	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	const notifications = 200
	statuses := sendConcurrently(b.base, 8, notifications, func(int) []string { return []string{userID(1)} })
	for i, s := range statuses {
		if s != http.StatusAccepted {
			t.Fatalf("notification %d: got %d, want 202", i, s)
		}
	}
	b.waitFor(convergeTimeout, "rename after the burst", func() bool {
		u := b.scimUser(rec)
		return u.UserName == "ada.lovelace@contoso.com" && emailOf(u) == "ada.lovelace@contoso.com"
	})
	b.settled(convergeTimeout)
	patches := b.scim.Patches(rec)
	t.Logf("%d notifications for one user caused %d PATCH requests", notifications, patches)
	if patches > 5 {
		t.Errorf("got %d PATCH requests for %d notifications, want at most 5", patches, notifications)
	}
}

func TestChaosInterleavedChangesConverge(t *testing.T) {
	t.Parallel()
	b := newProcess(t, redistest.URL(t), chaosEnv...)
	const users, changes, senders = 30, 5, 6
	recs := make([]string, users)
	for i := range users {
		recs[i] = b.user(userID(400+i), fmt.Sprintf("u%d@contoso.com", i), fmt.Sprintf("u%d@contoso.com", i))
	}
	b.start()

	// Each sender owns every senders-th user, so one user's changes stay in
	// order while the senders interleave.
	var wg sync.WaitGroup
	errs := make(chan error, users*changes)
	for s := range senders {
		wg.Go(func() {
			for c := range changes {
				for i := s; i < users; i += senders {
					upn := fmt.Sprintf("u%d.v%d@contoso.com", i, c)
					b.rename(userID(400+i), upn, upn)
					status, err := sendNotification(b.base, userID(400+i))
					if err == nil && status != http.StatusAccepted {
						err = fmt.Errorf("got %d, want 202", status)
					}
					if err != nil {
						errs <- fmt.Errorf("user %d change %d: %w", i, c, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	for i, rec := range recs {
		want := fmt.Sprintf("u%d.v%d@contoso.com", i, changes-1)
		b.waitFor(convergeTimeout, rec+" to converge", func() bool {
			u := b.scimUser(rec)
			return u.UserName == want && emailOf(u) == want
		})
	}
	b.settled(convergeTimeout)
	if got := b.scim.Overlaps(); got != 0 {
		t.Errorf("got %d overlapping PATCHes for one user, want 0", got)
	}
	if dls := b.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
}

func TestChaosConflictDeadLettersOnce(t *testing.T) {
	t.Parallel()
	b := newProcess(t, redistest.URL(t), chaosEnv...)
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.user(userID(2), "bob@contoso.com", "bob@contoso.com")
	b.start()

	b.rename(userID(1), "ada@contoso.com", "bob@contoso.com")
	if status, body := b.notify(testClientState, userID(1)); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}
	b.waitFor(convergeTimeout, "a dead letter", func() bool { return len(b.deadLetters()) > 0 })
	b.settled(convergeTimeout)

	dls := b.deadLetters()
	if len(dls) != 1 {
		t.Fatalf("got %d dead letters %+v, want 1", len(dls), dls)
	}
	if dls[0].Reason != "scim_conflict" {
		t.Errorf("dead letter reason = %q, want scim_conflict", dls[0].Reason)
	}
	if dls[0].UserID != userID(1) {
		t.Errorf("dead letter user = %q, want %q", dls[0].UserID, userID(1))
	}
	if got := b.scim.Patches(rec); got != 1 {
		t.Errorf("got %d PATCH requests, want 1 (no retry of a conflict)", got)
	}
	if got := emailOf(b.scimUser(rec)); got != "ada@contoso.com" {
		t.Errorf("email after the conflict = %q, want ada@contoso.com unchanged", got)
	}
}

func TestChaosUnmappedRetryAndDrop(t *testing.T) {
	t.Parallel()
	b := newProcess(t, redistest.URL(t), chaosEnv...)
	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	b.rename(userID(2), "bob@contoso.com", "bob@contoso.com")
	b.start()

	if status, body := b.notify(testClientState, userID(1), userID(2)); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}
	b.waitFor(convergeTimeout, "two dead letters", func() bool { return len(b.deadLetters()) == 2 })
	byUser := map[string]deadLetterRow{}
	for _, d := range b.deadLetters() {
		byUser[d.UserID] = d
		if d.Reason != "unmapped" {
			t.Errorf("dead letter %s reason = %q, want unmapped", d.ID, d.Reason)
		}
	}

	// Provisioning creates the SCIM user with the old name. The retry
	// must find it by externalId and rename it.
	rec := b.scim.AddUser(scimUserFor(userID(1), "ada@contoso.com")).ID
	out, err := b.runCLI("dlq", "retry", byUser[userID(1)].ID)
	if err != nil {
		t.Fatalf("dlq retry: %v\n%s", err, out)
	}
	b.waitFor(convergeTimeout, "rename after dlq retry", func() bool {
		u := b.scimUser(rec)
		return u.UserName == "ada.lovelace@contoso.com" && emailOf(u) == "ada.lovelace@contoso.com"
	})

	out, err = b.runCLI("dlq", "drop", byUser[userID(2)].ID)
	if err != nil {
		t.Fatalf("dlq drop: %v\n%s", err, out)
	}
	if want := "dropped 1 dead letters"; !strings.Contains(out, want) {
		t.Errorf("dlq drop output %q, want it to contain %q", out, want)
	}
	b.settled(convergeTimeout)
	if dls := b.deadLetters(); len(dls) != 0 {
		t.Errorf("dead letters after retry and drop = %+v, want none", dls)
	}
	out, err = b.runCLI("dlq", "drop", byUser[userID(2)].ID)
	if err == nil {
		t.Errorf("dropping %s twice succeeded, want an error", byUser[userID(2)].ID)
	}
	if !strings.Contains(out, "not found") {
		t.Errorf("second drop output %q, want it to say not found", out)
	}
}

func TestChaosReplaySinceIsUnchanged(t *testing.T) {
	t.Parallel()
	b := newProcess(t, redistest.URL(t), chaosEnv...)
	ids := []string{userID(1), userID(2), userID(3)}
	recs := make([]string, len(ids))
	for i, id := range ids {
		recs[i] = b.user(id, fmt.Sprintf("u%d@contoso.com", i), fmt.Sprintf("u%d@contoso.com", i))
		b.rename(id, fmt.Sprintf("u%d.new@contoso.com", i), fmt.Sprintf("u%d.new@contoso.com", i))
	}
	b.start()

	if status, body := b.notify(testClientState, ids...); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}
	for i, rec := range recs {
		want := fmt.Sprintf("u%d.new@contoso.com", i)
		b.waitFor(convergeTimeout, rec+" to be renamed", func() bool { return b.scimUser(rec).UserName == want })
	}
	b.settled(convergeTimeout)
	before := make([]int, len(ids))
	for i, id := range ids {
		before[i] = len(b.syncResults(id))
	}

	out, err := b.runCLI("replay", "--since", "1h")
	if err != nil {
		t.Fatalf("replay --since 1h: %v\n%s", err, out)
	}
	if want := "3 users due for a sync"; !strings.Contains(out, want) {
		t.Errorf("replay output %q, want it to contain %q", out, want)
	}
	for i, id := range ids {
		b.waitFor(convergeTimeout, id+" to sync again", func() bool { return len(b.syncResults(id)) > before[i] })
	}
	b.settled(convergeTimeout)
	for i, id := range ids {
		for _, r := range b.syncResults(id)[before[i]:] {
			if r != "unchanged" {
				t.Errorf("user %s replayed sync result = %q, want unchanged", id, r)
			}
		}
		if got := b.scim.Patches(recs[i]); got != 1 {
			t.Errorf("scim user %s got %d PATCH requests, want the 1 before the replay", recs[i], got)
		}
	}
}

// startWith runs the binary with args and waits until it is ready: the
// receiver responds 200 to /healthz and the worker has logged its start.
func (b *process) startWith(args ...string) {
	b.t.Helper()
	b.cmd = exec.Command(binary, args...)
	b.cmd.Env = b.env
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	if err := b.cmd.Start(); err != nil {
		b.t.Fatalf("start entrabridge %s: %v", strings.Join(args, " "), err)
	}
	cmd := b.cmd
	b.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	roles := "receiver,worker"
	for i, a := range args {
		if a == "--roles" && i+1 < len(args) {
			roles = args[i+1]
		}
	}
	if strings.Contains(roles, "receiver") {
		b.waitFor(convergeTimeout, "process to answer /healthz", func() bool {
			resp, err := http.Get(b.base + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	if strings.Contains(roles, "worker") {
		b.waitFor(convergeTimeout, "worker to start", func() bool {
			return strings.Contains(b.logs.String(), "worker started")
		})
	}
}

// kill sends SIGKILL, as a crash or an OOM kill would, and reaps the
// process.
func (b *process) kill() {
	b.t.Helper()
	if err := b.cmd.Process.Kill(); err != nil {
		b.t.Fatalf("kill entrabridge: %v", err)
	}
	_ = b.cmd.Wait()
}

// sibling returns a second process on the same fakes, Redis and key
// prefix, with its own listen address and log.
func (b *process) sibling() *process {
	b.t.Helper()
	addr := freeAddr(b.t)
	env := append(append([]string(nil), b.env...), "LISTEN_ADDR="+addr)
	return &process{t: b.t, entra: b.entra, graph: b.graph, scim: b.scim, env: env,
		base: "http://" + addr, logs: &syncBuffer{}}
}

// envValue returns the value of name in the process environment. The last
// entry wins, as in os/exec.
func (b *process) envValue(name string) string {
	value := ""
	for _, kv := range b.env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			value = v
		}
	}
	return value
}

// waitFor polls cond every 20 ms until it holds, failing the test with the
// process log after timeout.
func (b *process) waitFor(timeout time.Duration, what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %s waiting for %s; process log:\n%s", timeout, what, b.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openStore opens the process's Redis on its key prefix.
func (b *process) openStore() *redisstore.Store {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, b.envValue("REDIS_URL"),
		redisstore.Options{Prefix: b.envValue("REDIS_KEY_PREFIX")})
	if err != nil {
		b.t.Fatalf("open store: %v", err)
	}
	return s
}

// settled waits until nothing is queued, due, in flight or pending, seen
// three times in a row, so that a user moving between two structures is
// not missed.
func (b *process) settled(timeout time.Duration) {
	b.t.Helper()
	s := b.openStore()
	defer s.Close()
	quiet := 0
	b.waitFor(timeout, "queue to drain", func() bool {
		d, err := s.Depths(context.Background())
		if err == nil && d.Due == 0 && d.Scheduled == 0 && d.InFlight == 0 && d.InboxPending == 0 {
			quiet++
		} else {
			quiet = 0
		}
		return quiet >= 3
	})
}

// runCLI runs an entrabridge subcommand with the process environment and
// returns its combined output.
func (b *process) runCLI(args ...string) (string, error) {
	b.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = b.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// deadLetterRow is one row of `entrabridge dlq list`.
type deadLetterRow struct {
	ID, UserID, Reason string
	Attempts           int
}

// deadLetters runs `entrabridge dlq list` and parses its table.
func (b *process) deadLetters() []deadLetterRow {
	b.t.Helper()
	out, err := b.runCLI("dlq", "list")
	if err != nil {
		b.t.Fatalf("dlq list: %v\n%s", err, out)
	}
	var rows []deadLetterRow
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] == "ID" {
			continue
		}
		if len(f) != 5 {
			b.t.Fatalf("dlq list row %q has %d columns, want 5", sc.Text(), len(f))
		}
		attempts, err := strconv.Atoi(f[3])
		if err != nil {
			b.t.Fatalf("dlq list row %q: invalid attempts: %v", sc.Text(), err)
		}
		rows = append(rows, deadLetterRow{ID: f[0], UserID: f[1], Reason: f[2], Attempts: attempts})
	}
	return rows
}

// syncResults returns the result of every "sync finished" log line for
// userID, oldest first.
func (b *process) syncResults(userID string) []string {
	var results []string
	for _, line := range strings.Split(b.logs.String(), "\n") {
		var entry struct {
			Msg    string `json:"msg"`
			UserID string `json:"user_id"`
			Result string `json:"result"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		if entry.Msg == "sync finished" && entry.UserID == userID {
			results = append(results, entry.Result)
		}
	}
	return results
}

// sendNotification posts one change notification for ids to base. It does
// not touch testing.T, so goroutines may call it.
func sendNotification(base string, ids ...string) (int, error) {
	resp, err := http.Post(base+"/webhooks/graph", "application/json",
		bytes.NewReader(notificationBody(testClientState, ids...)))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// sendConcurrently posts n notifications from workers goroutines, the i-th
// naming ids(i), and returns each one's status. Status 0 means the request
// failed.
func sendConcurrently(base string, workers, n int, ids func(i int) []string) []int {
	statuses := make([]int, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				statuses[i], _ = sendNotification(base, ids(i)...)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return statuses
}

// redisServer is a redis-server process this test owns, with an
// append-only file fsynced on every write, so a SIGKILL loses nothing it
// acknowledged.
type redisServer struct {
	t    *testing.T
	path string
	dir  string
	port int
	cmd  *exec.Cmd
	logs *syncBuffer
}

// startRedisServer starts redis-server from PATH on a free loopback port.
// It skips the test when redis-server is missing, unless CI=true.
func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not found on PATH; CI=true requires it: %v", err)
		}
		t.Skipf("redis-server not found on PATH: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, path: path, dir: t.TempDir(), port: port, logs: &syncBuffer{}}
	r.start()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs redis-server on r.dir and r.port and waits for PING.
func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.path,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(r.port),
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !r.answersPing() {
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on port %d did not answer PING; log:\n%s", r.port, r.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) answersPing() bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	reply := make([]byte, 7)
	n, err := conn.Read(reply)
	return err == nil && string(reply[:n]) == "+PONG\r\n"
}

// kill sends SIGKILL to redis-server and reaps it.
func (r *redisServer) kill() {
	r.t.Helper()
	if err := r.cmd.Process.Kill(); err != nil {
		r.t.Fatalf("kill redis-server: %v", err)
	}
	err := r.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		r.t.Fatalf("wait for redis-server: %v", err)
	}
}

// scimUserFor is the SCIM record Entra provisioning creates for an Entra
// user: externalId is the object ID.
func scimUserFor(objectID, email string) scim.User {
	return scim.User{ExternalID: objectID, UserName: email,
		Emails: []scim.Email{{Value: email, Type: "work", Primary: true}}}
}
