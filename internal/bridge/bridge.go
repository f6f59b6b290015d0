// Package bridge defines the domain types shared by the receiver, the queue
// and the worker: what a Graph notification becomes once accepted, what a
// worker claims, and what the bridge remembers about a synced user.
//
// It has no dependencies beyond the standard library, so every role package
// can import it without pulling in Redis, Graph or SCIM code.
package bridge

import "time"

// Change is one accepted Graph change notification for a user. Graph sends
// basic notifications for users, so a Change names the user that changed,
// never what changed.
type Change struct {
	// UserID is the Entra object ID taken from resourceData.id or resource.
	UserID string
	// ChangeType is Graph's changeType as sent ("updated", "deleted", or a
	// value this version does not know).
	ChangeType string
	// SubscriptionID is the Graph subscription that produced the item.
	SubscriptionID string
	// TenantID is the item's tenantId or resourceData.organizationId; Graph
	// has been seen to send it empty.
	TenantID string
	// SequenceNumber is resourceData.sequenceNumber as its decimal text,
	// because the 64-bit value does not survive a float64.
	SequenceNumber string
	// EventTime is resourceData.eventTime as sent.
	EventTime string
	// ReceivedAt is when the receiver accepted the item.
	ReceivedAt time.Time
}

// Lifecycle is one accepted Graph lifecycle notification.
type Lifecycle struct {
	SubscriptionID string
	// Event is lifecycleEvent: reauthorizationRequired, subscriptionRemoved,
	// missed, or a value this version does not know.
	Event    string
	TenantID string
	// SubscriptionExpiration is subscriptionExpirationDateTime as sent.
	SubscriptionExpiration string
	ReceivedAt             time.Time
}

// Job is a claim on one user's sync. While a worker holds the job no other
// worker can claim the same user; the claim lapses at LeaseUntil.
type Job struct {
	UserID string
	// Owner identifies the claiming worker; the store refuses to complete,
	// retry or dead-letter a job whose lease another owner now holds.
	Owner      string
	LeaseUntil time.Time
	// Attempt counts earlier failed attempts of this sync; 0 on the first try.
	Attempt int
	// FirstFailure is when the first failed attempt happened; zero when
	// Attempt is 0. Retries stop once it is older than the maximum retry age.
	FirstFailure time.Time
	// NotifiedAt is when the oldest notification this job covers was
	// accepted, for end-to-end lag.
	NotifiedAt time.Time
	// LatestAt is when the newest notification this job covers was
	// accepted; zero when unknown. Bulk resolution uses it to tell
	// whether Graph's delta can already show the change.
	LatestAt time.Time
}

// Snapshot is the state the bridge last wrote to, or confirmed in,
// Atlassian for one user.
type Snapshot struct {
	UserID            string
	UserPrincipalName string
	Mail              string
	ScimUserID        string
	SyncedAt          time.Time
}

// DeadLetter is a sync the bridge gave up on, kept for an operator.
type DeadLetter struct {
	// ID is the store's identifier of the entry, used by retry and drop.
	ID     string
	UserID string
	// Reason is a stable code such as "unmapped" or "scim_conflict";
	// docs/operations.md lists them with what an admin should do.
	Reason   string
	Detail   string
	Attempts int
	At       time.Time
}

// AuditEntry records one PATCH the bridge sent, or would have sent in a
// dry run, with the values before and after.
type AuditEntry struct {
	// ID is the store's identifier of the entry; empty until stored.
	ID         string
	At         time.Time
	UserID     string
	ScimUserID string

	BeforeUserName string
	BeforeEmail    string
	AfterUserName  string
	AfterEmail     string

	// Result is "patched", "dry_run" or "failed".
	Result string
	DryRun bool
	// Detail is the SCIM error of a failed PATCH.
	Detail string
}
