package subscription

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/entrabridge/entrabridge/internal/bridge"
	"github.com/entrabridge/entrabridge/internal/failure"
)

// Resource and ChangeType of the subscription the Manager maintains.
// Graph reports a user's creation and soft deletion as "updated", and a
// subscription for "created" alone has been rejected or stayed silent.
const (
	Resource   = "/users"
	ChangeType = "updated,deleted"
)

// MaxLifetime is the longest expiration Graph accepts for a subscription
// to users: 41,760 minutes, just under 29 days
// (learn.microsoft.com/graph/api/resources/subscription).
const MaxLifetime = 41_760 * time.Minute

// Subscription and SubscriptionRequest are the domain types, named here so
// that this package's API reads on its own.
type (
	Subscription        = bridge.Subscription
	SubscriptionRequest = bridge.SubscriptionRequest
)

// Graph manages subscriptions at Microsoft Graph. Every error is a
// *failure.Error: 404 is failure.NotFound, and a duplicate subscription is
// rejected with status 409.
type Graph interface {
	CreateSubscription(ctx context.Context, req SubscriptionRequest) (Subscription, error)
	ListSubscriptions(ctx context.Context) ([]Subscription, error)
	// RenewSubscription sets a new expirationDateTime and returns the
	// subscription as Graph stored it.
	RenewSubscription(ctx context.Context, id string, expiration time.Time) (Subscription, error)
	ReauthorizeSubscription(ctx context.Context, id string) error
	DeleteSubscription(ctx context.Context, id string) error
}

// DeltaPage and DeltaUser are one page of Graph's users delta query and
// one user of it.
type (
	DeltaPage = bridge.DeltaPage
	DeltaUser = bridge.DeltaUser
)

// DeltaSource reads Graph's users delta query one page at a time. An
// empty link starts a full round. Any other link is an @odata.nextLink or
// @odata.deltaLink from an earlier page. Every error is a *failure.Error,
// and ResyncRequired reports whether it means the link expired.
type DeltaSource interface {
	UsersDelta(ctx context.Context, link string) (DeltaPage, error)
}

// Observer receives the state the bridge's metrics export, and
// internal/metrics.Metrics meets it. An Observer that also has a
// ForgetSubscription(id string) method receives a call to it when a
// subscription is replaced or deleted.
type Observer interface {
	SetSubscriptionExpiry(id string, t time.Time)
	DeltaRun(ok bool, t time.Time, changed int)
}

// subscriptionForgetter is the optional part of an Observer.
type subscriptionForgetter interface {
	ForgetSubscription(id string)
}

// ResyncRequired reports whether err means that Graph can no longer
// continue a delta round from its link, so a full round must start over.
// For directory resources such as users, Graph rejects an expired delta
// link with 400 and the code syncStateNotFound (Microsoft 365 Developer
// Blog, "Duration of change tracking tokens for identity and education
// resources", 2020-07-03). Outlook resources have been seen to send 410
// Gone with SyncStateNotFound, and Graph uses the codes syncStateInvalid
// and resyncRequired for links it cannot continue either.
func ResyncRequired(err error) bool {
	var fe *failure.Error
	if !errors.As(err, &fe) {
		return false
	}
	if fe.Status == http.StatusGone {
		return true
	}
	switch strings.ToLower(fe.Code) {
	case "syncstatenotfound", "syncstateinvalid", "resyncrequired":
		return true
	}
	return false
}

// isConflict reports whether err is Graph's 409 for a subscription that
// already exists.
func isConflict(err error) bool {
	var fe *failure.Error
	return errors.As(err, &fe) && fe.Status == http.StatusConflict
}

// isNotFound reports whether err is Graph's 404 for a subscription that no
// longer exists.
func isNotFound(err error) bool {
	return err != nil && failure.ClassOf(err) == failure.NotFound
}
