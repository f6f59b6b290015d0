package bridge

import "time"

// Subscription is a Graph change-notification subscription.
type Subscription struct {
	ID                       string
	Resource                 string
	ChangeType               string
	NotificationURL          string
	LifecycleNotificationURL string
	// ClientState is empty when Graph does not return it.
	ClientState        string
	ExpirationDateTime time.Time
}

// SubscriptionRequest describes a subscription to create.
type SubscriptionRequest struct {
	Resource                 string
	ChangeType               string
	NotificationURL          string
	LifecycleNotificationURL string
	ClientState              string
	ExpirationDateTime       time.Time
}

// DeltaPage is one page of Graph's users delta query.
type DeltaPage struct {
	Users []DeltaUser
	// NextLink is @odata.nextLink: more pages follow in this round.
	NextLink string
	// DeltaLink is @odata.deltaLink: the round is complete, and the link
	// starts the next round.
	DeltaLink string
}

// DeltaUser is one user of a delta page. In a round that started from a
// delta link, Graph may send only the properties that changed, so an
// empty UserPrincipalName or Mail there may mean "unchanged".
type DeltaUser struct {
	ID                string
	UserPrincipalName string
	Mail              string
	// Removed is the reason of @removed: "changed" for a soft-deleted
	// user, "deleted" for a permanently deleted one, or "" for a user that
	// still exists.
	Removed string
}
