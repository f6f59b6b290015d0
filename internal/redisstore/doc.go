// Package redisstore keeps every piece of the bridge's durable state in
// Redis: the queue of notifications, the per-user sync schedule and its
// leases, retries and dead letters, the Entra-to-Atlassian ID mapping,
// per-user snapshots, the audit trail, and pool-wide pauses and rate
// limits. It is the only package that names a Redis key or runs a Lua
// script.
//
// # Data structures
//
// All keys have the form "{prefix}:name". The braces are a Redis Cluster
// hash tag, so every key of one prefix lives in one slot and any script
// may touch any of them.
//
//   - inbox:v2 (stream): accepted change notifications, one entry per
//     webhook request (per received time) with the users of its items and
//     the received time. The receiver appends with Enqueue; the consumer
//     group "scheduler" reads them. inbox is the stream of versions that
//     wrote one entry per notification; Schedule drains it first and
//     TrimInbox deletes it once drained. TrimInbox drops processed entries older than
//     InboxRetention, so ReplayInbox has history; unprocessed entries stay.
//   - lifecycle (stream): accepted lifecycle notifications, read by the
//     consumer group "subscription".
//   - due (sorted set): user → unix ms when its sync becomes due.
//   - leases (sorted set): user → lease deadline; owners (hash): user →
//     lease owner; claims (hash): user → deadline set when claimed.
//   - dirty (hash): user → received time of the oldest notification that
//     arrived while the user was leased.
//   - notified (hash): user → received time of the oldest notification the
//     pending sync covers, for end-to-end lag; latest (hash): the newest,
//     which bulk resolution compares with Graph's replication lag.
//   - attempts, first_failure, last_error (hashes): failure bookkeeping of
//     users whose last attempt failed.
//   - dead (stream): dead letters. map (hash): Entra object ID → SCIM
//     user ID. user:<id> (hash): snapshot. audit (stream): one entry per
//     PATCH or dry run.
//   - pause:<name> (string with a TTL) and rate:<name> (GCRA state).
//   - leader:<name>, subscription, subscription:action:<action>:<id>,
//     delta:link, delta:last_run and delta:catch_up: the subscription
//     role's state (leader.go, subscription.go, delta.go).
//   - bulk:link, bulk:origin, bulk:round and changed: bulk resolution's
//     delta chain and the users a delta round reported changed (bulk.go).
//
// # Life of a notification
//
// Enqueue appends to the inbox in one XADD (in MULTI/EXEC when a request
// also holds lifecycle items) and returns only after Redis acknowledged,
// so an accepted notification is durable as far as Redis is (see its
// appendfsync setting). Schedule reads the entry through the consumer
// group and, in one script, makes each of its users due at now+debounce
// (ZADD NX: a burst of notifications coalesces into one sync and never
// pushes it later) and acknowledges the entry. Claim moves due users into leases;
// Complete, Retry or DeadLetter release the lease. ReclaimExpired returns
// users whose worker died to the due set.
//
// A user is never in due and leases at once, so no two workers sync one
// user concurrently. A notification for a leased user sets dirty instead,
// and the script that releases the lease makes the user due again, so the
// change that arrived mid-sync is not lost.
//
// # Why each move is one script
//
// Every change that touches more than one key runs as one Lua script (or
// one MULTI/EXEC), which Redis executes as one unit: no other command runs
// in between, and replicas and the AOF receive it whole. So a crash of a
// worker, a scheduler or the network at any point leaves each user either
// before or after a move, never half moved. A user is never in both due
// and leases, which would let two workers sync it at once. An inbox entry
// is never acknowledged unless its user is due, leased or dirty, because
// the script that schedules an entry also acknowledges it. An entry read
// by a consumer that crashed before that script stays pending, and
// another consumer takes it over after 30 s. Scripts read the time with
// redis.call('TIME'), so all replicas use the Redis server's clock however
// skewed their own are.
//
// Repeating a step is harmless: scheduling an entry twice costs at most
// one extra sync, and releasing a lease twice fails the second time with
// ErrLeaseLost.
package redisstore
