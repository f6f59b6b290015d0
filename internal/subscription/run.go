package subscription

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Waits of the leader's lifecycle loop.
const (
	// lifecycleBlock is how long one read waits for a lifecycle
	// notification. It also bounds how long the loop takes to notice the
	// end of its context, because a blocked read does not end early.
	lifecycleBlock = 2 * time.Second
	// lifecycleRetryMin and lifecycleRetryMax bound the wait after a
	// failed read, which doubles per failure.
	lifecycleRetryMin = time.Second
	lifecycleRetryMax = 30 * time.Second
)

// Run campaigns for leadership until ctx ends. While this process leads,
// it keeps the subscription alive (Maintain every CheckInterval), acts on
// lifecycle notifications as they arrive, and runs the Reconciler every
// DeltaInterval and after each catch-up request. On return it releases
// the leadership. Run needs NotificationURL, ClientState and Owner.
func (m *Manager) Run(ctx context.Context) error {
	if err := m.cfg.validateSubscribe(); err != nil {
		return fmt.Errorf("invalid subscription configuration: %w", err)
	}
	if m.elector == nil {
		return errors.New("invalid subscription configuration: the owner token is empty: give each process a unique one")
	}
	return m.elector.Run(ctx, m.lead)
}

// lead is the leader's work: the maintenance loop and the lifecycle loop,
// until ctx ends.
func (m *Manager) lead(ctx context.Context) error {
	if st, ok, err := m.store.Subscription(ctx); err == nil && ok {
		m.observeExpiry(st)
	}

	var wg sync.WaitGroup
	wg.Go(func() { m.lifecycleLoop(ctx) })
	m.maintenanceLoop(ctx)
	wg.Wait()
	return ctx.Err()
}

// maintenanceLoop runs Maintain and any due delta run every
// CheckInterval, and at once after a catch-up request of this process.
func (m *Manager) maintenanceLoop(ctx context.Context) {
	ticker := time.NewTicker(m.cfg.CheckInterval)
	defer ticker.Stop()
	for {
		if err := m.Maintain(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("graph subscription maintenance failed; retrying at the next check",
				"err", err, "check_interval", m.cfg.CheckInterval)
		}
		if _, err := m.RunDueDelta(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("delta run failed; retrying after the delta interval",
				"err", err, "delta_interval", m.cfg.DeltaInterval)
		}

		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-m.wake:
		}
	}
}

// lifecycleLoop acts on lifecycle notifications until ctx ends.
func (m *Manager) lifecycleLoop(ctx context.Context) {
	retry := lifecycleRetryMin
	for ctx.Err() == nil {
		_, err := m.processLifecycle(ctx, lifecycleBlock)
		if err == nil || ctx.Err() != nil {
			retry = lifecycleRetryMin
			continue
		}
		m.log.Error("lifecycle notifications not processed; retrying", "err", err, "retry_in", retry)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
		retry = min(2*retry, lifecycleRetryMax)
	}
}

// RunDueDelta runs the Reconciler when a catch-up was requested, when it
// never ran, or when DeltaInterval has passed since the last run started,
// and reports whether it ran. Without a Reconciler it does nothing.
func (m *Manager) RunDueDelta(ctx context.Context) (bool, error) {
	if m.cfg.Reconciler == nil {
		return false, nil
	}
	reason, err := m.deltaDue(ctx)
	if err != nil || reason == "" {
		return false, err
	}

	m.log.Info("delta run starting", "reason", reason)
	_, err = m.cfg.Reconciler.Run(ctx, false)
	return true, err
}

// deltaDue returns why a delta run is due, or "" when none is. It takes a
// pending catch-up request, so a failed run does not repeat every check:
// the next run comes after DeltaInterval, and continues from the stored
// delta link, which covers the changes the catch-up was for.
func (m *Manager) deltaDue(ctx context.Context) (string, error) {
	requestedAt, requested, err := m.store.TakeDeltaCatchUp(ctx)
	if err != nil {
		return "", fmt.Errorf("take delta catch-up request: %w", err)
	}
	if requested {
		return fmt.Sprintf("catch-up requested at %s", requestedAt.UTC().Format(time.RFC3339)), nil
	}

	last, ran, err := m.store.LastDeltaRun(ctx)
	if err != nil {
		return "", fmt.Errorf("read last delta run: %w", err)
	}
	if !ran {
		return "first run", nil
	}
	if m.cfg.Now().Sub(last.StartedAt) >= m.cfg.DeltaInterval {
		return "delta interval elapsed", nil
	}
	return "", nil
}
