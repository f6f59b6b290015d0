// Package config reads the bridge's configuration from environment
// variables, applies defaults and validates it, so that every other package
// receives plain typed values. Every variable is declared once in Variables,
// which also feeds the documentation and the deployment checks.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// PublicGraphURL is the Microsoft Graph v1.0 endpoint of the public cloud.
const PublicGraphURL = "https://graph.microsoft.com/v1.0"

// Embedded is the REDIS_URL value that runs an in-process Redis.
const Embedded = "embedded"

// Config is the validated configuration of one entrabridge process.
type Config struct {
	ListenAddr string
	// OpsListenAddr, when set, serves /metrics and /admin apart from the
	// webhooks.
	OpsListenAddr string
	RedisURL      string
	KeyPrefix     string

	Graph        GraphConfig
	SCIM         SCIMConfig
	Sync         SyncConfig
	Subscription SubscriptionConfig

	// ClientStates are the accepted Graph clientState values: the current
	// one first, then the previous one while a rotation is under way.
	ClientStates []string
	// MaxBodyBytes caps a notification request body.
	MaxBodyBytes int64

	// AdminToken opens the admin page; empty disables it.
	AdminToken string

	LogLevel       string
	LogFormat      string
	LogUserDetails bool
	// ShutdownTimeout bounds how long shutdown waits for in-flight work.
	ShutdownTimeout time.Duration
	// InboxRetention is how long accepted notifications stay available to
	// `replay --since`.
	InboxRetention time.Duration
}

// GraphConfig holds the Microsoft Graph endpoint and the azidentity
// credential settings, under the variable names azidentity itself uses.
type GraphConfig struct {
	BaseURL             string
	TenantID            string
	ClientID            string
	ClientSecret        string
	CertificatePath     string
	CertificatePassword string
	FederatedTokenFile  string
	ManagedIdentity     bool
	AuthorityHost       string
	// Rate is the Graph request rate, in requests per second, shared by
	// every replica. The default of 50 (500 per 10 s) stays well below the
	// smallest identity-and-access quota per app and tenant: 3,500
	// resource units per 10 s for tenants under 50 users
	// (learn.microsoft.com/graph/throttling-limits), and leaves room for
	// the subscription leader's delta rounds. A $batch counts once here
	// but each of its requests counts against Graph's quota; when that
	// quota is reached, Graph's 429 pauses the whole pool.
	Rate float64
}

// SubscriptionConfig holds the Graph subscription and delta settings.
type SubscriptionConfig struct {
	NotificationURL          string
	LifecycleNotificationURL string
	RenewBefore              time.Duration
	DeltaInterval            time.Duration
}

// SCIMConfig holds the Atlassian user-provisioning endpoint and its key.
type SCIMConfig struct {
	URL   string
	Token string
	// Rate is the SCIM request rate, in requests per second, shared by
	// every replica.
	Rate float64
}

// SyncConfig holds the worker's behaviour.
type SyncConfig struct {
	Concurrency int
	Debounce    time.Duration
	Lease       time.Duration
	MaxAttempts int
	MaxRetryAge time.Duration
	DryRun      bool
	// VerifiedDomains are the email domains the Atlassian organization has
	// verified; empty means every domain is allowed.
	VerifiedDomains []string
	// BulkThreshold is how many due users start a bulk round; 0 turns
	// bulk rounds off. The default of 500 is where one delta round, a few
	// requests for the changes since the last round, costs less than
	// reading each user, even at 20 users per $batch (25 requests).
	BulkThreshold int
	// BulkBatch is how many users one bulk round claims.
	BulkBatch int
	// BulkLagAllowance is how long a change may take to show in users
	// delta. NOTE: Graph documents no replication lag for delta; 30 s is
	// an assumption.
	BulkLagAllowance time.Duration
	// UserNameSource is the Graph property copied to SCIM userName:
	// "userPrincipalName", "mail" or "unchanged".
	UserNameSource string
}

