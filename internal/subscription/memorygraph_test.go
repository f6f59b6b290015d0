package subscription_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/subscription"
)

// Operations memoryGraph counts, one per method of subscription.Graph and
// subscription.DeltaSource.
const (
	opCreate      = "create"
	opList        = "list"
	opRenew       = "renew"
	opReauthorize = "reauthorize"
	opDelete      = "delete"
	opDelta       = "delta"
)

// memoryGraph is an in-memory Graph with subscriptions and a users delta
// query. It follows the rules the Manager and the Reconciler rely on. A
// second subscription to the same resource and change types gets 409, a
// missing subscription 404, and an expiration beyond the maximum 400. A
// delta round returns only what changed since its link.
type memoryGraph struct {
	mu  sync.Mutex
	now func() time.Time

	subs     map[string]subscription.Subscription
	nextID   int
	calls    map[string]int
	failures map[string][]error

	users    map[string]memoryUser
	version  int
	pageSize int
	// expiredBelow makes every delta or next link issued at a version
	// below it fail with syncStateNotFound.
	expiredBelow int
}

// memoryUser is a directory user and the version of its last change.
type memoryUser struct {
	user    subscription.DeltaUser
	version int
}

func newMemoryGraph(now func() time.Time) *memoryGraph {
	return &memoryGraph{
		now:      now,
		subs:     make(map[string]subscription.Subscription),
		calls:    make(map[string]int),
		failures: make(map[string][]error),
		users:    make(map[string]memoryUser),
		pageSize: 2,
	}
}

// count records a call of op and returns the failure queued for it, if
// any. The caller holds mu.
func (g *memoryGraph) count(op string) error {
	g.calls[op]++
	if queued := g.failures[op]; len(queued) > 0 {
		g.failures[op] = queued[1:]
		return queued[0]
	}
	return nil
}

// failNext makes the next call of op return err.
func (g *memoryGraph) failNext(op string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures[op] = append(g.failures[op], err)
}

// callCount returns how many calls of op arrived.
func (g *memoryGraph) callCount(op string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[op]
}

// totalCalls returns how many calls arrived, delta reads excluded.
func (g *memoryGraph) totalCalls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	total := 0
	for op, n := range g.calls {
		if op != opDelta {
			total += n
		}
	}
	return total
}

// add stores a subscription as if another process had created it.
func (g *memoryGraph) add(sub subscription.Subscription) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.subs[sub.ID] = sub
}

// remove deletes a subscription as Graph does before it sends
// subscriptionRemoved.
func (g *memoryGraph) remove(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.subs, id)
}

func (g *memoryGraph) subscription(id string) (subscription.Subscription, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sub, ok := g.subs[id]
	return sub, ok
}

func (g *memoryGraph) CreateSubscription(_ context.Context, req subscription.SubscriptionRequest) (subscription.Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.count(opCreate); err != nil {
		return subscription.Subscription{}, err
	}
	if err := g.checkExpiration(req.ExpirationDateTime); err != nil {
		return subscription.Subscription{}, err
	}
	for _, s := range g.subs {
		if normalized(s.Resource, "/") == normalized(req.Resource, "/") &&
			normalized(s.ChangeType, ",") == normalized(req.ChangeType, ",") {
			return subscription.Subscription{}, graphError(http.StatusConflict, "Conflict")
		}
	}
	g.nextID++
	sub := subscription.Subscription{
		ID:                       fmt.Sprintf("sub-%d", g.nextID),
		Resource:                 req.Resource,
		ChangeType:               req.ChangeType,
		NotificationURL:          req.NotificationURL,
		LifecycleNotificationURL: req.LifecycleNotificationURL,
		ClientState:              req.ClientState,
		ExpirationDateTime:       req.ExpirationDateTime,
	}
	g.subs[sub.ID] = sub
	return sub, nil
}

