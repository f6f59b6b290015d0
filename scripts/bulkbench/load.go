package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Burst shape: Graph delivers up to 100 notifications per POST, and the
// senders model Graph's parallel deliveries.
const (
	notificationsPerPost = 100
	notificationsPerUser = 2
	senders              = 8
	postAttempts         = 5
)

// burst posts the notifications of a run and records when the last one
// was accepted.
type burst struct {
	client   *http.Client
	url      string
	posts    atomic.Int64
	accepted atomic.Int64
	retries  atomic.Int64
	mu       sync.Mutex
	lastAt   time.Time
}

// send notifies every user of ids notificationsPerUser times, one round
// over all users after the other, in POSTs of notificationsPerPost.
func (b *burst) send(ctx context.Context, ids []string) error {
	bodies := make(chan []byte)
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for body := range bodies {
				if err := b.post(ctx, body); err != nil {
					errs <- err
					return
				}
			}
		})
	}

	var sendErr error
feed:
	for range notificationsPerUser {
		for start := 0; start < len(ids); start += notificationsPerPost {
			body := notificationBody(ids[start:min(start+notificationsPerPost, len(ids))])
			select {
			case bodies <- body:
			case sendErr = <-errs:
				break feed
			case <-ctx.Done():
				sendErr = ctx.Err()
				break feed
			}
		}
	}
	close(bodies)
	wg.Wait()
	close(errs)
	if sendErr != nil {
		return sendErr
	}
	return <-errs // nil when every sender finished
}

// post sends one body, retrying a 5xx or a connection error as Graph
// does, and fails after postAttempts.
func (b *burst) post(ctx context.Context, body []byte) error {
	var lastErr error
	for attempt := range postAttempts {
		if attempt > 0 {
			b.retries.Add(1)
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		b.posts.Add(1)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("build notification request: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := b.client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted {
			b.accepted.Add(1)
			b.mu.Lock()
			b.lastAt = time.Now()
			b.mu.Unlock()
			return nil
		}
		lastErr = fmt.Errorf("status %d", resp.StatusCode)
		if resp.StatusCode < 500 {
			break
		}
	}
	return fmt.Errorf("post notifications to %s: %w", b.url, lastErr)
}

func (b *burst) lastAccepted() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastAt
}

// notificationBody is a Graph delivery of basic change notifications,
// one per user, as Graph sends for users.
func notificationBody(ids []string) []byte {
	items := make([]any, len(ids))
	expires := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	for i, id := range ids {
		items[i] = map[string]any{
			"subscriptionId":                 "5c1d7e2a-8b3f-4a6c-9d0e-2f1a3b4c5d6e",
			"subscriptionExpirationDateTime": expires,
			"changeType":                     "updated",
			"clientState":                    clientState,
			"resource":                       "Users/" + id,
			"resourceData": map[string]any{
				"@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/" + id, "id": id,
				"organizationId": tenantID,
			},
			"tenantId": tenantID,
		}
	}
	body, _ := json.Marshal(map[string]any{"value": items}) // Maps of strings always marshal.
	return body
}