// Load builds a Config from env (variable name → value). A variable NAME
// may also be given as NAME_FILE, a path whose trimmed contents are the
// value, which is how secrets mounted as files are read. Load returns every
// problem at once, each naming its variable.
func Load(env map[string]string) (Config, error) {
	r := reader{env: env}
	c := Config{
		ListenAddr:      r.str("LISTEN_ADDR"),
		OpsListenAddr:   r.str("OPS_LISTEN_ADDR"),
		RedisURL:        r.str("REDIS_URL"),
		KeyPrefix:       r.str("REDIS_KEY_PREFIX"),
		MaxBodyBytes:    r.int64("MAX_BODY_BYTES"),
		AdminToken:      r.str("ADMIN_TOKEN"),
		LogLevel:        strings.ToLower(r.str("LOG_LEVEL")),
		LogFormat:       strings.ToLower(r.str("LOG_FORMAT")),
		LogUserDetails:  r.boolean("LOG_USER_DETAILS"),
		ShutdownTimeout: r.duration("SHUTDOWN_TIMEOUT"),
		InboxRetention:  r.duration("INBOX_RETENTION"),
		Graph: GraphConfig{
			BaseURL:             strings.TrimRight(r.str("GRAPH_BASE_URL"), "/"),
			TenantID:            r.str("AZURE_TENANT_ID"),
			ClientID:            r.str("AZURE_CLIENT_ID"),
			ClientSecret:        r.str("AZURE_CLIENT_SECRET"),
			CertificatePath:     r.str("AZURE_CLIENT_CERTIFICATE_PATH"),
			CertificatePassword: r.str("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
			FederatedTokenFile:  r.str("AZURE_FEDERATED_TOKEN_FILE"),
			ManagedIdentity:     r.boolean("AZURE_USE_MANAGED_IDENTITY"),
			AuthorityHost:       r.str("AZURE_AUTHORITY_HOST"),
			Rate:                r.float("GRAPH_RATE"),
		},
		SCIM: SCIMConfig{
			URL:   strings.TrimRight(r.str("ATLASSIAN_SCIM_URL"), "/"),
			Token: r.str("ATLASSIAN_SCIM_TOKEN"),
			Rate:  r.float("ATLASSIAN_SCIM_RATE"),
		},
		Subscription: SubscriptionConfig{
			NotificationURL:          r.str("GRAPH_NOTIFICATION_URL"),
			LifecycleNotificationURL: r.str("GRAPH_LIFECYCLE_NOTIFICATION_URL"),
			RenewBefore:              r.duration("SUBSCRIPTION_RENEW_BEFORE"),
			DeltaInterval:            r.duration("DELTA_INTERVAL"),
		},
		Sync: SyncConfig{
			Concurrency:      r.integer("WORKER_CONCURRENCY"),
			Debounce:         r.duration("DEBOUNCE"),
			Lease:            r.duration("LEASE_DURATION"),
			MaxAttempts:      r.integer("MAX_ATTEMPTS"),
			MaxRetryAge:      r.duration("MAX_RETRY_AGE"),
			DryRun:           r.boolean("DRY_RUN"),
			VerifiedDomains:  r.list("ATLASSIAN_VERIFIED_DOMAINS"),
			UserNameSource:   r.str("USERNAME_SOURCE"),
			BulkThreshold:    r.integer("BULK_THRESHOLD"),
			BulkBatch:        r.integer("BULK_BATCH"),
			BulkLagAllowance: r.duration("BULK_LAG_ALLOWANCE"),
		},
	}
	current, previous := r.str("GRAPH_CLIENT_STATE"), r.str("GRAPH_CLIENT_STATE_PREVIOUS")
	r.errs = append(r.errs, checkClientState("GRAPH_CLIENT_STATE", current)...)
	r.errs = append(r.errs, checkClientState("GRAPH_CLIENT_STATE_PREVIOUS", previous)...)
	if current == "" && previous != "" {
		r.errs = append(r.errs, errors.New("GRAPH_CLIENT_STATE_PREVIOUS is set without GRAPH_CLIENT_STATE: "+
			"set GRAPH_CLIENT_STATE to the new clientState"))
	}
	c.ClientStates = nonEmpty(current, previous)
	for i, d := range c.Sync.VerifiedDomains {
		c.Sync.VerifiedDomains[i] = strings.ToLower(strings.TrimPrefix(d, "@"))
	}
	r.errs = append(r.errs, c.validate(r.failed)...)
	return c, errors.Join(r.errs...)
}

// Role is a part of `serve` that can run on its own.
type Role string

// The roles of `serve`.
const (
	RoleReceiver     Role = "receiver"
	RoleWorker       Role = "worker"
	RoleSubscription Role = "subscription"
)

// CheckRoles reports what the given roles need that c lacks: the receiver
// needs the clientState, the worker needs Graph and SCIM credentials, and
// the subscription role needs the notification URL, the clientState and
// Graph credentials.
func (c Config) CheckRoles(roles ...Role) error {
	var errs []error
	for _, role := range roles {
		switch role {
		case RoleReceiver:
			if len(c.ClientStates) == 0 {
				errs = append(errs, missing("GRAPH_CLIENT_STATE",
					"set it to the clientState of the Graph subscription (at most 128 characters)"))
			}
		case RoleWorker:
			if c.SCIM.URL == "" {
				errs = append(errs, missing("ATLASSIAN_SCIM_URL",
					"set it to https://api.atlassian.com/scim/directory/<directory id>"))
			}
			if c.SCIM.Token == "" {
				errs = append(errs, missing("ATLASSIAN_SCIM_TOKEN",
					"set it to the directory's API key from Atlassian Administration"))
			}
			errs = append(errs, c.checkAzure()...)
		case RoleSubscription:
			if c.Subscription.NotificationURL == "" {
				errs = append(errs, missing("GRAPH_NOTIFICATION_URL",
					"set it to the public https URL of /webhooks/graph"))
			}
			if len(c.ClientStates) == 0 {
				errs = append(errs, missing("GRAPH_CLIENT_STATE",
					"set it to the clientState the subscription is created with (at most 128 characters)"))
			}
			errs = append(errs, c.checkAzure()...)
		default:
			errs = append(errs, fmt.Errorf("unknown role %q: use receiver, worker or subscription", role))
		}
	}
	return errors.Join(errs...)
}

func (c Config) checkAzure() []error {
	var errs []error
	g := c.Graph
	if g.ManagedIdentity {
		return nil
	}
	if g.TenantID == "" {
		errs = append(errs, missing("AZURE_TENANT_ID", "set it to the Entra tenant ID"))
	}
	if g.ClientID == "" {
		errs = append(errs, missing("AZURE_CLIENT_ID", "set it to the app registration's client ID"))
	}
	if g.ClientSecret == "" && g.CertificatePath == "" && g.FederatedTokenFile == "" {
		errs = append(errs, errors.New("no Azure credential: set AZURE_CLIENT_SECRET, "+
			"AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE, "+
			"or AZURE_USE_MANAGED_IDENTITY=true"))
	}
	return errs
}

// validate checks values and ranges. Variables in failed could not be
// parsed and were reported already, so their ranges are not checked.
func (c Config) validate(failed map[string]bool) []error {
	var errs []error
	if c.RedisURL == "" {
		errs = append(errs, missing("REDIS_URL",
			"set it to redis://host:6379/0, rediss://… for TLS, or \"embedded\" for a local trial"))
	} else if c.RedisURL != Embedded {
		errs = append(errs, checkURL("REDIS_URL", c.RedisURL, "redis", "rediss", "unix")...)
	}
	if strings.ContainsAny(c.KeyPrefix, "{}: ") || c.KeyPrefix == "" {
		errs = append(errs, fmt.Errorf("REDIS_KEY_PREFIX %q is invalid: use letters, digits, '-' or '_'", c.KeyPrefix))
	}
	errs = append(errs, checkSecureURL("GRAPH_BASE_URL", c.Graph.BaseURL)...)
	if c.SCIM.URL != "" {
		errs = append(errs, checkSecureURL("ATLASSIAN_SCIM_URL", c.SCIM.URL)...)
	}
	if c.Graph.AuthorityHost != "" {
		errs = append(errs, checkURL("AZURE_AUTHORITY_HOST", c.Graph.AuthorityHost, "https")...)
	}
	errs = append(errs, c.validateSync(failed)...)
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT %q is invalid: use auto, json or text", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL %q is invalid: use debug, info, warn or error", c.LogLevel))
	}
	if c.MaxBodyBytes < 1024 && !failed["MAX_BODY_BYTES"] {
		errs = append(errs, fmt.Errorf("MAX_BODY_BYTES %d is too small: use at least 1024", c.MaxBodyBytes))
	}
	for name, d := range map[string]time.Duration{"SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
		"INBOX_RETENTION": c.InboxRetention, "MAX_RETRY_AGE": c.Sync.MaxRetryAge,
		"DELTA_INTERVAL": c.Subscription.DeltaInterval, "SUBSCRIPTION_RENEW_BEFORE": c.Subscription.RenewBefore} {
		if d <= 0 && !failed[name] {
			errs = append(errs, fmt.Errorf("%s %s is invalid: use a positive duration", name, d))
		}
	}
	return errs
}