func (g *memoryGraph) ListSubscriptions(context.Context) ([]subscription.Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.count(opList); err != nil {
		return nil, err
	}
	var out []subscription.Subscription
	for _, s := range g.subs {
		// Graph does not return clientState when it lists subscriptions.
		s.ClientState = ""
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b subscription.Subscription) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (g *memoryGraph) RenewSubscription(_ context.Context, id string, expiration time.Time) (subscription.Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.count(opRenew); err != nil {
		return subscription.Subscription{}, err
	}
	sub, ok := g.subs[id]
	if !ok {
		return subscription.Subscription{}, graphError(http.StatusNotFound, "ResourceNotFound")
	}
	if err := g.checkExpiration(expiration); err != nil {
		return subscription.Subscription{}, err
	}
	sub.ExpirationDateTime = expiration
	g.subs[id] = sub
	return sub, nil
}

func (g *memoryGraph) ReauthorizeSubscription(_ context.Context, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.count(opReauthorize); err != nil {
		return err
	}
	if _, ok := g.subs[id]; !ok {
		return graphError(http.StatusNotFound, "ResourceNotFound")
	}
	return nil
}

func (g *memoryGraph) DeleteSubscription(_ context.Context, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.count(opDelete); err != nil {
		return err
	}
	if _, ok := g.subs[id]; !ok {
		return graphError(http.StatusNotFound, "ResourceNotFound")
	}
	delete(g.subs, id)
	return nil
}

func (g *memoryGraph) checkExpiration(t time.Time) error {
	if t.After(g.now().Add(subscription.MaxLifetime)) {
		return graphError(http.StatusBadRequest, "ExtensionError")
	}
	return nil
}

// putUser creates or changes a directory user.
func (g *memoryGraph) putUser(id, upn, mail string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.version++
	g.users[id] = memoryUser{
		user:    subscription.DeltaUser{ID: id, UserPrincipalName: upn, Mail: mail},
		version: g.version,
	}
}

// removeUser deletes a directory user; reason is "changed" for a soft
// delete and "deleted" for a permanent one.
func (g *memoryGraph) removeUser(id, reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.version++
	u := g.users[id]
	u.user.Removed = reason
	u.version = g.version
	g.users[id] = u
}

// expireLinks makes every link issued so far fail with syncStateNotFound.
func (g *memoryGraph) expireLinks() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.version++
	g.expiredBelow = g.version
}

// UsersDelta serves links of the form "delta:<since>" and
// "next:<since>:<upper>:<offset>", where since is -1 for a full round.
func (g *memoryGraph) UsersDelta(_ context.Context, link string) (subscription.DeltaPage, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.count(opDelta); err != nil {
		return subscription.DeltaPage{}, err
	}

	// issued is the version at which the link was issued.
	since, upper, offset, issued := -1, g.version, 0, g.version
	switch {
	case link == "":
	case strings.HasPrefix(link, "delta:"):
		since = atoi(strings.TrimPrefix(link, "delta:"))
		issued = since
	case strings.HasPrefix(link, "next:"):
		parts := strings.Split(strings.TrimPrefix(link, "next:"), ":")
		since, upper, offset = atoi(parts[0]), atoi(parts[1]), atoi(parts[2])
		issued = upper
	default:
		return subscription.DeltaPage{}, graphError(http.StatusBadRequest, "BadRequest")
	}
	if issued < g.expiredBelow {
		return subscription.DeltaPage{}, graphError(http.StatusBadRequest, "syncStateNotFound")
	}

	entries := g.roundEntries(since, upper)
	end := min(offset+g.pageSize, len(entries))
	page := subscription.DeltaPage{Users: entries[offset:end]}
	if end < len(entries) {
		page.NextLink = fmt.Sprintf("next:%d:%d:%d", since, upper, end)
	} else {
		page.DeltaLink = fmt.Sprintf("delta:%d", upper)
	}
	return page, nil
}

// roundEntries returns the users changed after version since and up to
// upper, by ID. A full round (since -1) leaves removed users out.
func (g *memoryGraph) roundEntries(since, upper int) []subscription.DeltaUser {
	var out []subscription.DeltaUser
	for _, u := range g.users {
		if u.version <= since || u.version > upper || since < 0 && u.user.Removed != "" {
			continue
		}
		out = append(out, u.user)
	}
	slices.SortFunc(out, func(a, b subscription.DeltaUser) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// graphError returns the *failure.Error the graph client returns for a
// Graph error response.
func graphError(status int, code string) error {
	return &failure.Error{Service: "graph", Class: failure.ClassOfStatus(status), Status: status, Code: code}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// normalized returns s in lower case with the parts between sep sorted
// and empty parts dropped, so that "/Users" equals "users" and
// "updated,deleted" equals "deleted,updated".
func normalized(s, sep string) string {
	var parts []string
	for part := range strings.SplitSeq(strings.ToLower(s), sep) {
		if part != "" {
			parts = append(parts, part)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, sep)
}
