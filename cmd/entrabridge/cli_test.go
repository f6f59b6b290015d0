package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore/redistest"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// cli runs one entrabridge subcommand with the process's environment and
// returns its output and exit code.
func (b *process) cli(args ...string) (string, int) {
	b.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = b.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), exit.ExitCode()
	}
	if err != nil {
		b.t.Fatalf("run entrabridge %v: %v", args, err)
	}
	return out.String(), 0
}

func TestMappingBootstrap(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	for i := range 250 {
		b.scim.AddUser(scim.User{ExternalID: userID(1000 + i), UserName: fmt.Sprintf("u%d@contoso.com", i)})
	}
	b.scim.AddUser(scim.User{UserName: "no-external-id@contoso.com"})
	b.scim.AddUser(scim.User{ExternalID: "alex@contoso.com", UserName: "alex@contoso.com"})
	twin1 := b.scim.AddUser(scim.User{ExternalID: userID(5000), UserName: "twin1@contoso.com"})
	b.scim.AddUser(scim.User{ExternalID: userID(5000), UserName: "twin2@contoso.com"})

	out, code := b.cli("mapping", "bootstrap")
	if code != 0 {
		t.Fatalf("bootstrap exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, "scanned 254 SCIM users: 250 mapped, 0 already mapped, 4 not matched") {
		t.Errorf("bootstrap summary wrong:\n%s", out)
	}
	for _, want := range []string{"no externalId", `externalId "alex@contoso.com" is not an Entra object ID`,
		"is the externalId of 2 SCIM users"} {
		if !strings.Contains(out, want) {
			t.Errorf("bootstrap report lacks %q:\n%s", want, out)
		}
	}
	if out, _ := b.cli("mapping", "get", userID(5000)); !strings.Contains(out, "no mapping") {
		t.Errorf("ambiguous object ID %s was mapped (twin %s): %s", userID(5000), twin1.ID, out)
	}
	export, code := b.cli("mapping", "export")
	if code != 0 {
		t.Fatalf("export exited %d: %s", code, export)
	}
	if rows := strings.Count(strings.TrimSpace(export), "\n"); rows != 250 {
		t.Errorf("export has %d rows after the header, want 250", rows)
	}

	out, _ = b.cli("mapping", "bootstrap")
	if !strings.Contains(out, "0 mapped, 250 already mapped") {
		t.Errorf("second bootstrap should keep every mapping:\n%s", out)
	}
}

func TestMappingImport(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("objectId,scimUserId\n"+userID(1)+",scim-1\n"+userID(2)+", scim-2\n"), 0o600)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(userID(3)+",scim-3\nnot-a-guid,scim-4\n"), 0o600)

	if out, code := b.cli("mapping", "import", good); code != 0 || !strings.Contains(out, "imported 2 mappings") {
		t.Fatalf("import exited %d: %s", code, out)
	}
	if out, _ := b.cli("mapping", "get", userID(2)); strings.TrimSpace(out) != "scim-2" {
		t.Errorf("mapping get = %q, want scim-2", out)
	}
	out, code := b.cli("mapping", "import", bad)
	if code == 0 || !strings.Contains(out, "line 2") {
		t.Errorf("bad import exited %d, want an error naming line 2: %s", code, out)
	}
	if out, _ := b.cli("mapping", "get", userID(3)); !strings.Contains(out, "no mapping") {
		t.Errorf("a rejected file must import nothing, got %q", out)
	}
}

func TestDryRunAudits(t *testing.T) {
	b := newProcess(t, redistest.URL(t), "DRY_RUN=true")
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	b.start()

	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	if status, body := b.notify(testClientState, userID(1)); status != http.StatusAccepted {
		t.Fatalf("got %d %s, want 202", status, body)
	}
	b.eventually("a dry-run audit entry", func() bool {
		out, _ := b.cli("audit", "--user", userID(1))
		return strings.Contains(out, "dry_run")
	})
	out, _ := b.cli("audit", "--user", userID(1), "--since", "1h")
	if !strings.Contains(out, "ada@contoso.com → ada.lovelace@contoso.com") {
		t.Errorf("audit lacks before → after:\n%s", out)
	}
	if got := b.scim.Patches(rec); got != 0 {
		t.Errorf("dry run sent %d PATCH requests, want 0", got)
	}
}

