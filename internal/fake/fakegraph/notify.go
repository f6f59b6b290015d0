package fakegraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// validationTimeout is how long Graph waits for the echo of a validation
// token before it rejects a new subscription.
const validationTimeout = 10 * time.Second

// maxEchoBytes bounds how much of a validation response the server reads.
const maxEchoBytes = 64 << 10

// notificationClient returns the client for requests to notification
// URLs: Options.NotificationClient, or one with Graph's 10-s timeout.
func (s *Server) notificationClient() *http.Client {
	if s.notifier != nil {
		return s.notifier
	}
	return &http.Client{Timeout: validationTimeout}
}

// validateEndpoint sends Graph's validation request to target: a POST
// with a validationToken query parameter and a text/plain body. The
// endpoint must respond within 10 s with 200, Content-Type text/plain and
// the decoded token as its body. It returns the error code and message
// Graph sends when validation fails, or "" on success.
func (s *Server) validateEndpoint(ctx context.Context, target string) (code, message string) {
	u, err := url.Parse(target)
	if err != nil || !isLoopback(u.Hostname()) {
		return "ValidationError", fmt.Sprintf("Subscription validation request failed: this fake Graph sends "+
			"requests to loopback hosts only, not to %s. Start it with SkipValidation instead.", target)
	}
	// Graph's tokens contain spaces and colons, so a receiver that echoes
	// the encoded form fails.
	token := "Validation: Testing client application reachability for subscription Request-Id: " + newUUID()
	query := u.Query()
	query.Set("validationToken", token)
	u.RawQuery = query.Encode()

	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return "ValidationError", "Subscription validation request failed: " + err.Error()
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := s.notificationClient().Do(req)
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return "InvalidRequest", "Subscription validation request timed out."
	}
	if err != nil {
		return "ValidationError", "Subscription validation request failed: " + err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEchoBytes))
	if err != nil {
		return "ValidationError", "Subscription validation request failed: " + err.Error()
	}

	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode != http.StatusOK:
		return "ValidationError", fmt.Sprintf("Subscription validation request failed. HTTP status code is '%s'. "+
			"Notification endpoint must respond with 200 OK to validation request.", http.StatusText(resp.StatusCode))
	case mediaType != "text/plain":
		return "ValidationError", fmt.Sprintf("Subscription validation request failed. Response Content-Type "+
			"'%s' must be text/plain.", resp.Header.Get("Content-Type"))
	case string(body) != token:
		return "ValidationError", "Subscription validation request failed. Response must exactly match validationToken query parameter."
	}
	return "", ""
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// SendLifecycleNotification posts one lifecycle notification for the
// subscription id to its lifecycleNotificationUrl, as Graph does, and
// returns an error unless the endpoint responded with 2xx. The item carries
// subscriptionId, subscriptionExpirationDateTime, tenantId (Options.TenantID),
// clientState and lifecycleEvent, and no changeType or resourceData.
func (s *Server) SendLifecycleNotification(ctx context.Context, id, event string) error {
	s.mu.Lock()
	sub, ok := s.subscriptionMap()[strings.ToLower(id)]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("fakegraph: send %s: no subscription %s", event, id)
	}
	if sub.LifecycleNotificationURL == "" {
		return fmt.Errorf("fakegraph: send %s: subscription %s has no lifecycleNotificationUrl", event, id)
	}
	u, err := url.Parse(sub.LifecycleNotificationURL)
	if err != nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("fakegraph: send %s: this fake Graph sends requests to loopback hosts only, not to %s",
			event, sub.LifecycleNotificationURL)
	}

	body, err := json.Marshal(map[string]any{"value": []map[string]any{{
		"subscriptionId":                 sub.ID,
		"subscriptionExpirationDateTime": sub.ExpirationDateTime.UTC().Format(graphTimeLayout),
		"tenantId":                       s.tenantID,
		"clientState":                    sub.ClientState,
		"lifecycleEvent":                 event,
	}}})
	if err != nil {
		return fmt.Errorf("fakegraph: send %s: %w", event, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.LifecycleNotificationURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("fakegraph: send %s: %w", event, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.notificationClient().Do(req)
	if err != nil {
		return fmt.Errorf("fakegraph: send %s to %s: %w", event, sub.LifecycleNotificationURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("fakegraph: send %s to %s: got status %d, want 2xx", event, sub.LifecycleNotificationURL, resp.StatusCode)
	}
	return nil
}
