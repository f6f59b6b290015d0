package redisstore

import "strings"

// keys contains the Redis key names of the store. Each name has the form
// "{prefix}:name": the braces are a Redis Cluster hash tag, so all keys of
// one prefix live in one slot and every Lua script and MULTI/EXEC may touch
// any of them.
type keys struct {
	prefix string

	// inbox is a stream of accepted change notifications, one entry per
	// webhook request.
	inbox string
	// legacyInbox is the stream of versions that wrote one entry per
	// notification with a "user" field. Those versions never read inbox,
	// because they would drop its entries. Schedule drains legacyInbox, so
	// entries they write during a rolling upgrade are not lost.
	legacyInbox string
	// lifecycle is a stream of accepted lifecycle notifications.
	lifecycle string
	// due is a sorted set: user ID → unix ms when its sync becomes due.
	due string
	// leases is a sorted set: user ID → unix ms lease deadline.
	leases string
	// owners is a hash: user ID → owner of the lease.
	owners string
	// claims is a hash: user ID → the lease deadline set by Claim (unix
	// ms). A job whose LeaseUntil is older belongs to an earlier claim.
	claims string
	// dirty is a hash: user ID → received-at (unix ms) of the oldest
	// notification that arrived while the user was leased.
	dirty string
	// notified is a hash: user ID → received-at (unix ms) of the oldest
	// notification the pending sync covers.
	notified string
	// latest is a hash: user ID → received-at (unix ms) of the newest
	// notification not yet covered by a completed sync. Bulk resolution
	// uses it to tell a recent change from an old one.
	latest string
	// attempts is a hash: user ID → count of failed attempts. Users
	// without failures have no field.
	attempts string
	// firstFailure is a hash: user ID → unix ms of the first failure.
	firstFailure string
	// lastError is a hash: user ID → message of the latest failure.
	lastError string
	// dead is a stream of dead letters.
	dead string
	// deadIndex is a hash: user ID → ID of its dead letter. A user has at
	// most one dead letter, the newest.
	deadIndex string
	// mapping is a hash: Entra object ID → Atlassian SCIM user ID.
	mapping string
	// audit is a stream with one entry per PATCH or dry run.
	audit string
}

// Consumer group names on the inbox and lifecycle streams.
const (
	schedulerGroup    = "scheduler"
	subscriptionGroup = "subscription"
)

func newKeys(prefix string) keys {
	k := func(name string) string { return "{" + prefix + "}:" + name }
	return keys{
		prefix:       prefix,
		inbox:        k("inbox:v2"),
		legacyInbox:  k("inbox"),
		lifecycle:    k("lifecycle"),
		due:          k("due"),
		leases:       k("leases"),
		owners:       k("owners"),
		claims:       k("claims"),
		dirty:        k("dirty"),
		notified:     k("notified"),
		latest:       k("latest"),
		attempts:     k("attempts"),
		firstFailure: k("first_failure"),
		lastError:    k("last_error"),
		dead:         k("dead"),
		deadIndex:    k("dead:index"),
		mapping:      k("map"),
		audit:        k("audit"),
	}
}

// user returns the key of the snapshot hash of one user.
func (k keys) user(id string) string { return "{" + k.prefix + "}:user:" + userKey(id) }

// userKey returns the form of an Entra object ID used in every key and
// member: lower case, as Graph returns object IDs. Object IDs are GUIDs,
// which compare without case, so an ID typed in upper case by an operator
// must name the same user.
func userKey(id string) string { return strings.ToLower(id) }

// pause returns the key of a pool-wide pause.
func (k keys) pause(name string) string { return "{" + k.prefix + "}:pause:" + name }

// rate returns the key of a shared rate limiter's state.
func (k keys) rate(name string) string { return "{" + k.prefix + "}:rate:" + name }

// pattern returns a SCAN MATCH pattern for every key under the prefix, with
// glob characters in the prefix escaped.
func (k keys) pattern() string {
	var b strings.Builder
	b.WriteString("{")
	for _, r := range k.prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteString("}:*")
	return b.String()
}