func TestConfigCheck(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	b.user(userID(1), "ada@contoso.com", "ada@contoso.com")

	out, code := b.cli("config", "check")
	if code != 0 {
		t.Fatalf("config check exited %d:\n%s", code, out)
	}
	for _, want := range []string{"ok    configuration", "ok    redis", "ok    entra token", "ok    graph read", "ok    scim"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	receiverOnly := append(slices.Clone(b.env), "ATLASSIAN_SCIM_URL=", "ATLASSIAN_SCIM_TOKEN=", "AZURE_CLIENT_SECRET=")
	saved := b.env
	b.env = receiverOnly
	if out, code := b.cli("config", "check", "--roles", "receiver"); code != 0 {
		t.Errorf("receiver-only check without SCIM and Azure settings exited %d:\n%s", code, out)
	}
	b.env = saved

	b.env = append(b.env, "ATLASSIAN_SCIM_TOKEN=wrong-token")
	out, code = b.cli("config", "check")
	if code == 0 {
		t.Errorf("config check with a wrong SCIM token exited 0:\n%s", out)
	}
	if !strings.Contains(out, "FAIL  scim") || !strings.Contains(out, "fix: ") {
		t.Errorf("output does not name the broken dependency and its fix:\n%s", out)
	}
	if strings.Contains(out, "FAIL  redis") || strings.Contains(out, "FAIL  graph") {
		t.Errorf("healthy dependencies reported as failed:\n%s", out)
	}

	b.env = append(b.env, "DEBOUNCE=soon")
	out, code = b.cli("config", "check")
	if code == 0 || !strings.Contains(out, "DEBOUNCE") {
		t.Errorf("invalid DEBOUNCE: exit %d, output must name the variable:\n%s", code, out)
	}
}

func TestHealthcheck(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	b.start()
	if out, code := b.cli("healthcheck", "--url", b.base+"/healthz"); code != 0 {
		t.Errorf("healthcheck exited %d: %s", code, out)
	}
	b.stop()
	if _, code := b.cli("healthcheck", "--url", b.base+"/healthz"); code == 0 {
		t.Error("healthcheck exited 0 with the bridge stopped")
	}
}

func TestSyncFixesUserOutOfStepBeforeBaseline(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	rec := b.user(userID(1), "ada@contoso.com", "ada@contoso.com")
	// Renamed before the bridge recorded its baseline: the baseline holds
	// the new name, so notifications alone change nothing.
	b.rename(userID(1), "ada.lovelace@contoso.com", "ada.lovelace@contoso.com")
	if out, code := b.cli("resync"); code != 0 {
		t.Fatalf("resync exited %d: %s", code, out)
	}
	b.start()
	if status, _ := b.notify(testClientState, userID(1)); status != http.StatusAccepted {
		t.Fatalf("notify: got %d, want 202", status)
	}
	time.Sleep(time.Second)
	if got := b.scim.Patches(rec); got != 0 {
		t.Fatalf("got %d PATCH requests before sync, want 0 (the baseline hides the drift)", got)
	}

	if out, code := b.cli("sync", userID(1)); code != 0 || !strings.Contains(out, "queued 1 users") {
		t.Fatalf("sync exited %d: %s", code, out)
	}
	b.eventually("the drift to be fixed", func() bool {
		return b.scimUser(rec).UserName == "ada.lovelace@contoso.com"
	})
	if out, code := b.cli("sync", "not-a-guid"); code == 0 || !strings.Contains(out, "not an Entra object ID") {
		t.Errorf("sync with a bad ID exited %d: %s", code, out)
	}
}

func TestOpsListenerSeparatesMetricsAndAdmin(t *testing.T) {
	b := newProcess(t, redistest.URL(t))
	ops := freeAddr(t)
	b.env = append(b.env, "OPS_LISTEN_ADDR="+ops, "ADMIN_TOKEN=admin-token-must-not-leak-0123456789abcdef")
	b.start()

	status := func(url string, header ...string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("get %s: %v", url, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(b.base + "/metrics"); got != http.StatusNotFound {
		t.Errorf("/metrics on LISTEN_ADDR: got %d, want 404", got)
	}
	if got := status("http://" + ops + "/metrics"); got != http.StatusOK {
		t.Errorf("/metrics on OPS_LISTEN_ADDR: got %d, want 200", got)
	}
	if got := status(b.base+"/admin", "Authorization", "Bearer admin-token-must-not-leak-0123456789abcdef"); got != http.StatusNotFound {
		t.Errorf("/admin on LISTEN_ADDR: got %d, want 404", got)
	}
	if got := status("http://"+ops+"/admin", "Authorization", "Bearer admin-token-must-not-leak-0123456789abcdef"); got != http.StatusOK {
		t.Errorf("/admin on OPS_LISTEN_ADDR: got %d, want 200", got)
	}
	if code := b.stop(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	if strings.Contains(b.logs.String(), "admin-token-must-not-leak") {
		t.Error("log contains the admin token")
	}
}
