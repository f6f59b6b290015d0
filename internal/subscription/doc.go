// Package subscription keeps the bridge's Microsoft Graph subscription
// alive and catches up on changes that no notification reported.
//
// Graph drops a notification it cannot deliver within 4 hours, may delay
// user notifications by 30 minutes or more, and documents no "missed"
// lifecycle event for users. So the bridge cannot rely on notifications
// alone:
//
//   - [Manager] creates the subscription (or adopts the existing one when
//     Graph rejects the creation with 409), renews it well before it expires, and acts on
//     lifecycle notifications: reauthorizationRequired reauthorizes (or
//     renews), subscriptionRemoved creates a new subscription, and missed
//     requests a delta catch-up. Repeated lifecycle notifications coalesce,
//     so a flood of them costs a few Graph calls.
//   - [Reconciler] runs Graph's users delta query and queues a sync for
//     every user whose userPrincipalName or mail changed since the last
//     round, through the same queue as notifications, so the worker's
//     coalescing and per-user serialization apply.
//   - [Elector] makes one replica the leader through a lease in Redis. Only
//     the leader renews the subscription, acts on lifecycle notifications
//     and runs the periodic delta query; [Manager.Run] does all three.
//
// The package does not import the Graph SDK: it calls Graph through the
// small [Graph] and [DeltaSource] interfaces, which the graph package's
// client meets through a thin adapter.
package subscription
