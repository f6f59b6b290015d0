package subscription

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Defaults for zero Config fields.
const (
	// DefaultLifetime is the lifetime given to a new or renewed
	// subscription: MaxLifetime less an hour, so that a clock running
	// ahead of Graph's by up to an hour does not exceed the maximum.
	DefaultLifetime = MaxLifetime - time.Hour
	// DefaultRenewBefore renews a subscription once less than 21 days of
	// its lifetime remain, so about once a week with DefaultLifetime. A
	// renewal that keeps failing then leaves three weeks to fix the cause
	// before notifications stop.
	DefaultRenewBefore = 21 * 24 * time.Hour
	// DefaultCheckInterval is how often the leader checks whether the
	// subscription needs renewal and whether a delta run is due.
	DefaultCheckInterval = time.Minute
	// DefaultDeltaInterval is how often the leader runs the delta query.
	// Graph may deliver user notifications 30 minutes late or not at all,
	// so a missed change shows up within about this long.
	DefaultDeltaInterval = 30 * time.Minute
	// DefaultReauthorizeInterval is the minimum time between two
	// reauthorizations of one subscription.
	DefaultReauthorizeInterval = time.Minute
)

// LeaseName is the name of the leadership lease the Manager campaigns for.
const LeaseName = "subscription"

// maxClientStateBytes is Graph's limit on clientState.
const maxClientStateBytes = 128

// Config configures a Manager. The comment of each field names the
// environment variable that usually sets it.
type Config struct {
	// NotificationURL is GRAPH_NOTIFICATION_URL, the public HTTPS URL of
	// the receiver's change endpoint, such as
	// https://bridge.example.com/webhooks/graph. Subscribe and Run need
	// it, List and Delete do not.
	NotificationURL string
	// LifecycleNotificationURL is GRAPH_LIFECYCLE_NOTIFICATION_URL. If
	// empty, NotificationURL + "/lifecycle", the receiver's lifecycle
	// endpoint. Graph takes it only when a subscription is created.
	LifecycleNotificationURL string
	// ClientState is GRAPH_CLIENT_STATE, the secret Graph sends back with
	// every notification, 1 to 128 bytes. Subscribe and Run need it.
	ClientState string

	// Lifetime is the expiration given on creation and renewal, counted
	// from now. If zero, DefaultLifetime. At most MaxLifetime.
	Lifetime time.Duration
	// RenewBefore renews the subscription once less than this remains
	// before it expires. If zero, DefaultRenewBefore. It must be less
	// than Lifetime.
	RenewBefore time.Duration
	// CheckInterval is how often the leader checks the subscription and
	// whether a delta run is due. If zero, DefaultCheckInterval or
	// DeltaInterval, whichever is shorter.
	CheckInterval time.Duration
	// DeltaInterval is DELTA_INTERVAL, how often the leader runs the
	// Reconciler. If zero, DefaultDeltaInterval.
	DeltaInterval time.Duration
	// ReauthorizeInterval is the minimum time between two
	// reauthorizations of one subscription, across replicas. If zero,
	// DefaultReauthorizeInterval.
	ReauthorizeInterval time.Duration

	// Owner identifies this process in the leadership lease and as the
	// consumer of the lifecycle stream. It must be unique per process.
	Owner string
	// LeaderLease is how long the leader keeps the lease without renewing
	// it. If zero, DefaultLeaderLease.
	LeaderLease time.Duration

	// Reconciler runs the delta query when one is due. If nil, Run never
	// runs it, and catch-up requests stay pending.
	Reconciler *Reconciler
	// Observer, if not nil, receives the subscription's expiry.
	Observer Observer
	// Logger receives the Manager's logs. If nil, they are discarded.
	Logger *slog.Logger
	// Now returns the current time. If nil, time.Now. Tests set it to
	// move the clock.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.LifecycleNotificationURL == "" && c.NotificationURL != "" {
		c.LifecycleNotificationURL = c.NotificationURL + "/lifecycle"
	}
	if c.Lifetime == 0 {
		c.Lifetime = DefaultLifetime
	}
	if c.RenewBefore == 0 {
		c.RenewBefore = DefaultRenewBefore
	}
	if c.DeltaInterval == 0 {
		c.DeltaInterval = DefaultDeltaInterval
	}
	if c.CheckInterval == 0 {
		// A delta interval shorter than the check interval would
		// otherwise only take effect at each check.
		c.CheckInterval = min(DefaultCheckInterval, c.DeltaInterval)
	}
	if c.ReauthorizeInterval == 0 {
		c.ReauthorizeInterval = DefaultReauthorizeInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// validate checks the fields every method needs.
func (c *Config) validate() error {
	var errs []error
	if c.Lifetime < 0 || c.Lifetime > MaxLifetime {
		errs = append(errs, fmt.Errorf("subscription lifetime %s is invalid: it must be positive and at most %s, "+
			"the maximum Graph accepts for users", c.Lifetime, MaxLifetime))
	}
	if c.RenewBefore < 0 || c.RenewBefore >= c.Lifetime {
		errs = append(errs, fmt.Errorf("renewal margin %s is invalid: it must be positive and less than the "+
			"subscription lifetime %s", c.RenewBefore, c.Lifetime))
	}
	for name, d := range map[string]time.Duration{
		"check interval": c.CheckInterval, "DELTA_INTERVAL": c.DeltaInterval,
		"reauthorize interval": c.ReauthorizeInterval,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %s is invalid: it must be positive", name, d))
		}
	}
	return errors.Join(errs...)
}

// validateSubscribe checks the fields Subscribe, Maintain and Run need in
// addition.
func (c *Config) validateSubscribe() error {
	var errs []error
	if err := validateNotificationURL("GRAPH_NOTIFICATION_URL", c.NotificationURL); err != nil {
		errs = append(errs, err)
	}
	if err := validateNotificationURL("GRAPH_LIFECYCLE_NOTIFICATION_URL", c.LifecycleNotificationURL); err != nil {
		errs = append(errs, err)
	}
	if c.ClientState == "" || len(c.ClientState) > maxClientStateBytes {
		errs = append(errs, fmt.Errorf("GRAPH_CLIENT_STATE is missing or longer than %d bytes: "+
			"set it to the secret Graph sends back with each notification", maxClientStateBytes))
	}
	return errors.Join(errs...)
}

// validateNotificationURL accepts an absolute https URL, or http on a
// loopback host for local trials against a fake Graph.
func validateNotificationURL(name, raw string) error {
	u, err := url.Parse(raw)
	loopback := u != nil && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1")
	if raw == "" || err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && loopback) {
		return fmt.Errorf("%s %q is invalid: Graph requires a public https URL, such as "+
			"https://bridge.example.com/webhooks/graph", name, raw)
	}
	return nil
}
