// Package infra_test checks the Compose and Azure deployment files against
// the variables the bridge reads. The Kubernetes manifests have their own
// test in infra/k8s.
package infra_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/entrabridge/entrabridge/internal/config"
)

// TestComposeEnvListsEveryVariable checks that compose.env.example names
// every variable the bridge reads, once each, and nothing else.
func TestComposeEnvListsEveryVariable(t *testing.T) {
	env := readEnvFile(t, "compose.env.example")

	for _, v := range config.Variables {
		if _, ok := env[v.Name]; !ok {
			t.Errorf("compose.env.example lacks %s", v.Name)
		}
	}
	for name := range env {
		if !config.Known(name) {
			t.Errorf("compose.env.example sets %s, which is not in config.Variables", name)
		}
	}
}

// TestComposeEnvSecretsBlank checks that the example contains no secret
// value except a REDIS_URL without a password.
func TestComposeEnvSecretsBlank(t *testing.T) {
	env := readEnvFile(t, "compose.env.example")
	for _, v := range config.Variables {
		value := env[v.Name]
		if !v.Secret || value == "" {
			continue
		}
		if v.Name == "REDIS_URL" && !strings.Contains(value, "@") {
			continue
		}
		t.Errorf("compose.env.example sets secret %s to %q, want it blank", v.Name, value)
	}
}

// TestComposeEnvLoads checks that the example's values parse once the
// blank secrets are filled in.
func TestComposeEnvLoads(t *testing.T) {
	env := readEnvFile(t, "compose.env.example")
	env["GRAPH_CLIENT_STATE"] = "placeholder"
	env["ATLASSIAN_SCIM_TOKEN"] = "placeholder"

	cfg, err := config.Load(env)
	if err != nil {
		t.Fatalf("config.Load of compose.env.example: %v", err)
	}
	if cfg.RedisURL != "redis://redis:6379/0" {
		t.Errorf("got REDIS_URL %q, want the redis service of compose.yaml", cfg.RedisURL)
	}
}

// TestComposeFile checks the settings of compose.yaml that the bridge
// relies on: AOF persistence, the env file, the roles and a stop grace
// period longer than SHUTDOWN_TIMEOUT.
func TestComposeFile(t *testing.T) {
	var compose composeFile
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("parse compose.yaml: %v", err)
	}
	redis, ok := compose.Services["redis"]
	if !ok {
		t.Fatal("compose.yaml has no redis service")
	}
	bridge, ok := compose.Services["entrabridge"]
	if !ok {
		t.Fatal("compose.yaml has no entrabridge service")
	}

	t.Run("redis persistence", func(t *testing.T) {
		if got := flagValue(redis.Command, "--appendonly"); got != "yes" {
			t.Errorf("got --appendonly %q in %q, want yes", got, redis.Command)
		}
		// "no" leaves fsync to the kernel, which can lose far more than
		// the second that everysec risks.
		if got := flagValue(redis.Command, "--appendfsync"); got != "everysec" && got != "always" {
			t.Errorf("got --appendfsync %q in %q, want everysec or always", got, redis.Command)
		}
		if len(redis.Volumes) == 0 {
			t.Error("got no volume on the redis service, want one for /data")
		}
	})
	t.Run("env file", func(t *testing.T) {
		if !slices.Equal(bridge.EnvFile, []string{"compose.env"}) {
			t.Errorf("got env_file %q, want [compose.env]", bridge.EnvFile)
		}
		ignored, err := os.ReadFile(".gitignore")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Fields(string(ignored)), "compose.env") {
			t.Errorf("infra/.gitignore does not list compose.env, which holds secrets")
		}
	})
	t.Run("roles", func(t *testing.T) {
		want := []string{"serve"}
		if !slices.Equal(bridge.Command, want) {
			t.Errorf("got command %q, want %q", bridge.Command, want)
		}
	})
	t.Run("health checks", func(t *testing.T) {
		if len(redis.Healthcheck.Test) == 0 || len(bridge.Healthcheck.Test) == 0 {
			t.Errorf("got health checks %q and %q, want both services checked",
				redis.Healthcheck.Test, bridge.Healthcheck.Test)
		}
		if !slices.Contains(bridge.Healthcheck.Test, "healthcheck") {
			t.Errorf("got bridge health check %q, want `entrabridge healthcheck`", bridge.Healthcheck.Test)
		}
	})
	t.Run("stop grace period", func(t *testing.T) {
		grace, err := time.ParseDuration(bridge.StopGracePeriod)
		if err != nil {
			t.Fatalf("stop_grace_period %q: %v", bridge.StopGracePeriod, err)
		}
		shutdown := defaultDuration(t, "SHUTDOWN_TIMEOUT")
		if grace <= shutdown {
			t.Errorf("got stop_grace_period %s, want more than SHUTDOWN_TIMEOUT %s", grace, shutdown)
		}
	})
}

