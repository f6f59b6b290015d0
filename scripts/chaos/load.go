package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
)

// Retry delays of a notification that got a 5xx or no response. Graph
// retries for hours, but the run only needs the notification to get
// through once Redis or the process is back.
const (
	retryBase = 100 * time.Millisecond
	retryMax  = 2 * time.Second
)

// load renames users in the fake Graph and posts their notifications to
// the bridge processes, counting every response.
type load struct {
	graph  *fakegraph.Server
	bases  []string
	rate   float64
	client *http.Client
	users  []*loadUser

	sent        atomic.Int64
	accepted    atomic.Int64
	serverError atomic.Int64
	connError   atomic.Int64
	otherStatus atomic.Int64
	renames     atomic.Int64

	senders sync.WaitGroup
}

// loadUser is one user's rename history.
type loadUser struct {
	index int
	id    string

	mu sync.Mutex
	// version counts the renames made in Graph.
	version int
	// acceptedVersion is the highest version a 202 notification covers.
	// The bridge reads Graph after it queued the notification, so its
	// sync reads at least that version.
	acceptedVersion int
}

func newLoad(fk *fakes, bases []string, rate float64) *load {
	ld := &load{graph: fk.Graph, bases: bases, rate: rate, client: &http.Client{Timeout: 10 * time.Second}}
	for i, u := range fk.users {
		ld.users = append(ld.users, &loadUser{index: i, id: u.id})
	}
	return ld
}

// run renames a random user rate times per second until loadCtx ends.
// Notifications are retried until accepted or until sendCtx ends.
func (ld *load) run(loadCtx, sendCtx context.Context, events *eventLog) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / ld.rate))
	defer tick.Stop()
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	for {
		select {
		case <-loadCtx.Done():
			return
		case <-progress.C:
			events.printf("load: %d renames, %d notifications accepted, %d 5xx responses, %d connection errors",
				ld.renames.Load(), ld.accepted.Load(), ld.serverError.Load(), ld.connError.Load())
		case <-tick.C:
			ld.rename(sendCtx, ld.users[rand.IntN(len(ld.users))])
		}
	}
}

// rename changes the user's UPN (and mail, if it has one) in Graph, then
// sends one to three notifications for it, as Graph sends duplicates.
func (ld *load) rename(ctx context.Context, u *loadUser) {
	u.mu.Lock()
	u.version++
	v := u.version
	upn, mail := userNames(u.index, v)
	ld.graph.PutUser(fakegraph.User{ID: u.id, UserPrincipalName: upn, Mail: mail, AccountEnabled: true})
	u.mu.Unlock()
	ld.renames.Add(1)

	for range 1 + rand.IntN(3) {
		ld.senders.Go(func() { ld.deliver(ctx, u, v) })
	}
}

// deliver posts a notification for u until a process accepts it,
// switching processes after each failure.
func (ld *load) deliver(ctx context.Context, u *loadUser, version int) {
	body := notificationBody(u.id)
	first := rand.IntN(len(ld.bases))
	delay := retryBase
	for attempt := 0; ; attempt++ {
		status, err := ld.post(ctx, ld.bases[(first+attempt)%len(ld.bases)], body)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			ld.connError.Add(1)
		case status == http.StatusAccepted:
			ld.accepted.Add(1)
			u.markAccepted(version)
			return
		case status >= 500:
			ld.serverError.Add(1)
		default:
			// Graph does not retry a 4xx, so neither does the load. The
			// report shows the count.
			ld.otherStatus.Add(1)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, retryMax)
	}
}

func (ld *load) post(ctx context.Context, base string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/graph", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	ld.sent.Add(1)
	resp, err := ld.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitSenders waits until every notification was accepted or given up, and
// reports false when ctx ended first.
func (ld *load) waitSenders(ctx context.Context) bool {
	done := make(chan struct{})
	go func() { ld.senders.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func (u *loadUser) markAccepted(version int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.acceptedVersion = max(u.acceptedVersion, version)
}

// lastChangeAccepted reports whether a 202 notification covers the user's
// latest rename.
func (u *loadUser) lastChangeAccepted() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.acceptedVersion >= u.version
}

// notificationBody is a Graph basic change notification for one user, as
// Graph sends for users (no resource data).
func notificationBody(id string) []byte {
	item := map[string]any{
		"subscriptionId":                 "8cd129ff-8499-432a-969c-6bfe388c3c3c",
		"subscriptionExpirationDateTime": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
		"changeType":                     "updated",
		"clientState":                    clientState,
		"resource":                       "Users/" + id,
		"resourceData": map[string]any{
			"@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/" + id, "id": id,
			"organizationId": tenantID,
		},
		"tenantId": tenantID,
	}
	body, _ := json.Marshal(map[string]any{"value": []any{item}})
	return body
}
