package subscription

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// Manager creates, adopts, renews and deletes the bridge's Graph
// subscription and keeps its state in the store. It is safe for
// concurrent use, and it serializes every change to the subscription.
type Manager struct {
	cfg     Config
	graph   Graph
	store   Store
	log     *slog.Logger
	elector *Elector

	// mu serializes changes to the subscription, so that a renewal and a
	// replacement after subscriptionRemoved do not race.
	mu sync.Mutex
	// wake signals the leader's maintenance loop to check at once, after a
	// catch-up request.
	wake chan struct{}
	// urlWarned records that the stored subscription's notification URL
	// differs from the configured one, so the warning is logged once.
	urlWarned bool
}

// NewManager validates cfg and returns a Manager. It sends no request.
func NewManager(graph Graph, store Store, cfg Config) (*Manager, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("invalid subscription configuration: %w", err)
	}
	m := &Manager{
		cfg:   cfg,
		graph: graph,
		store: store,
		log:   cfg.Logger,
		wake:  make(chan struct{}, 1),
	}
	if cfg.Owner != "" {
		elector, err := NewElector(store, LeaseName, cfg.Owner, cfg.LeaderLease, cfg.Logger)
		if err != nil {
			return nil, err
		}
		m.elector = elector
	}
	return m, nil
}

// Leading reports whether this process is the leader now.
func (m *Manager) Leading() bool { return m.elector != nil && m.elector.Leading() }

// Current returns the stored state of the subscription the bridge
// maintains, or false when there is none.
func (m *Manager) Current(ctx context.Context) (redisstore.SubscriptionState, bool, error) {
	st, ok, err := m.store.Subscription(ctx)
	if err != nil {
		return st, false, fmt.Errorf("read subscription state: %w", err)
	}
	return st, ok, nil
}

// List returns every subscription of the app at Graph, including those
// the bridge does not maintain.
func (m *Manager) List(ctx context.Context) ([]Subscription, error) {
	subs, err := m.graph.ListSubscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list graph subscriptions: %w", err)
	}
	return subs, nil
}

// Subscribe creates the subscription, or adopts the existing one when
// Graph rejects the creation with 409, and stores its state. It replaces
// any stored state, without deleting the subscription it describes.
func (m *Manager) Subscribe(ctx context.Context) (Subscription, error) {
	if err := m.cfg.validateSubscribe(); err != nil {
		return Subscription{}, fmt.Errorf("invalid subscription configuration: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.subscribeLocked(ctx)
}

// Delete deletes the subscription id at Graph and, when it is the one the
// bridge maintains, its stored state. A subscription Graph no longer has
// counts as deleted.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("delete graph subscription: the subscription ID is empty")
	}
	m.mu.Lock()
	defer m.mu.Unlock()

	err := m.graph.DeleteSubscription(ctx, id)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete graph subscription %s: %w", id, err)
	}
	if isNotFound(err) {
		m.log.Info("graph subscription was already gone", "subscription_id", id)
	}
	if _, err := m.store.DeleteSubscription(ctx, id); err != nil {
		return fmt.Errorf("delete state of graph subscription %s: %w", id, err)
	}
	m.forget(id)
	m.log.Info("graph subscription deleted", "subscription_id", id)
	return nil
}

// subscribeLocked creates or adopts the subscription and stores it. The
// caller holds mu.
func (m *Manager) subscribeLocked(ctx context.Context) (Subscription, error) {
	previous, hadPrevious, err := m.store.Subscription(ctx)
	if err != nil {
		return Subscription{}, fmt.Errorf("read subscription state: %w", err)
	}

	req := m.request()
	sub, err := m.graph.CreateSubscription(ctx, req)
	action := "created"
	if isConflict(err) {
		m.log.Info("graph rejected a duplicate subscription; adopting the existing one",
			"resource", req.Resource, "change_type", req.ChangeType)
		sub, err = m.adopt(ctx, req)
		action = "adopted"
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("create graph subscription for %s: %w", req.Resource, err)
	}

	now := m.cfg.Now()
	st := stateOf(sub, req)
	st.CreatedAt = now
	if err := m.store.SaveSubscription(ctx, st); err != nil {
		return Subscription{}, fmt.Errorf("save state of graph subscription %s: %w", sub.ID, err)
	}
	if hadPrevious && previous.ID != st.ID {
		m.forget(previous.ID)
	}
	m.observeExpiry(st)
	m.log.Info("graph subscription "+action, "subscription_id", st.ID, "expires_at", st.ExpiresAt,
		"notification_url", st.NotificationURL)
	return sub, nil
}

// request returns the subscription to create, expiring Lifetime from now.
func (m *Manager) request() SubscriptionRequest {
	return SubscriptionRequest{
		Resource:                 Resource,
		ChangeType:               ChangeType,
		NotificationURL:          m.cfg.NotificationURL,
		LifecycleNotificationURL: m.cfg.LifecycleNotificationURL,
		ClientState:              m.cfg.ClientState,
		ExpirationDateTime:       m.cfg.Now().Add(m.cfg.Lifetime).UTC(),
	}
}