func checkClientState(name, value string) []error {
	if len(value) > 128 {
		return []error{fmt.Errorf("%s is %d characters long: Graph allows at most 128", name, len(value))}
	}
	return nil
}

func (c Config) validateSync(failed map[string]bool) []error {
	var errs []error
	s := c.Sync
	if (s.Concurrency < 1 || s.Concurrency > 1024) && !failed["WORKER_CONCURRENCY"] {
		errs = append(errs, fmt.Errorf("WORKER_CONCURRENCY %d is out of range: use 1 to 1024", s.Concurrency))
	}
	if s.Debounce < 0 {
		errs = append(errs, fmt.Errorf("DEBOUNCE %s is negative", s.Debounce))
	}
	if s.Lease < 10*time.Second && !failed["LEASE_DURATION"] {
		errs = append(errs, fmt.Errorf("LEASE_DURATION %s is too short: use at least 10s", s.Lease))
	}
	if s.MaxAttempts < 1 && !failed["MAX_ATTEMPTS"] {
		errs = append(errs, fmt.Errorf("MAX_ATTEMPTS %d is invalid: use at least 1", s.MaxAttempts))
	}
	if c.Graph.Rate < 0 || math.IsNaN(c.Graph.Rate) || math.IsInf(c.Graph.Rate, 0) {
		errs = append(errs, fmt.Errorf("GRAPH_RATE %g is invalid: use a number of requests per second, or 0 for no limit",
			c.Graph.Rate))
	}
	if c.SCIM.Rate < 0 || math.IsNaN(c.SCIM.Rate) || math.IsInf(c.SCIM.Rate, 0) {
		errs = append(errs, fmt.Errorf("ATLASSIAN_SCIM_RATE %g is invalid: use a number of requests per second, or 0 for no limit",
			c.SCIM.Rate))
	}
	switch s.UserNameSource {
	case "userPrincipalName", "mail", "unchanged":
	default:
		errs = append(errs, fmt.Errorf("USERNAME_SOURCE %q is invalid: use userPrincipalName, mail or unchanged",
			s.UserNameSource))
	}
	for _, d := range s.VerifiedDomains {
		if !strings.Contains(d, ".") || strings.ContainsAny(d, "@/ ") {
			errs = append(errs, fmt.Errorf("ATLASSIAN_VERIFIED_DOMAINS entry %q is not a domain name", d))
		}
	}
	return errs
}

