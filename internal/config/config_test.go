package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entrabridge/entrabridge/internal/config"
)

const redisURL = "redis://127.0.0.1:6379/0"

// envWith returns a minimal valid environment, REDIS_URL only, with extra
// variables added or replaced.
func envWith(extra map[string]string) map[string]string {
	env := map[string]string{"REDIS_URL": redisURL}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// problems splits an error from Load or CheckRoles into its joined parts.
func problems(err error) []error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

func load(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	c, err := config.Load(env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "value")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

func TestLoadDefaults(t *testing.T) {
	got := load(t, envWith(nil))
	want := config.Config{
		ListenAddr: ":8080",
		RedisURL:   redisURL,
		KeyPrefix:  "entrabridge",
		Graph:      config.GraphConfig{BaseURL: "https://graph.microsoft.com/v1.0", Rate: 50},
		SCIM:       config.SCIMConfig{Rate: 10},
		Sync: config.SyncConfig{
			BulkThreshold:    500,
			BulkBatch:        5000,
			BulkLagAllowance: 30 * time.Second,
			Concurrency:      8,
			Debounce:         time.Second,
			Lease:            60 * time.Second,
			MaxAttempts:      10,
			MaxRetryAge:      24 * time.Hour,
			UserNameSource:   "userPrincipalName",
		},
		Subscription:    config.SubscriptionConfig{RenewBefore: 504 * time.Hour, DeltaInterval: 30 * time.Minute},
		MaxBodyBytes:    1 << 20,
		LogLevel:        "info",
		LogFormat:       "auto",
		ShutdownTimeout: 20 * time.Second,
		InboxRetention:  72 * time.Hour,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadDefaultsMatchVariables(t *testing.T) {
	env := envWith(nil)
	for _, v := range config.Variables {
		if v.Default != "" {
			env[v.Name] = v.Default
		}
	}
	explicit := load(t, env)
	implicit := load(t, envWith(nil))
	if diff := cmp.Diff(implicit, explicit); diff != "" {
		t.Errorf("config with every default set explicitly differs (-implicit +explicit):\n%s", diff)
	}
}

func TestLoadValues(t *testing.T) {
	got := load(t, envWith(map[string]string{
		"GRAPH_BASE_URL":              "https://graph.microsoft.us/v1.0/",
		"ATLASSIAN_SCIM_URL":          "https://api.atlassian.com/scim/directory/dir-1/",
		"ATLASSIAN_VERIFIED_DOMAINS":  " Contoso.COM, @fabrikam.com ,,",
		"LOG_LEVEL":                   "DEBUG",
		"LOG_FORMAT":                  "JSON",
		"GRAPH_CLIENT_STATE":          "current-state",
		"GRAPH_CLIENT_STATE_PREVIOUS": "previous-state",
		"DRY_RUN":                     "true",
		"ATLASSIAN_SCIM_RATE":         "2.5",
	}))

	if want := "https://graph.microsoft.us/v1.0"; got.Graph.BaseURL != want {
		t.Errorf("got Graph.BaseURL %q, want %q", got.Graph.BaseURL, want)
	}
	if want := "https://api.atlassian.com/scim/directory/dir-1"; got.SCIM.URL != want {
		t.Errorf("got SCIM.URL %q, want %q", got.SCIM.URL, want)
	}
	if diff := cmp.Diff([]string{"contoso.com", "fabrikam.com"}, got.Sync.VerifiedDomains); diff != "" {
		t.Errorf("VerifiedDomains (-want +got):\n%s", diff)
	}
	if got.LogLevel != "debug" {
		t.Errorf("got LogLevel %q, want %q", got.LogLevel, "debug")
	}
	if got.LogFormat != "json" {
		t.Errorf("got LogFormat %q, want %q", got.LogFormat, "json")
	}
	if diff := cmp.Diff([]string{"current-state", "previous-state"}, got.ClientStates); diff != "" {
		t.Errorf("ClientStates (-want +got):\n%s", diff)
	}
	if !got.Sync.DryRun {
		t.Error("got DryRun false, want true")
	}
	if got.SCIM.Rate != 2.5 {
		t.Errorf("got SCIM.Rate %g, want 2.5", got.SCIM.Rate)
	}
}

func TestLoadInvalidValue(t *testing.T) {
	tests := []struct {
		name  string
		value string
		// want is a fragment the message must contain besides the name.
		want string
	}{
		{"REDIS_URL", "http://127.0.0.1:6379", "redis or rediss or unix"},
		{"REDIS_URL", "127.0.0.1:6379", "not a valid URL"},
		{"REDIS_KEY_PREFIX", "a:b", `"a:b"`},
		{"REDIS_KEY_PREFIX", "{tag}", `"{tag}"`},
		{"GRAPH_BASE_URL", "ftp://graph.example/v1.0", "https or http"},
		{"ATLASSIAN_SCIM_URL", "api.atlassian.com/scim", "https or http"},
		{"AZURE_AUTHORITY_HOST", "http://login.example", "https"},
		{"WORKER_CONCURRENCY", "eight", `"eight"`},
		{"WORKER_CONCURRENCY", "0", "1 to 1024"},
		{"WORKER_CONCURRENCY", "1025", "1 to 1024"},
		{"DEBOUNCE", "1", "duration"},
		{"DEBOUNCE", "-1s", "negative"},
		{"LEASE_DURATION", "9s", "at least 10s"},
		{"MAX_ATTEMPTS", "0", "at least 1"},
		{"MAX_RETRY_AGE", "1 day", `"1 day"`},
		{"INBOX_RETENTION", "3d", `"3d"`},
		{"SHUTDOWN_TIMEOUT", "soon", `"soon"`},
		{"ATLASSIAN_SCIM_RATE", "-1", "is invalid"},
		{"ATLASSIAN_SCIM_RATE", "NaN", "is invalid"},
		{"ATLASSIAN_SCIM_RATE", "+Inf", "is invalid"},
		{"MAX_RETRY_AGE", "-1h", "positive duration"},
		{"INBOX_RETENTION", "0s", "positive duration"},
		{"SHUTDOWN_TIMEOUT", "-5s", "positive duration"},
		{"ATLASSIAN_SCIM_RATE", "fast", "a number"},
		{"USERNAME_SOURCE", "upn", "userPrincipalName, mail or unchanged"},
		{"ATLASSIAN_VERIFIED_DOMAINS", "contoso.com,localhost", `"localhost"`},
		{"ATLASSIAN_VERIFIED_DOMAINS", "contoso.com/x", `"contoso.com/x"`},
		{"LOG_FORMAT", "xml", "auto, json or text"},
		{"LOG_LEVEL", "trace", "debug, info, warn or error"},
		{"LOG_USER_DETAILS", "yes please", "true or false"},
		{"DRY_RUN", "maybe", "true or false"},
		{"AZURE_USE_MANAGED_IDENTITY", "2", "true or false"},
		{"MAX_BODY_BYTES", "1023", "at least 1024"},
		{"MAX_BODY_BYTES", "1MB", "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := config.Load(envWith(map[string]string{tt.name: tt.value}))
			got := problems(err)
			if len(got) == 0 {
				t.Fatal("got no problems, want the value rejected")
			}
			if len(got) != 1 {
				t.Errorf("got %d problems %v, want exactly 1", len(got), got)
			}
			for _, p := range got {
				if !strings.HasPrefix(p.Error(), tt.name+" ") {
					t.Errorf("message %q does not start with the variable name %s", p, tt.name)
				}
			}
			if msg := got[0].Error(); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestLoadMissingRedisURL(t *testing.T) {
	_, err := config.Load(map[string]string{})
	got := problems(err)
	if len(got) != 1 {
		t.Fatalf("got %d problems %v, want 1", len(got), got)
	}
	if msg := got[0].Error(); !strings.HasPrefix(msg, "REDIS_URL is not set") {
		t.Errorf("got %q, want it to start with %q", msg, "REDIS_URL is not set")
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := config.Load(map[string]string{
		"WORKER_CONCURRENCY": "0",
		"LEASE_DURATION":     "1s",
		"LOG_LEVEL":          "loud",
		"USERNAME_SOURCE":    "email",
	})
	got := problems(err)
	names := []string{"REDIS_URL", "WORKER_CONCURRENCY", "LEASE_DURATION", "LOG_LEVEL", "USERNAME_SOURCE"}
	if len(got) != len(names) {
		t.Errorf("got %d problems, want %d:\n%v", len(got), len(names), err)
	}
	for _, name := range names {
		if !strings.Contains(err.Error(), name+" ") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestLoadRedisEmbedded(t *testing.T) {
	got := load(t, map[string]string{"REDIS_URL": config.Embedded})
	if got.RedisURL != "embedded" {
		t.Errorf("got RedisURL %q, want %q", got.RedisURL, "embedded")
	}
}

func TestLoadRedisURLSchemes(t *testing.T) {
	for _, url := range []string{
		"redis://127.0.0.1:6379/0",
		"rediss://user:pass@redis.example:6380/1",
		"unix:///run/redis/redis.sock",
	} {
		t.Run(url, func(t *testing.T) {
			if got := load(t, map[string]string{"REDIS_URL": url}); got.RedisURL != url {
				t.Errorf("got RedisURL %q, want %q", got.RedisURL, url)
			}
		})
	}
}

func TestLoadRedisPasswordNotInError(t *testing.T) {
	const password = "s3cret-Pa55"
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"wrong scheme", map[string]string{"REDIS_URL": "http://user:" + password + "@redis.example:6379/0"}},
		{"no host", map[string]string{"REDIS_URL": "redis://:" + password + "@/0"}},
		{"from file", map[string]string{"REDIS_URL_FILE": ""}},
		{"invalid port", map[string]string{"REDIS_URL": "redis://:" + password + "@redis:port/0"}},
		{"unclosed bracket", map[string]string{"REDIS_URL": "redis://:" + password + "@[::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.env["REDIS_URL_FILE"]; ok {
				tt.env["REDIS_URL_FILE"] = writeFile(t, "https://:"+password+"@redis.example\n")
			}
			_, err := config.Load(tt.env)
			if err == nil {
				t.Fatal("got nil error, want REDIS_URL rejected")
			}
			if !strings.Contains(err.Error(), "REDIS_URL") {
				t.Errorf("error %q does not name REDIS_URL", err)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestLoadPreviousClientStateAlone(t *testing.T) {
	long := strings.Repeat("p", 129)
	_, err := config.Load(envWith(map[string]string{"GRAPH_CLIENT_STATE_PREVIOUS": long}))
	msg := fmt.Sprint(err)
	if !strings.Contains(msg, "GRAPH_CLIENT_STATE_PREVIOUS is 129 characters long") {
		t.Errorf("error %q does not name GRAPH_CLIENT_STATE_PREVIOUS as too long", msg)
	}
	if !strings.Contains(msg, "GRAPH_CLIENT_STATE_PREVIOUS is set without GRAPH_CLIENT_STATE") {
		t.Errorf("error %q does not reject a previous clientState without a current one", msg)
	}
}

func TestLoadFileOnlyForSecrets(t *testing.T) {
	path := writeFile(t, "127.0.0.1:9999\n")
	cfg, err := config.Load(envWith(map[string]string{"LISTEN_ADDR_FILE": path}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.ListenAddr != ":8080" {
		t.Errorf("LISTEN_ADDR = %q, want the default: only secrets are read from _FILE", cfg.ListenAddr)
	}
}

func TestLoadFromFile(t *testing.T) {
	path := writeFile(t, "  client-secret-value\n\n")
	got := load(t, envWith(map[string]string{"AZURE_CLIENT_SECRET_FILE": path}))
	if got.Graph.ClientSecret != "client-secret-value" {
		t.Errorf("got ClientSecret %q, want %q", got.Graph.ClientSecret, "client-secret-value")
	}
}

func TestLoadValueBeatsFile(t *testing.T) {
	path := writeFile(t, "from-file")
	got := load(t, envWith(map[string]string{
		"ATLASSIAN_SCIM_TOKEN":      "from-env",
		"ATLASSIAN_SCIM_TOKEN_FILE": path,
	}))
	if got.SCIM.Token != "from-env" {
		t.Errorf("got Token %q, want %q", got.SCIM.Token, "from-env")
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent")
	_, err := config.Load(envWith(map[string]string{"ATLASSIAN_SCIM_TOKEN_FILE": path}))
	got := problems(err)
	if len(got) != 1 {
		t.Fatalf("got %d problems %v, want 1", len(got), got)
	}
	msg := got[0].Error()
	if !strings.HasPrefix(msg, "ATLASSIAN_SCIM_TOKEN_FILE") {
		t.Errorf("message %q does not start with ATLASSIAN_SCIM_TOKEN_FILE", msg)
	}
	if !strings.Contains(msg, path) {
		t.Errorf("message %q does not contain the path %s", msg, path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", err)
	}
}

func TestLoadClientStateLength(t *testing.T) {
	atLimit := strings.Repeat("s", 128)
	tooLong := strings.Repeat("t", 129)
	tests := []struct {
		name     string
		env      map[string]string
		wantName string // "" means no error
	}{
		{"current at limit", map[string]string{"GRAPH_CLIENT_STATE": atLimit}, ""},
		{"current too long", map[string]string{"GRAPH_CLIENT_STATE": tooLong}, "GRAPH_CLIENT_STATE"},
		{"previous too long", map[string]string{"GRAPH_CLIENT_STATE": atLimit, "GRAPH_CLIENT_STATE_PREVIOUS": tooLong},
			"GRAPH_CLIENT_STATE_PREVIOUS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(envWith(tt.env))
			got := problems(err)
			if tt.wantName == "" {
				if len(got) != 0 {
					t.Fatalf("got problems %v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d problems %v, want 1", len(got), got)
			}
			msg := got[0].Error()
			if !strings.HasPrefix(msg, tt.wantName+" is 129 characters long") {
				t.Errorf("got %q, want it to start with %q", msg, tt.wantName+" is 129 characters long")
			}
			if strings.Contains(msg, tooLong) {
				t.Errorf("message %q contains the secret", msg)
			}
		})
	}
}

func TestCheckRoles(t *testing.T) {
	secretFile := writeFile(t, "secret")
	worker := map[string]string{
		"ATLASSIAN_SCIM_URL":   "https://api.atlassian.com/scim/directory/dir-1",
		"ATLASSIAN_SCIM_TOKEN": "token",
		"AZURE_TENANT_ID":      "tenant",
		"AZURE_CLIENT_ID":      "client",
		"AZURE_CLIENT_SECRET":  "secret",
	}
	without := func(name string) map[string]string {
		env := map[string]string{}
		for k, v := range worker {
			if k != name {
				env[k] = v
			}
		}
		return env
	}

	tests := []struct {
		name  string
		env   map[string]string
		roles []config.Role
		// want lists a fragment of each expected problem, in order.
		want []string
	}{
		{"no roles", nil, nil, nil},
		{"receiver ready", map[string]string{"GRAPH_CLIENT_STATE": "state"}, []config.Role{config.RoleReceiver}, nil},
		{"receiver without clientState", nil, []config.Role{config.RoleReceiver},
			[]string{"GRAPH_CLIENT_STATE is not set"}},
		{"worker ready", worker, []config.Role{config.RoleWorker}, nil},
		{"worker with secret file", map[string]string{
			"ATLASSIAN_SCIM_URL": worker["ATLASSIAN_SCIM_URL"], "ATLASSIAN_SCIM_TOKEN_FILE": secretFile,
			"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client", "AZURE_CLIENT_SECRET_FILE": secretFile,
		}, []config.Role{config.RoleWorker}, nil},
		{"worker with certificate", map[string]string{
			"ATLASSIAN_SCIM_URL": worker["ATLASSIAN_SCIM_URL"], "ATLASSIAN_SCIM_TOKEN": "token",
			"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client", "AZURE_CLIENT_CERTIFICATE_PATH": "/etc/app.pem",
		}, []config.Role{config.RoleWorker}, nil},
		{"worker with workload identity", map[string]string{
			"ATLASSIAN_SCIM_URL": worker["ATLASSIAN_SCIM_URL"], "ATLASSIAN_SCIM_TOKEN": "token",
			"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client", "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token",
		}, []config.Role{config.RoleWorker}, nil},
		{"worker with managed identity", map[string]string{
			"ATLASSIAN_SCIM_URL": worker["ATLASSIAN_SCIM_URL"], "ATLASSIAN_SCIM_TOKEN": "token",
			"AZURE_USE_MANAGED_IDENTITY": "true",
		}, []config.Role{config.RoleWorker}, nil},
		{"worker without SCIM URL", without("ATLASSIAN_SCIM_URL"), []config.Role{config.RoleWorker},
			[]string{"ATLASSIAN_SCIM_URL is not set"}},
		{"worker without SCIM token", without("ATLASSIAN_SCIM_TOKEN"), []config.Role{config.RoleWorker},
			[]string{"ATLASSIAN_SCIM_TOKEN is not set"}},
		{"worker without tenant", without("AZURE_TENANT_ID"), []config.Role{config.RoleWorker},
			[]string{"AZURE_TENANT_ID is not set"}},
		{"worker without client ID", without("AZURE_CLIENT_ID"), []config.Role{config.RoleWorker},
			[]string{"AZURE_CLIENT_ID is not set"}},
		{"worker without credential", without("AZURE_CLIENT_SECRET"), []config.Role{config.RoleWorker},
			[]string{"no Azure credential"}},
		{"worker with nothing", nil, []config.Role{config.RoleWorker}, []string{
			"ATLASSIAN_SCIM_URL is not set", "ATLASSIAN_SCIM_TOKEN is not set",
			"AZURE_TENANT_ID is not set", "AZURE_CLIENT_ID is not set", "no Azure credential",
		}},
		{"both roles with nothing", map[string]string{"AZURE_USE_MANAGED_IDENTITY": "true"},
			[]config.Role{config.RoleReceiver, config.RoleWorker}, []string{
				"GRAPH_CLIENT_STATE is not set", "ATLASSIAN_SCIM_URL is not set", "ATLASSIAN_SCIM_TOKEN is not set",
			}},
		{"unknown role", nil, []config.Role{"scheduler"}, []string{`unknown role "scheduler"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(t, envWith(tt.env))
			got := problems(c.CheckRoles(tt.roles...))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %v, want %d", len(got), got, len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(got[i].Error(), want) {
					t.Errorf("problem %d is %q, want it to contain %q", i, got[i], want)
				}
			}
		})
	}
}

func TestKnown(t *testing.T) {
	for _, v := range config.Variables {
		t.Run(v.Name, func(t *testing.T) {
			if !config.Known(v.Name) {
				t.Errorf("Known(%q) = false, want true", v.Name)
			}
			if got := config.Known(v.Name + "_FILE"); got != v.Secret {
				t.Errorf("Known(%q) = %v, want %v", v.Name+"_FILE", got, v.Secret)
			}
		})
	}

	unknown := []string{
		"", "PATH", "listen_addr", "REDIS_URL_FILE_FILE", "_FILE", "REDIS", "AZURE_CLIENT_SECRET_PATH",
	}
	for _, name := range unknown {
		t.Run("unknown "+name, func(t *testing.T) {
			if config.Known(name) {
				t.Errorf("Known(%q) = true, want false", name)
			}
		})
	}
}

func TestVariablesSecrets(t *testing.T) {
	// These values must never be logged, and may come from files.
	want := []string{
		"REDIS_URL", "GRAPH_CLIENT_STATE", "GRAPH_CLIENT_STATE_PREVIOUS", "AZURE_CLIENT_SECRET",
		"AZURE_CLIENT_CERTIFICATE_PASSWORD", "ATLASSIAN_SCIM_TOKEN", "ADMIN_TOKEN",
	}
	var got []string
	seen := map[string]bool{}
	for _, v := range config.Variables {
		if seen[v.Name] {
			t.Errorf("variable %s is declared twice", v.Name)
		}
		seen[v.Name] = true
		if v.Help == "" {
			t.Errorf("variable %s has no help text", v.Name)
		}
		if v.Secret {
			got = append(got, v.Name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("secret variables (-want +got):\n%s", diff)
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("ENTRABRIDGE_TEST_VALUE", "a=b=c")
	env := config.Environ()
	if got := env["ENTRABRIDGE_TEST_VALUE"]; got != "a=b=c" {
		t.Errorf("got %q, want %q", got, "a=b=c")
	}
}

func TestLoadPlainHTTPOnlyOnLoopback(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"ATLASSIAN_SCIM_URL", "http://scim.example/scim/directory/abc", false},
		{"ATLASSIAN_SCIM_URL", "http://127.0.0.1:8443/scim/directory/abc", true},
		{"ATLASSIAN_SCIM_URL", "https://api.atlassian.com/scim/directory/abc", true},
		{"GRAPH_BASE_URL", "http://graph.example/v1.0", false},
		{"GRAPH_BASE_URL", "http://localhost:9000/v1.0", true},
		{"GRAPH_BASE_URL", "http://[::1]:9000/v1.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := config.Load(envWith(map[string]string{tt.name: tt.value}))
			if tt.ok && err != nil {
				t.Errorf("got %v, want it accepted", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "cleartext")) {
				t.Errorf("got %v, want plain http rejected for a remote host", err)
			}
		})
	}
}
