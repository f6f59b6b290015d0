package notification

import (
	"errors"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
)

// Reasons for rejecting items, used as the Metrics.Rejected reason label
// and in logs.
const (
	ReasonInvalidItem      = "invalid_item"
	ReasonClientState      = "client_state"
	ReasonUserID           = "user_id"
	ReasonNotLifecycle     = "not_lifecycle"
	ReasonSubscriptionID   = "subscription_id"
	ReasonQueueUnavailable = "queue_unavailable"
	// ReasonMalformedBody and ReasonBodyTooLarge count whole requests,
	// whose items could not be read, as one each.
	ReasonMalformedBody = "malformed_body"
	ReasonBodyTooLarge  = "body_too_large"
)

// rejection is an item that will not be queued.
type rejection struct {
	index          int
	reason         string
	message        string
	subscriptionID string
}

// batch is a decoded body split into what to queue and what to reject.
type batch struct {
	changes    []bridge.Change
	lifecycles []bridge.Lifecycle
	rejections []rejection
}

func (b *batch) accepted() int { return len(b.changes) + len(b.lifecycles) }

// sortItems checks each item and converts the valid ones. The clientState
// check comes first, so an item that fails it gets no detailed message.
// Items with a lifecycleEvent are lifecycle items on either endpoint. On the
// lifecycle endpoint every other item is rejected.
func (h *Handler) sortItems(endpoint string, items []Item, receivedAt time.Time) batch {
	var b batch
	reject := func(i int, reason, message string) {
		b.rejections = append(b.rejections, rejection{
			index:          i,
			reason:         reason,
			message:        message,
			subscriptionID: items[i].SubscriptionID,
		})
	}

	for i, it := range items {
		switch {
		case it.Err != nil:
			reject(i, ReasonInvalidItem, it.Err.Error())
		case it.ClientState == "":
			reject(i, ReasonClientState, "clientState is missing")
		case !h.clientStates.match(it.ClientState):
			reject(i, ReasonClientState, "clientState does not match")
		case it.LifecycleEvent != "":
			lifecycle, err := it.lifecycle(receivedAt)
			if err != nil {
				reject(i, ReasonSubscriptionID, err.Error())
				continue
			}
			b.lifecycles = append(b.lifecycles, lifecycle)
		case endpoint == EndpointLifecycle:
			reject(i, ReasonNotLifecycle,
				"not a lifecycle item: lifecycleEvent is missing (change notifications go to "+ChangesPath+")")
		default:
			change, err := it.change(receivedAt)
			if err != nil {
				reject(i, ReasonUserID, err.Error())
				continue
			}
			b.changes = append(b.changes, change)
		}
	}
	return b
}

// lifecycle converts a lifecycle item. The subscription ID is required,
// because reauthorizing or recreating a subscription needs it.
func (it Item) lifecycle(receivedAt time.Time) (bridge.Lifecycle, error) {
	if it.SubscriptionID == "" {
		return bridge.Lifecycle{}, errors.New("lifecycle item has no subscriptionId")
	}
	return bridge.Lifecycle{
		SubscriptionID:         it.SubscriptionID,
		Event:                  it.LifecycleEvent,
		TenantID:               it.TenantID,
		SubscriptionExpiration: it.SubscriptionExpirationDateTime,
		ReceivedAt:             receivedAt,
	}, nil
}

// change converts a change item. An empty tenantId falls back to
// resourceData.organizationId, and an unknown changeType is kept as sent.
func (it Item) change(receivedAt time.Time) (bridge.Change, error) {
	userID, err := it.UserID()
	if err != nil {
		return bridge.Change{}, err
	}
	tenantID := it.TenantID
	if tenantID == "" {
		tenantID = it.ResourceData.OrganizationID
	}
	return bridge.Change{
		UserID:         userID,
		ChangeType:     it.ChangeType,
		SubscriptionID: it.SubscriptionID,
		TenantID:       tenantID,
		SequenceNumber: it.ResourceData.SequenceNumber.String(),
		EventTime:      it.ResourceData.EventTime,
		ReceivedAt:     receivedAt,
	}, nil
}
