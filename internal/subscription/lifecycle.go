package subscription

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/entrabridge/entrabridge/internal/redisstore"
)

// Lifecycle events Graph sends. For users only reauthorizationRequired is
// documented; the others are documented for Outlook and Teams resources
// and handled in case Graph sends them for users too.
const (
	EventReauthorizationRequired = "reauthorizationRequired"
	EventSubscriptionRemoved     = "subscriptionRemoved"
	EventMissed                  = "missed"
)

// lifecycleBatch is how many lifecycle notifications one read takes.
const lifecycleBatch = 100

// actionReauthorize names the coalescing mark of reauthorizations.
const actionReauthorize = "reauthorize"

// lifecycleGroup is the lifecycle notifications of one batch with the
// same event and subscription, which one action handles.
type lifecycleGroup struct {
	event          string
	subscriptionID string
	entryIDs       []string
}

// ProcessLifecycle reads up to 100 lifecycle notifications from the store,
// without waiting for new ones, acts on them and acknowledges them. It
// returns how many it read. Notifications whose action failed stay
// unacknowledged, so the store delivers them again after 30 s.
func (m *Manager) ProcessLifecycle(ctx context.Context) (int, error) {
	return m.processLifecycle(ctx, 0)
}

// processLifecycle is ProcessLifecycle, waiting up to block for the first
// notification to arrive.
func (m *Manager) processLifecycle(ctx context.Context, block time.Duration) (int, error) {
	entries, err := m.store.ReadLifecycle(ctx, m.cfg.Owner, lifecycleBatch, block)
	if err != nil {
		return 0, fmt.Errorf("read lifecycle notifications: %w", err)
	}
	if len(entries) == 0 {
		return 0, nil
	}

	current, hasCurrent, err := m.store.Subscription(ctx)
	if err != nil {
		return len(entries), fmt.Errorf("read subscription state: %w", err)
	}
	var ack []string
	for _, g := range groupLifecycle(entries) {
		// Without a stored subscription the bridge cannot tell its own
		// from others, so it acts on every notification.
		ours := !hasCurrent || strings.EqualFold(g.subscriptionID, current.ID)
		if m.actOn(ctx, g, ours) {
			ack = append(ack, g.entryIDs...)
		}
	}
	if err := m.store.AckLifecycle(ctx, ack...); err != nil {
		return len(entries), fmt.Errorf("acknowledge lifecycle notifications: %w", err)
	}
	return len(entries), nil
}

// groupLifecycle groups entries by event and subscription, in the order
// each group first appears.
func groupLifecycle(entries []redisstore.LifecycleEntry) []*lifecycleGroup {
	var groups []*lifecycleGroup
	byKey := make(map[string]*lifecycleGroup)
	for _, e := range entries {
		key := e.Event + "\x00" + strings.ToLower(e.SubscriptionID)
		g, ok := byKey[key]
		if !ok {
			g = &lifecycleGroup{event: e.Event, subscriptionID: e.SubscriptionID}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.entryIDs = append(g.entryIDs, e.ID)
	}
	return groups
}

// actOn handles one group of lifecycle notifications and reports whether
// they may be acknowledged.
func (m *Manager) actOn(ctx context.Context, g *lifecycleGroup, ours bool) bool {
	log := m.log.With("subscription_id", g.subscriptionID, "lifecycle_event", g.event,
		"notifications", len(g.entryIDs))
	switch {
	case g.event == EventMissed:
		// Changes may be missed whichever subscription missed them.
		if err := m.requestCatchUp(ctx, EventMissed); err != nil {
			log.Error("delta catch-up request failed; the notifications will be delivered again", "err", err)
			return false
		}
		return true
	case g.event != EventReauthorizationRequired && g.event != EventSubscriptionRemoved:
		log.Warn("unknown lifecycle event ignored")
		return true
	case !ours:
		log.Info("lifecycle notification for a subscription the bridge does not maintain ignored")
		return true
	case g.event == EventReauthorizationRequired:
		return m.reauthorize(ctx, g.subscriptionID, log)
	default:
		return m.replaceRemoved(ctx, g.subscriptionID, log)
	}
}

// reauthorize handles reauthorizationRequired: it reauthorizes the
// subscription at most once per ReauthorizeInterval, falls back to a
// renewal, and replaces a subscription Graph no longer has.
func (m *Manager) reauthorize(ctx context.Context, id string, log *slog.Logger) bool {
	reserved, err := m.store.ReserveSubscriptionAction(ctx, actionReauthorize, id, m.cfg.ReauthorizeInterval)
	if err != nil {
		log.Error("reauthorization could not be reserved; the notifications will be delivered again", "err", err)
		return false
	}
	if !reserved {
		log.Debug("reauthorization ran within the reauthorize interval; notifications coalesced")
		return true
	}

	err = m.graph.ReauthorizeSubscription(ctx, id)
	if err == nil {
		log.Info("graph subscription reauthorized")
		return true
	}
	if !isNotFound(err) {
		log.Warn("reauthorization failed; renewing the subscription instead", "err", err)
		err = m.renewByID(ctx, id)
		if err == nil {
			return true
		}
	}
	if isNotFound(err) {
		return m.replaceRemoved(ctx, id, log)
	}

	log.Error("reauthorization and renewal failed; the notifications will be delivered again", "err", err)
	if err := m.store.ReleaseSubscriptionAction(ctx, actionReauthorize, id); err != nil {
		log.Warn("reauthorization mark not released; the next try waits for the reauthorize interval", "err", err)
	}
	return false
}

// renewByID renews subscription id, and records the new expiry when id is
// the stored subscription.
func (m *Manager) renewByID(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok, err := m.store.Subscription(ctx)
	if err != nil {
		return fmt.Errorf("read subscription state: %w", err)
	}
	if !ok || !strings.EqualFold(st.ID, id) {
		// No stored state describes id, so there is nothing to record.
		_, err := m.graph.RenewSubscription(ctx, id, m.cfg.Now().Add(m.cfg.Lifetime).UTC())
		return err
	}
	_, err = m.renewLocked(ctx, st)
	return err
}

// replaceRemoved creates a subscription in place of id, which Graph
// removed, unless another caller replaced it already.
func (m *Manager) replaceRemoved(ctx context.Context, id string, log *slog.Logger) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok, err := m.store.Subscription(ctx)
	if err != nil {
		log.Error("subscription state unreadable; the notifications will be delivered again", "err", err)
		return false
	}
	old := ""
	if ok {
		old = st.ID
	}
	if ok && !strings.EqualFold(st.ID, id) {
		log.Info("removed subscription was replaced already")
		return true
	}

	log.Warn("graph removed the subscription; creating a new one and catching up with a delta query")
	if err := m.replaceLocked(ctx, old); err != nil {
		log.Error("subscription replacement failed; the notifications will be delivered again", "err", err)
		return false
	}
	return true
}
