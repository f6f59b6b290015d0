package admin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/entrabridge/entrabridge/internal/admin"
	"github.com/entrabridge/entrabridge/internal/bridge"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser session, start-up included.
const browserTimeout = 90 * time.Second

// requireChromium returns the browser's path. It skips the test when the
// browser is missing, except with CI=true, where a missing browser fails.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found at %s (%v); CI=true requires it: apt-get install -y chromium", chromiumPath, err)
		}
		t.Skipf("chromium not found at %s; install it with apt-get install -y chromium", chromiumPath)
	}
	return chromiumPath
}

// startBrowser starts headless chromium with a fresh profile and returns a
// context for one tab. The browser stops when the test ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	t.Cleanup(cancel)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(requireChromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	return tabCtx
}

// screenshotPath returns ADMIN_SCREENSHOT, or a file in t.TempDir().
func screenshotPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ADMIN_SCREENSHOT"); p != "" {
		return p
	}
	return filepath.Join(t.TempDir(), "admin.png")
}

func TestAdminInBrowser(t *testing.T) {
	requireChromium(t)
	now := time.Now()
	e := startAdmin(t, admin.Config{Token: testToken, LogUserDetails: true}, fixedStatus{
		subscription: admin.SubscriptionStatus{
			ID:              "7f3c1a52-9e0b-4c1e-8d7a-2b6f0c9e1d44",
			NotificationURL: "https://bridge.example.com/webhooks/graph",
			Expires:         now.Add(61 * time.Hour),
			Found:           true,
		},
		delta: admin.DeltaStatus{At: now.Add(-7 * time.Minute), OK: true, Changed: 3, Found: true},
	})
	appendAudit(t, e, bridge.AuditEntry{
		At: now.Add(-3 * time.Minute), UserID: "9f1c2d3e-0000-4000-8000-00000000000a", ScimUserID: "scim-1042",
		BeforeUserName: "jane.doe@old.example.com", AfterUserName: "jane.roe@example.com",
		BeforeEmail: "jane.doe@old.example.com", AfterEmail: "jane.roe@example.com", Result: "patched",
	})
	id := seedDeadLetter(t, e.store, "9f1c2d3e-0000-4000-8000-00000000000b", "scim_conflict",
		"scim: status 409 uniqueness: the address is taken. Fix: another Atlassian account holds this address")
	seedDeadLetter(t, e.store, "9f1c2d3e-0000-4000-8000-00000000000c", "unmapped",
		"no SCIM user has externalId 9f1c2d3e-0000-4000-8000-00000000000c")
	ctx := startBrowser(t)
	row := chromedp.ID("dead-letter-" + id)
	retry := chromedp.CSS(`form[action="/admin/dead-letters/` + id + `/retry"] button`)

	// The page must work without JavaScript, so the tab runs none of the
	// page's scripts. The test's own DevTools queries still run.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled,
		emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/admin")); err != nil {
		t.Fatalf("open /admin: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read location: %v", err)
	}
	if want := e.base + "/admin/login"; location != want {
		t.Fatalf("location after opening /admin: got %s, want %s", location, want)
	}

	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("token"), testToken)); err != nil {
		t.Fatalf("type the token: %v", err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button`)))
	if err != nil {
		t.Fatalf("submit the login form: %v", err)
	}
	if resp.Status != 200 || !strings.HasSuffix(resp.URL, "/admin") {
		t.Fatalf("after login: got %d %s, want 200 %s/admin", resp.Status, resp.URL, e.base)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(row)); err != nil {
		t.Fatalf("dead letter row %s: %v", id, err)
	}

	if _, err := chromedp.RunResponse(ctx, chromedp.Click(retry)); err != nil {
		t.Fatalf("press Retry: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("flash")))
	if err != nil {
		t.Fatalf("read the flash: %v", err)
	}
	if want := "Dead letter " + id + " retried"; !strings.Contains(flash, want) {
		t.Errorf("flash: got %q, want it to contain %q", flash, want)
	}
	rowRemoved, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.getElementById("dead-letter-`+id+`") === null`))
	if err != nil {
		t.Fatalf("look for the retried row: %v", err)
	}
	if !rowRemoved {
		t.Errorf("row of dead letter %s: still shown after Retry, want it gone", id)
	}
	if got := depths(t, e.store).Dead; got != 1 {
		t.Errorf("Depths.Dead after Retry: got %d, want 1", got)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := screenshotPath(t)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
}