// adopt finds the subscription that made Graph reject the creation with
// 409 and renews it,
// so that it runs for a full Lifetime under the bridge's care.
func (m *Manager) adopt(ctx context.Context, req SubscriptionRequest) (Subscription, error) {
	subs, err := m.graph.ListSubscriptions(ctx)
	if err != nil {
		return Subscription{}, fmt.Errorf("list graph subscriptions to adopt one: %w", err)
	}
	i := slices.IndexFunc(subs, func(s Subscription) bool { return sameTarget(s, req) })
	if i < 0 {
		return Subscription{}, conflictError(subs, req)
	}
	existing := subs[i]
	if existing.ClientState != "" && existing.ClientState != req.ClientState {
		return Subscription{}, fmt.Errorf("graph subscription %s sends to %s with another clientState, "+
			"so the receiver would reject its notifications: delete it and subscribe again", existing.ID, req.NotificationURL)
	}

	renewed, err := m.graph.RenewSubscription(ctx, existing.ID, req.ExpirationDateTime)
	if err != nil {
		return Subscription{}, fmt.Errorf("renew adopted graph subscription %s: %w", existing.ID, err)
	}
	return merge(renewed, existing), nil
}

// conflictError explains a 409 that no listed subscription accounts for:
// another subscription for the same resource sends elsewhere.
func conflictError(subs []Subscription, req SubscriptionRequest) error {
	var others []string
	for _, s := range subs {
		if sameResource(s.Resource, req.Resource) {
			others = append(others, fmt.Sprintf("%s (to %s)", s.ID, s.NotificationURL))
		}
	}
	if len(others) == 0 {
		return fmt.Errorf("graph rejected the subscription for %s with 409 Conflict, but lists no "+
			"subscription for it: retry later", req.Resource)
	}
	return fmt.Errorf("graph rejected the subscription for %s with 409 Conflict because another one exists: %s; "+
		"none sends to %s, so delete the one no longer in use and subscribe again",
		req.Resource, strings.Join(others, ", "), req.NotificationURL)
}

// sameTarget reports whether s delivers the resource and change types of
// req to the same URL. Graph's 409 names no subscription, so this finds it.
func sameTarget(s Subscription, req SubscriptionRequest) bool {
	return sameResource(s.Resource, req.Resource) &&
		sameChangeTypes(s.ChangeType, req.ChangeType) &&
		strings.TrimSuffix(s.NotificationURL, "/") == strings.TrimSuffix(req.NotificationURL, "/")
}

// sameResource compares resource paths as Graph does: "users" and
// "/Users" name the same resource.
func sameResource(a, b string) bool {
	return strings.EqualFold(strings.Trim(a, "/"), strings.Trim(b, "/"))
}

// sameChangeTypes compares comma-separated changeType lists in any order.
func sameChangeTypes(a, b string) bool {
	split := func(s string) []string {
		var out []string
		for part := range strings.SplitSeq(strings.ToLower(s), ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(split(a), split(b))
}

// merge fills the fields a renewal response left empty from the listed
// subscription.
func merge(renewed, listed Subscription) Subscription {
	if renewed.ID == "" {
		renewed.ID = listed.ID
	}
	if renewed.Resource == "" {
		renewed.Resource = listed.Resource
	}
	if renewed.ChangeType == "" {
		renewed.ChangeType = listed.ChangeType
	}
	if renewed.NotificationURL == "" {
		renewed.NotificationURL = listed.NotificationURL
	}
	if renewed.LifecycleNotificationURL == "" {
		renewed.LifecycleNotificationURL = listed.LifecycleNotificationURL
	}
	if renewed.ExpirationDateTime.IsZero() {
		renewed.ExpirationDateTime = listed.ExpirationDateTime
	}
	return renewed
}

// stateOf returns the state to store for sub, taking what Graph left out
// from req.
func stateOf(sub Subscription, req SubscriptionRequest) redisstore.SubscriptionState {
	st := redisstore.SubscriptionState{
		ID:                       sub.ID,
		Resource:                 sub.Resource,
		ChangeType:               sub.ChangeType,
		NotificationURL:          sub.NotificationURL,
		LifecycleNotificationURL: sub.LifecycleNotificationURL,
		ExpiresAt:                sub.ExpirationDateTime,
	}
	if st.Resource == "" {
		st.Resource = req.Resource
	}
	if st.ChangeType == "" {
		st.ChangeType = req.ChangeType
	}
	if st.NotificationURL == "" {
		st.NotificationURL = req.NotificationURL
	}
	if st.ExpiresAt.IsZero() {
		st.ExpiresAt = req.ExpirationDateTime
	}
	return st
}

func (m *Manager) observeExpiry(st redisstore.SubscriptionState) {
	if m.cfg.Observer != nil {
		m.cfg.Observer.SetSubscriptionExpiry(st.ID, st.ExpiresAt)
	}
}

// forget reports to the Observer, if it has ForgetSubscription, that
// subscription id is gone, so that its past expiry does not look like a
// lapse.
func (m *Manager) forget(id string) {
	if f, ok := m.cfg.Observer.(subscriptionForgetter); ok {
		f.ForgetSubscription(id)
	}
}
