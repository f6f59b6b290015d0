package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Variable describes one environment variable the bridge reads.
type Variable struct {
	Name    string
	Default string
	Help    string
	// Secret variables may also be given as NAME_FILE and are never logged.
	Secret bool
}

// Variables lists every environment variable the bridge reads, in the order
// the documentation shows them.
var Variables = []Variable{
	{Name: "LISTEN_ADDR", Default: ":8080", Help: "address the HTTP server listens on"},
	{Name: "OPS_LISTEN_ADDR", Help: "separate address for /metrics and /admin, such as 127.0.0.1:9090; empty serves them on LISTEN_ADDR"},
	{Name: "REDIS_URL", Help: "redis://, rediss:// or unix:// URL of Redis; \"embedded\" runs an in-process Redis that keeps nothing", Secret: true},
	{Name: "REDIS_KEY_PREFIX", Default: "entrabridge", Help: "prefix (Redis Cluster hash tag) of every key"},
	{Name: "GRAPH_BASE_URL", Default: PublicGraphURL, Help: "Microsoft Graph endpoint, including the version"},
	{Name: "GRAPH_CLIENT_STATE", Help: "clientState of the Graph subscription, at most 128 characters; required by the receiver", Secret: true},
	{Name: "GRAPH_CLIENT_STATE_PREVIOUS", Help: "previous clientState, still accepted while a rotation is under way", Secret: true},
	{Name: "GRAPH_NOTIFICATION_URL", Help: "public https URL of the receiver's change endpoint (…/webhooks/graph); the subscription role creates and renews the Graph subscription only when it is set"},
	{Name: "GRAPH_LIFECYCLE_NOTIFICATION_URL", Help: "public https URL for lifecycle notifications; empty means GRAPH_NOTIFICATION_URL + /lifecycle. Graph takes it only when the subscription is created"},
	{Name: "SUBSCRIPTION_RENEW_BEFORE", Default: "504h", Help: "renew the Graph subscription once less than this remains of its 29-day lifetime"},
	{Name: "DELTA_INTERVAL", Default: "30m", Help: "how often the subscription leader runs the Graph users delta query to catch changes no notification reported"},
	{Name: "AZURE_TENANT_ID", Help: "Entra tenant ID"},
	{Name: "AZURE_CLIENT_ID", Help: "client ID of the app registration (or of the managed identity)"},
	{Name: "AZURE_CLIENT_SECRET", Help: "client secret of the app registration", Secret: true},
	{Name: "AZURE_CLIENT_CERTIFICATE_PATH", Help: "PEM or PKCS#12 file with the app's certificate and private key"},
	{Name: "AZURE_CLIENT_CERTIFICATE_PASSWORD", Help: "password of the certificate file", Secret: true},
	{Name: "AZURE_FEDERATED_TOKEN_FILE", Help: "workload identity token file (set by AKS workload identity)"},
	{Name: "AZURE_USE_MANAGED_IDENTITY", Default: "false", Help: "authenticate with the host's managed identity"},
	{Name: "AZURE_AUTHORITY_HOST", Help: "Entra authority host; empty means the public cloud. Instance discovery is disabled for any other host"},
	{Name: "GRAPH_RATE", Default: "50", Help: "Graph requests per second shared by all replicas; 0 means no limit"},
	{Name: "ATLASSIAN_SCIM_URL", Help: "https://api.atlassian.com/scim/directory/<directory id>; required by the worker"},
	{Name: "ATLASSIAN_SCIM_TOKEN", Help: "the directory's API key; required by the worker", Secret: true},
	{Name: "ATLASSIAN_SCIM_RATE", Default: "10", Help: "SCIM requests per second shared by all replicas; 0 means no limit"},
	{Name: "ATLASSIAN_VERIFIED_DOMAINS", Help: "comma-separated email domains the Atlassian organization has verified; empty allows every domain"},
	{Name: "USERNAME_SOURCE", Default: "userPrincipalName", Help: "Graph property copied to SCIM userName: userPrincipalName, mail or unchanged"},
	{Name: "DRY_RUN", Default: "false", Help: "record each PATCH in the audit trail instead of sending it"},
	{Name: "WORKER_CONCURRENCY", Default: "8", Help: "syncs one worker process runs at once"},
	{Name: "DEBOUNCE", Default: "1s", Help: "window in which notifications for one user coalesce into one sync"},
	{Name: "LEASE_DURATION", Default: "60s", Help: "how long a claimed sync stays claimed before another worker may take it"},
	{Name: "BULK_THRESHOLD", Default: "500", Help: "due users that make the worker resolve a batch with one Graph users delta round instead of one read each; 0 turns bulk rounds off"},
	{Name: "BULK_BATCH", Default: "5000", Help: "users one bulk round claims"},
	{Name: "BULK_LAG_ALLOWANCE", Default: "30s", Help: "how long a change may take to show in Graph's users delta; newer notifications are checked again after it"},
	{Name: "MAX_ATTEMPTS", Default: "10", Help: "failed attempts of one sync before it is dead-lettered"},
	{Name: "MAX_RETRY_AGE", Default: "24h", Help: "time since the first failure after which a sync is dead-lettered"},
	{Name: "INBOX_RETENTION", Default: "72h", Help: "how long accepted notifications stay available to replay --since"},
	{Name: "MAX_BODY_BYTES", Default: "1048576", Help: "largest accepted notification body, in bytes"},
	{Name: "SHUTDOWN_TIMEOUT", Default: "20s", Help: "how long shutdown waits for in-flight requests and syncs"},
	{Name: "ADMIN_TOKEN", Help: "token that opens the admin page at /admin; empty disables the page. Use at least 32 random bytes", Secret: true},
	{Name: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
	{Name: "LOG_FORMAT", Default: "auto", Help: "json, text, or auto (text on a terminal, JSON otherwise)"},
	{Name: "LOG_USER_DETAILS", Default: "false", Help: "log userPrincipalName and mail; otherwise only object IDs"},
}

// Known reports whether name is a variable the bridge reads, directly or
// as its NAME_FILE form.
func Known(name string) bool {
	for _, v := range Variables {
		if v.Name == name || (v.Secret && v.Name+"_FILE" == name) {
			return true
		}
	}
	return false
}

func isSecret(name string) bool {
	for _, v := range Variables {
		if v.Name == name {
			return v.Secret
		}
	}
	return false
}

// reader looks up variables with their defaults and collects parse errors.
type reader struct {
	env  map[string]string
	errs []error
	// failed names the variables whose value could not be parsed.
	failed map[string]bool
}

func (r *reader) str(name string) string {
	if v, ok := r.env[name]; ok && v != "" {
		return v
	}
	if path := r.env[name+"_FILE"]; path != "" && isSecret(name) {
		b, err := os.ReadFile(path)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("%s_FILE: %w", name, err))
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	for _, v := range Variables {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: undeclared variable " + name)
}

func (r *reader) parse(name, want string, parse func(string) error) {
	raw := r.str(name)
	if raw == "" {
		return
	}
	if err := parse(raw); err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s %q is invalid: want %s", name, raw, want))
		if r.failed == nil {
			r.failed = map[string]bool{}
		}
		r.failed[name] = true
	}
}

func (r *reader) duration(name string) time.Duration {
	var d time.Duration
	r.parse(name, "a duration such as 500ms, 30s or 2h", func(s string) (err error) {
		d, err = time.ParseDuration(s)
		return err
	})
	return d
}

func (r *reader) integer(name string) int {
	var n int
	r.parse(name, "a whole number", func(s string) (err error) {
		n, err = strconv.Atoi(s)
		return err
	})
	return n
}

func (r *reader) int64(name string) int64 {
	var n int64
	r.parse(name, "a whole number", func(s string) (err error) {
		n, err = strconv.ParseInt(s, 10, 64)
		return err
	})
	return n
}

func (r *reader) float(name string) float64 {
	var f float64
	r.parse(name, "a number", func(s string) (err error) {
		f, err = strconv.ParseFloat(s, 64)
		return err
	})
	return f
}

func (r *reader) boolean(name string) bool {
	var b bool
	r.parse(name, "true or false", func(s string) (err error) {
		b, err = strconv.ParseBool(s)
		return err
	})
	return b
}

func (r *reader) list(name string) []string {
	var out []string
	for _, item := range strings.Split(r.str(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
