package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
)

// maxListPages bounds how many pages ListSubscriptions follows. Graph
// allows 100 subscriptions per app and tenant, which fit one page.
const maxListPages = 100

// Subscription and SubscriptionRequest are the domain types, so that the
// Client meets subscription.Graph without an adapter.
type (
	Subscription        = bridge.Subscription
	SubscriptionRequest = bridge.SubscriptionRequest
)

// CreateSubscription creates a subscription with POST /subscriptions.
// Graph first sends a validation request to each notification URL and
// fails the creation with 400 unless the endpoint echoes the token within
// 10 s. A second subscription to the same resource and change types fails
// with 409. Every error is a *failure.Error, as for GetUser.
func (c *Client) CreateSubscription(ctx context.Context, req SubscriptionRequest) (Subscription, error) {
	body := models.NewSubscription()
	body.SetResource(&req.Resource)
	body.SetChangeType(&req.ChangeType)
	body.SetNotificationUrl(&req.NotificationURL)
	if req.LifecycleNotificationURL != "" {
		body.SetLifecycleNotificationUrl(&req.LifecycleNotificationURL)
	}
	if req.ClientState != "" {
		body.SetClientState(&req.ClientState)
	}
	expiration := req.ExpirationDateTime.UTC()
	body.SetExpirationDateTime(&expiration)

	ctx, last := withLastResponse(ctx)
	created, err := c.sdk.Subscriptions().Post(ctx, body, nil)
	if err != nil {
		return Subscription{}, fmt.Errorf("create graph subscription for %s: %w", req.Resource, classify(err, last))
	}
	return subscriptionFromModel(created), nil
}

// ListSubscriptions returns every subscription of the app, following
// @odata.nextLink.
func (c *Client) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	ctx, last := withLastResponse(ctx)
	page, err := c.sdk.Subscriptions().Get(ctx, nil)
	var subs []Subscription
	for pages := 1; ; pages++ {
		if err != nil {
			return nil, fmt.Errorf("list graph subscriptions: %w", classify(err, last))
		}
		if page == nil {
			return subs, nil
		}
		for _, m := range page.GetValue() {
			subs = append(subs, subscriptionFromModel(m))
		}
		next := deref(page.GetOdataNextLink())
		if next == "" {
			return subs, nil
		}
		if pages == maxListPages {
			return nil, &failure.Error{Service: service, Class: failure.Permanent,
				Detail: fmt.Sprintf("subscription list continues after %d pages", maxListPages)}
		}
		if err := c.checkLink(next); err != nil {
			return nil, fmt.Errorf("list graph subscriptions: %w", err)
		}
		page, err = c.sdk.Subscriptions().WithUrl(next).Get(ctx, nil)
	}
}

// RenewSubscription sets a new expirationDateTime with PATCH
// /subscriptions/{id} and returns the subscription Graph returns. A
// subscription Graph removed or let expire gets failure.NotFound.
func (c *Client) RenewSubscription(ctx context.Context, id string, expiration time.Time) (Subscription, error) {
	if id == "" {
		return Subscription{}, emptySubscriptionID()
	}
	body := models.NewSubscription()
	expiration = expiration.UTC()
	body.SetExpirationDateTime(&expiration)

	ctx, last := withLastResponse(ctx)
	renewed, err := c.sdk.Subscriptions().BySubscriptionId(id).Patch(ctx, body, nil)
	if err != nil {
		return Subscription{}, fmt.Errorf("renew graph subscription %s: %w", id, classify(err, last))
	}
	sub := subscriptionFromModel(renewed)
	if sub.ID == "" {
		sub.ID = id
	}
	return sub, nil
}

// ReauthorizeSubscription handles reauthorizationRequired with POST
// /subscriptions/{id}/reauthorize, to which Graph responds with 204.
func (c *Client) ReauthorizeSubscription(ctx context.Context, id string) error {
	if id == "" {
		return emptySubscriptionID()
	}
	ctx, last := withLastResponse(ctx)
	if err := c.sdk.Subscriptions().BySubscriptionId(id).Reauthorize().Post(ctx, nil); err != nil {
		return fmt.Errorf("reauthorize graph subscription %s: %w", id, classify(err, last))
	}
	return nil
}

// DeleteSubscription deletes a subscription with DELETE
// /subscriptions/{id}. A subscription Graph no longer has gets
// failure.NotFound.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	if id == "" {
		return emptySubscriptionID()
	}
	ctx, last := withLastResponse(ctx)
	if err := c.sdk.Subscriptions().BySubscriptionId(id).Delete(ctx, nil); err != nil {
		return fmt.Errorf("delete graph subscription %s: %w", id, classify(err, last))
	}
	return nil
}

// emptySubscriptionID is the error for a call without a subscription ID,
// which would otherwise address the subscription collection.
func emptySubscriptionID() error {
	return &failure.Error{Service: service, Class: failure.Permanent, Detail: "subscription ID is empty"}
}

func subscriptionFromModel(m models.Subscriptionable) Subscription {
	if m == nil {
		return Subscription{}
	}
	sub := Subscription{
		ID:                       deref(m.GetId()),
		Resource:                 deref(m.GetResource()),
		ChangeType:               deref(m.GetChangeType()),
		NotificationURL:          deref(m.GetNotificationUrl()),
		LifecycleNotificationURL: deref(m.GetLifecycleNotificationUrl()),
		ClientState:              deref(m.GetClientState()),
	}
	if t := m.GetExpirationDateTime(); t != nil {
		sub.ExpirationDateTime = t.UTC()
	}
	return sub
}
