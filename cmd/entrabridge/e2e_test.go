package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/fake/fakeentra"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// binary is the entrabridge executable the black-box tests run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "entrabridge-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "entrabridge")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build entrabridge:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testTenant      = "e51f0faa-edf2-4939-9a3e-34f9e953ccaf"
	testClientID    = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
	testSecret      = "client-secret-must-not-leak-Zq81"
	testSCIMToken   = "scim-token-must-not-leak-Hw27"
	testClientState = "client-state-must-not-leak-Pk55"
)

// process is a running `entrabridge serve` with its fakes.
type process struct {
	t     *testing.T
	entra *fakeentra.Server
	graph *fakegraph.Server
	scim  *fakescim.Server
	env   []string
	base  string
	cmd   *exec.Cmd
	logs  *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newProcess starts the fakes and returns a process ready to start. extra
// environment variables override the defaults.
func newProcess(t *testing.T, redisURL string, extra ...string) *process {
	t.Helper()
	entra, err := fakeentra.Start()
	if err != nil {
		t.Fatalf("start fake entra: %v", err)
	}
	t.Cleanup(entra.Close)
	entra.AddClient(testTenant, testClientID, testSecret)
	graph, err := fakegraph.Start(fakegraph.Options{Authorize: entra.ValidToken})
	if err != nil {
		t.Fatalf("start fake graph: %v", err)
	}
	t.Cleanup(graph.Close)
	sc, err := fakescim.Start(fakescim.Options{Token: testSCIMToken})
	if err != nil {
		t.Fatalf("start fake scim: %v", err)
	}
	t.Cleanup(sc.Close)

	certFile := filepath.Join(t.TempDir(), "fakes.pem")
	if err := os.WriteFile(certFile, entra.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"SSL_CERT_FILE=" + certFile,
		"LISTEN_ADDR=" + addr,
		"REDIS_URL=" + redisURL,
		"REDIS_KEY_PREFIX=" + redistest.Prefix(t, redisURL),
		"GRAPH_BASE_URL=" + graph.BaseURL(),
		"GRAPH_CLIENT_STATE=" + testClientState,
		"AZURE_TENANT_ID=" + testTenant,
		"AZURE_CLIENT_ID=" + testClientID,
		"AZURE_CLIENT_SECRET=" + testSecret,
		"AZURE_AUTHORITY_HOST=" + entra.AuthorityHost(),
		"ATLASSIAN_SCIM_URL=" + sc.BaseURL(),
		"ATLASSIAN_SCIM_TOKEN=" + testSCIMToken,
		"DEBOUNCE=200ms",
		"LOG_LEVEL=debug",
		"LOG_USER_DETAILS=false",
	}
	env = append(env, extra...)
	return &process{t: t, entra: entra, graph: graph, scim: sc, env: env,
		base: "http://" + addr, logs: &syncBuffer{}}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `entrabridge serve` and waits until /healthz responds 200.
func (b *process) start() {
	b.t.Helper()
	b.cmd = exec.Command(binary, "serve")
	b.cmd.Env = b.env
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	if err := b.cmd.Start(); err != nil {
		b.t.Fatalf("start entrabridge: %v", err)
	}
	cmd := b.cmd
	b.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	b.eventually("process to answer /healthz", func() bool {
		resp, err := http.Get(b.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// stop sends SIGTERM and returns the exit code.
func (b *process) stop() int {
	b.t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	err := b.cmd.Wait()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode()
	}
	if err != nil {
		b.t.Fatalf("wait for entrabridge: %v", err)
	}
	return 0
}

func (b *process) eventually(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s; process log:\n%s", what, b.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// user creates a user in the fake Graph and its SCIM record, linked by
// externalId as Entra provisioning links them.
func (b *process) user(id, upn, mail string) string {
	b.graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: upn, Mail: mail, AccountEnabled: true})
	email := mail
	if email == "" {
		email = upn
	}
	return b.scim.AddUser(scim.User{ExternalID: id, UserName: upn,
		Emails: []scim.Email{{Value: email, Type: "work", Primary: true}}}).ID
}

func (b *process) rename(id, upn, mail string) {
	b.graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: upn, Mail: mail, AccountEnabled: true})
}

// post sends a notification body and returns the status and body.
func (b *process) post(path string, body []byte) (int, string) {
	b.t.Helper()
	resp, err := http.Post(b.base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		b.t.Fatalf("post %s: %v", path, err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(reply)
}

func (b *process) notify(clientState string, ids ...string) (int, string) {
	b.t.Helper()
	return b.post("/webhooks/graph", notificationBody(clientState, ids...))
}

func notificationBody(clientState string, ids ...string) []byte {
	items := make([]map[string]any, len(ids))
	for i, id := range ids {
		items[i] = map[string]any{
			"subscriptionId": "8cd129ff-8499-432a-969c-6bfe388c3c3c",
			"changeType":     "updated",
			"clientState":    clientState,
			"resource":       "Users/" + id,
			"resourceData": map[string]any{
				"@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/" + id, "id": id,
				"organizationId": testTenant, "sequenceNumber": json.Number("638746176301234567"),
			},
			"tenantId": "",
		}
	}
	body, _ := json.Marshal(map[string]any{"value": items})
	return body
}

func (b *process) scimUser(id string) scim.User {
	u, _ := b.scim.User(id)
	return u
}

func emailOf(u scim.User) string {
	e, _ := u.WorkEmail()
	return e.Value
}

func userID(n int) string { return fmt.Sprintf("7d1e2a3b-0000-4000-8000-%012d", n) }

func TestServeSyncsRenames(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	plain := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	noMail := b.user(userID(2), "brian@contoso.com", "")
	quote := b.user(userID(3), "ciara.o'neil@contoso.com", "ciara.o'neil@contoso.com")
	guest := b.user(userID(4), "dev_fabrikam.com#EXT#@contoso.onmicrosoft.com", "dev@fabrikam.com")
	same := b.user(userID(5), "erin@contoso.com", "erin@contoso.com")
	b.start()

	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	b.rename(userID(2), "brian.k@contoso.com", "")
	b.rename(userID(3), "ciara.o'neill@contoso.com", "ciara.o'neill@contoso.com")
	b.rename(userID(4), "dev.r_fabrikam.com#EXT#@contoso.onmicrosoft.com", "dev.r@fabrikam.com")
	if status, body := b.notify(testClientState, userID(1), userID(2), userID(3), userID(4), userID(5)); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}

	want := map[string][2]string{
		plain:  {"ada.lovelace@contoso.com", "ada.lovelace@contoso.com"},
		noMail: {"brian.k@contoso.com", "brian.k@contoso.com"},
		quote:  {"ciara.o'neill@contoso.com", "ciara.o'neill@contoso.com"},
		guest:  {"dev.r_fabrikam.com#EXT#@contoso.onmicrosoft.com", "dev.r@fabrikam.com"},
		same:   {"erin@contoso.com", "erin@contoso.com"},
	}
	for id, w := range want {
		b.eventually("scim user "+id+" to hold "+w[0], func() bool {
			u := b.scimUser(id)
			return u.UserName == w[0] && emailOf(u) == w[1]
		})
	}
	// Leave time for any unexpected PATCH to arrive before counting.
	time.Sleep(time.Second)
	for id := range want {
		wantPatches := 1
		if id == same {
			wantPatches = 0
		}
		if got := b.scim.Patches(id); got != wantPatches {
			t.Errorf("scim user %s got %d PATCH requests, want %d", id, got, wantPatches)
		}
	}
	for _, r := range b.scim.Requests() {
		if r.Method == http.MethodPut || r.Method == http.MethodDelete {
			t.Errorf("process sent %s %s; it must only PATCH", r.Method, r.Path)
		}
	}
	metrics := b.get("/metrics")
	for _, want := range []string{
		`entrabridge_notifications_accepted_total{endpoint="changes",kind="change"} 5`,
		`entrabridge_syncs_total{result="synced"} 4`,
		`entrabridge_syncs_total{result="unchanged"} 1`,
		`entrabridge_queue_users{state="in_flight"} 0`,
		`entrabridge_http_client_request_duration_seconds_count{method="PATCH"`,
		`entrabridge_sync_lag_seconds_count 5`,
		// One request with five users is one write in one round trip.
		`entrabridge_queue_writes_total 1`,
		`entrabridge_queue_write_round_trips_total 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code := b.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	assertNoSecrets(t, b.logs.String())
	// LOG_USER_DETAILS=false: object IDs only, no names or addresses.
	for _, detail := range []string{"ada.lovelace@contoso.com", "ciara.o'neill@contoso.com", "dev.r@fabrikam.com"} {
		if strings.Contains(b.logs.String(), detail) {
			t.Errorf("log contains %q although LOG_USER_DETAILS=false", detail)
		}
	}
}

func (b *process) get(path string) string {
	b.t.Helper()
	resp, err := http.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("get %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func TestServeRejectsBadInput(t *testing.T) {
	b := newProcess(t, redistest.URL(t), "MAX_BODY_BYTES=65536")
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.start()

	token := "Validation: Testing client application reachability for subscription Request-Id: 3b3f+%/é <b>&"
	resp, err := http.Post(b.base+"/webhooks/graph?validationToken="+url.QueryEscape(token), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	echo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(echo) != token {
		t.Errorf("handshake got %d %q, want 200 %q", resp.StatusCode, echo, token)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("handshake Content-Type = %q, want text/plain", ct)
	}

	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	cases := []struct {
		name   string
		body   []byte
		status int
	}{
		{"wrong client state", notificationBody("not-the-secret", userID(1)), http.StatusBadRequest},
		{"malformed json", []byte(`{"value":[{"changeType":`), http.StatusBadRequest},
		{"no value array", []byte(`{"changeType":"updated"}`), http.StatusBadRequest},
		{"oversized body", bytes.Repeat([]byte("x"), 70000), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := b.post("/webhooks/graph", tc.body)
			if status != tc.status {
				t.Errorf("got %d, want %d", status, tc.status)
			}
			var reply struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &reply); err != nil || reply.Error == "" {
				t.Errorf("body %q has no JSON error saying what is wrong", body)
			}
		})
	}
	time.Sleep(time.Second)
	if got := b.scim.Patches(rec); got != 0 {
		t.Errorf("rejected requests caused %d PATCH requests, want 0", got)
	}
	if status, _ := b.notify(testClientState, userID(1)); status != http.StatusAccepted {
		t.Fatalf("valid notification after bad input: got %d, want 202", status)
	}
	b.eventually("rename after bad input", func() bool {
		return b.scimUser(rec).UserName == "ada.lovelace@contoso.com"
	})
	assertNoSecrets(t, b.logs.String())
}

func TestServeBatchOfTwentyUsers(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	ids := make([]string, 20)
	recs := make([]string, 20)
	for i := range ids {
		ids[i] = userID(100 + i)
		recs[i] = b.user(ids[i], fmt.Sprintf("user%d@contoso.com", i), fmt.Sprintf("user%d@contoso.com", i))
		b.rename(ids[i], fmt.Sprintf("user%d.new@contoso.com", i), fmt.Sprintf("user%d.new@contoso.com", i))
	}
	b.start()

	if status, body := b.notify(testClientState, ids...); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}
	for i, rec := range recs {
		want := fmt.Sprintf("user%d.new@contoso.com", i)
		b.eventually(rec+" to be renamed", func() bool { return b.scimUser(rec).UserName == want })
	}
}

// TestServeAnswers503WithoutRedis cuts the process's connection to Redis
// with a proxy and checks that it never acknowledges what it could not
// store.
func TestServeAnswers503WithoutRedis(t *testing.T) {
	redisURL := redistest.URL(t)
	proxy := startProxy(t, redisURL)
	b := newProcess(t, proxy.url(redisURL), "SHUTDOWN_TIMEOUT=2s")
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.start()

	proxy.cut()
	for range 5 {
		status, body := b.notify(testClientState, userID(1))
		if status == http.StatusAccepted {
			t.Fatalf("got 202 while Redis is unreachable: %s", body)
		}
		if status != http.StatusServiceUnavailable {
			t.Errorf("got %d %s, want 503", status, body)
		}
	}
	resp, err := http.Get(b.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz got %d without Redis, want 503", resp.StatusCode)
	}

	proxy.restore()
	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	b.eventually("202 once Redis is back", func() bool {
		status, _ := b.notify(testClientState, userID(1))
		return status == http.StatusAccepted
	})
	b.eventually("rename once Redis is back", func() bool {
		return b.scimUser(rec).UserName == "ada.lovelace@contoso.com"
	})
}

func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err := run(ctx, []string{"demo", "--payloads", filepath.Join("..", "..", "testdata", "notifications")},
		map[string]string{}, &out, &errOut)
	if err != nil {
		t.Fatalf("demo failed: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "every expected change reached Atlassian") {
		t.Errorf("demo output lacks its verdict:\n%s", out.String())
	}
}

// assertNoSecrets fails when a secret configured for the process appears in
// its log.
func assertNoSecrets(t *testing.T, logs string) {
	t.Helper()
	for _, secret := range []string{testSecret, testSCIMToken, testClientState} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains the secret %q", secret)
		}
	}
	if !strings.Contains(logs, "worker started") {
		t.Errorf("log looks empty or truncated, so the secret scan proves nothing:\n%s", logs)
	}
}