func checkURL(name, raw string, schemes ...string) []error {
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error quotes the whole URL, password included, so only
		// its cause is shown.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return []error{fmt.Errorf("%s is not a valid URL: %v", name, err)}
	}
	for _, s := range schemes {
		if u.Scheme == s && (u.Host != "" || s == "unix") {
			return nil
		}
	}
	return []error{fmt.Errorf("%s %q is invalid: want an absolute %s URL", name, redactURL(u),
		strings.Join(schemes, " or "))}
}

// checkSecureURL accepts https, and plain http only on a loopback host
// (local fakes), because the bridge sends bearer tokens to these URLs.
func checkSecureURL(name, raw string) []error {
	if errs := checkURL(name, raw, "https", "http"); len(errs) > 0 {
		return errs
	}
	u, _ := url.Parse(raw)
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return []error{fmt.Errorf("%s %q is invalid: use https; plain http would send the bearer token "+
			"in cleartext and is accepted only for 127.0.0.1, ::1 or localhost", name, redactURL(u))}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL hides a password in a URL so it can appear in an error.
func redactURL(u *url.URL) string {
	return u.Redacted()
}

func missing(name, fix string) error {
	return fmt.Errorf("%s is not set: %s", name, fix)
}

func nonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Environ returns the process environment as a map, the form Load takes.
func Environ() map[string]string {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