// bicepEnvName matches an environment variable entry of a container in
// main.bicep: upper-case names are variables, Container Apps and Key Vault
// secret names are lower case.
var bicepEnvName = regexp.MustCompile(`^\s*name: '([A-Z][A-Z0-9_]*)'\s*$`)

// TestBicepEnvNames checks that every environment variable main.bicep
// sets is one the bridge reads, and that secrets come from secretRef.
func TestBicepEnvNames(t *testing.T) {
	f, err := os.Open("azure/main.bicep")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var names []string
	var pending string // variable whose value line comes next
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if pending != "" {
			if isSecret(pending) && !strings.HasPrefix(text, "secretRef:") {
				t.Errorf("main.bicep line %d: secret %s is set by %q, want a secretRef", line, pending, text)
			}
			pending = ""
		}
		if m := bicepEnvName.FindStringSubmatch(scanner.Text()); m != nil {
			names = append(names, m[1])
			pending = m[1]
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}

	if len(names) == 0 {
		t.Fatal("found no environment variables in main.bicep")
	}
	for _, name := range names {
		if !config.Known(name) {
			t.Errorf("main.bicep sets %s, which is not in config.Variables", name)
		}
	}
	for _, want := range []string{"REDIS_URL", "GRAPH_CLIENT_STATE", "ATLASSIAN_SCIM_TOKEN", "AZURE_USE_MANAGED_IDENTITY"} {
		if !slices.Contains(names, want) {
			t.Errorf("main.bicep does not set %s", want)
		}
	}
}

type composeFile struct {
	Services map[string]composeService `json:"services"`
}

type composeService struct {
	Command     []string `json:"command"`
	EnvFile     []string `json:"env_file"`
	Volumes     []string `json:"volumes"`
	Healthcheck struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	StopGracePeriod string `json:"stop_grace_period"`
}

// readEnvFile reads NAME=value lines, skipping blank lines and comments,
// and fails the test on a malformed or repeated line.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	env := make(map[string]string)
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		if !ok {
			t.Fatalf("%s line %d: got %q, want NAME=value", path, line, text)
		}
		if _, seen := env[name]; seen {
			t.Errorf("%s line %d: %s is set twice", path, line, name)
		}
		env[name] = value
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// flagValue returns the argument after flag in args, or "" when flag is
// missing or last.
func flagValue(args []string, flag string) string {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func isSecret(name string) bool {
	for _, v := range config.Variables {
		if v.Name == name {
			return v.Secret
		}
	}
	return false
}

func defaultDuration(t *testing.T, name string) time.Duration {
	t.Helper()
	for _, v := range config.Variables {
		if v.Name == name {
			d, err := time.ParseDuration(v.Default)
			if err != nil {
				t.Fatalf("default of %s: %v", name, err)
			}
			return d
		}
	}
	t.Fatalf("%s is not in config.Variables", name)
	return 0
}
