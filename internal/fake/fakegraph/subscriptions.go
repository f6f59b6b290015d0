package fakegraph

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxSubscriptionMinutes is Graph's maximum subscription lifetime for
// users, in minutes (learn.microsoft.com/graph/api/resources/subscription).
const maxSubscriptionMinutes = 41_760

// maxClientStateBytes is Graph's limit on clientState.
const maxClientStateBytes = 128

// graphTimeLayout is Graph's format of expirationDateTime: UTC with seven
// fractional digits.
const graphTimeLayout = "2006-01-02T15:04:05.0000000Z"

// Subscription is a change-notification subscription as the server stores
// it.
type Subscription struct {
	ID                       string
	Resource                 string
	ChangeType               string
	NotificationURL          string
	LifecycleNotificationURL string
	ClientState              string
	ExpirationDateTime       time.Time
}

// SubscriptionCounts counts the subscription requests that reached their
// handler, by operation, whatever their outcome.
type SubscriptionCounts struct {
	Create      int
	List        int
	Get         int
	Renew       int
	Reauthorize int
	Delete      int
}

// subscriptionState is the server's subscriptions. The Server's mu
// guards it.
type subscriptionState struct {
	byID   map[string]Subscription // by lower-case ID
	counts SubscriptionCounts
	now    func() time.Time
}

// SetNow replaces the clock the server judges subscription expirations
// by, so that a test can move it together with the client's. A nil now
// restores time.Now.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subscriptions.now = now
}

// Subscriptions returns the subscriptions that have not expired, by ID.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveSubscriptions()
}

// PutSubscription stores sub as if a client had created it, without
// validation; an empty ID gets a random one. It returns the stored
// subscription.
func (s *Server) PutSubscription(sub Subscription) Subscription {
	if sub.ID == "" {
		sub.ID = newUUID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subscriptionMap()[strings.ToLower(sub.ID)] = sub
	return sub
}

// RemoveSubscription deletes a subscription as Graph does before it sends
// subscriptionRemoved, and reports whether it existed. Renewing or
// reauthorizing it afterwards gets 404.
func (s *Server) RemoveSubscription(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(id)
	_, ok := s.subscriptionMap()[key]
	delete(s.subscriptionMap(), key)
	return ok
}

// SubscriptionRequests returns how many subscription requests of each
// operation reached their handler.
func (s *Server) SubscriptionRequests() SubscriptionCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subscriptions.counts
}

func (s *Server) registerSubscriptions(mux *http.ServeMux) {
	mux.HandleFunc("POST "+apiVersionPath+"/subscriptions", s.handleCreateSubscription)
	mux.HandleFunc("GET "+apiVersionPath+"/subscriptions", s.handleListSubscriptions)
	mux.HandleFunc("GET "+apiVersionPath+"/subscriptions/{id}", s.handleGetSubscription)
	mux.HandleFunc("PATCH "+apiVersionPath+"/subscriptions/{id}", s.handleRenewSubscription)
	mux.HandleFunc("DELETE "+apiVersionPath+"/subscriptions/{id}", s.handleDeleteSubscription)
	mux.HandleFunc("POST "+apiVersionPath+"/subscriptions/{id}/reauthorize", s.handleReauthorizeSubscription)
}

// subscriptionBody is the JSON a client sends to create or update a
// subscription. Other fields are ignored.
type subscriptionBody struct {
	Resource                 string  `json:"resource"`
	ChangeType               string  `json:"changeType"`
	NotificationURL          string  `json:"notificationUrl"`
	LifecycleNotificationURL string  `json:"lifecycleNotificationUrl"`
	ClientState              string  `json:"clientState"`
	ExpirationDateTime       *string `json:"expirationDateTime"`
}

// handleCreateSubscription serves POST /subscriptions: it validates the
// fields, rejects a second subscription to the same resource and change
// types with 409, sends the validation requests and stores the
// subscription.
func (s *Server) handleCreateSubscription(w http.ResponseWriter, r *http.Request) {
	s.countSubscriptionRequest(func(c *SubscriptionCounts) { c.Create++ })
	var body subscriptionBody
	if err := decodeBody(r, &body); err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Invalid request body: "+err.Error())
		return
	}
	sub, status, code, message := s.newSubscription(body)
	if status != 0 {
		writeError(w, r, status, code, message)
		return
	}
	if !s.skipValidation {
		for _, target := range []string{sub.NotificationURL, sub.LifecycleNotificationURL} {
			if target == "" {
				continue
			}
			if code, message := s.validateEndpoint(r.Context(), target); code != "" {
				writeError(w, r, http.StatusBadRequest, code, message)
				return
			}
		}
	}

	s.mu.Lock()
	conflict := slices.ContainsFunc(s.liveSubscriptions(), func(other Subscription) bool {
		return sameResource(other.Resource, sub.Resource) && sameChangeTypes(other.ChangeType, sub.ChangeType)
	})
	if !conflict {
		s.subscriptionMap()[strings.ToLower(sub.ID)] = sub
	}
	s.mu.Unlock()
	if conflict {
		// NOTE: Graph's error code for a duplicate subscription is not
		// documented; only the 409 status is relied on.
		writeError(w, r, http.StatusConflict, "ExtensionError",
			"A subscription for this resource and change type already exists for the application.")
		return
	}
	writeJSON(w, r, http.StatusCreated, s.subscriptionJSON(sub, true, "/$entity"))
}

// decodeBody decodes a JSON request body into v. The Graph SDK compresses
// request bodies with gzip and sets Content-Encoding, which Graph accepts.
func decodeBody(r *http.Request, v any) error {
	var body io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			return err
		}
		defer gz.Close()
		body = gz
	}
	return json.NewDecoder(body).Decode(v)
}

// newSubscription checks a create request and returns the subscription
// to store, or the status, code and message of the error.
func (s *Server) newSubscription(body subscriptionBody) (Subscription, int, string, string) {
	invalid := func(message string) (Subscription, int, string, string) {
		return Subscription{}, http.StatusBadRequest, "InvalidRequest", message
	}
	if !sameResource(body.Resource, "users") {
		return invalid(fmt.Sprintf("Resource '%s' is not supported by this server: only 'users' is.", body.Resource))
	}
	if body.ChangeType == "" {
		return invalid("changeType is required.")
	}
	for _, ct := range strings.Split(body.ChangeType, ",") {
		if !slices.Contains([]string{"created", "updated", "deleted"}, strings.TrimSpace(ct)) {
			return invalid(fmt.Sprintf("Invalid changeType '%s'.", ct))
		}
	}
	if message := checkNotificationURL("notificationUrl", body.NotificationURL, true); message != "" {
		return invalid(message)
	}
	if message := checkNotificationURL("lifecycleNotificationUrl", body.LifecycleNotificationURL, false); message != "" {
		return invalid(message)
	}
	if len(body.ClientState) > maxClientStateBytes {
		return invalid(fmt.Sprintf("clientState must be at most %d characters.", maxClientStateBytes))
	}
	expiration, status, code, message := s.checkExpiration(body.ExpirationDateTime)
	if status != 0 {
		return Subscription{}, status, code, message
	}
	return Subscription{
		ID:                       newUUID(),
		Resource:                 body.Resource,
		ChangeType:               body.ChangeType,
		NotificationURL:          body.NotificationURL,
		LifecycleNotificationURL: body.LifecycleNotificationURL,
		ClientState:              body.ClientState,
		ExpirationDateTime:       expiration,
	}, 0, "", ""
}

// checkExpiration parses expirationDateTime and checks that it lies in the
// future and within Graph's maximum lifetime.
func (s *Server) checkExpiration(raw *string) (time.Time, int, string, string) {
	if raw == nil {
		return time.Time{}, http.StatusBadRequest, "InvalidRequest", "expirationDateTime is required."
	}
	t, err := time.Parse(time.RFC3339Nano, *raw)
	if err != nil {
		return time.Time{}, http.StatusBadRequest, "InvalidRequest",
			fmt.Sprintf("expirationDateTime '%s' is not a valid date and time.", *raw)
	}
	now := s.clock()
	if !t.After(now) {
		return time.Time{}, http.StatusBadRequest, "InvalidRequest", "Subscription expiration must be in the future."
	}
	if t.After(now.Add(maxSubscriptionMinutes * time.Minute)) {
		// The message Graph sends, with the maximum for users.
		return time.Time{}, http.StatusBadRequest, "ExtensionError",
			fmt.Sprintf("Subscription expiration can only be %d minutes in the future.", maxSubscriptionMinutes)
	}
	return t.UTC(), 0, "", ""
}

// checkNotificationURL returns why raw is not acceptable, or "". Graph
// requires https. The server also accepts http on a loopback host, so
// that tests can run a receiver without TLS.
func checkNotificationURL(field, raw string, required bool) string {
	if raw == "" {
		if required {
			return field + " is required."
		}
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
		return fmt.Sprintf("Invalid %s '%s': it must be an absolute https URL.", field, raw)
	}
	return ""
}

// handleListSubscriptions serves GET /subscriptions with every live
// subscription in one page.
func (s *Server) handleListSubscriptions(w http.ResponseWriter, r *http.Request) {
	s.countSubscriptionRequest(func(c *SubscriptionCounts) { c.List++ })
	s.mu.Lock()
	subs := s.liveSubscriptions()
	s.mu.Unlock()
	values := make([]map[string]any, len(subs))
	for i, sub := range subs {
		values[i] = s.subscriptionJSON(sub, false, "")
		delete(values[i], "@odata.context")
	}
	writeJSON(w, r, http.StatusOK, map[string]any{
		"@odata.context": s.BaseURL() + "/$metadata#subscriptions",
		"value":          values,
	})
}

func (s *Server) handleGetSubscription(w http.ResponseWriter, r *http.Request) {
	s.countSubscriptionRequest(func(c *SubscriptionCounts) { c.Get++ })
	sub, ok := s.findSubscription(r.PathValue("id"))
	if !ok {
		writeSubscriptionNotFound(w, r)
		return
	}
	writeJSON(w, r, http.StatusOK, s.subscriptionJSON(sub, false, "/$entity"))
}

// handleRenewSubscription serves PATCH /subscriptions/{id}, which sets a
// new expirationDateTime.
func (s *Server) handleRenewSubscription(w http.ResponseWriter, r *http.Request) {
	s.countSubscriptionRequest(func(c *SubscriptionCounts) { c.Renew++ })
	var body subscriptionBody
	if err := decodeBody(r, &body); err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Invalid request body: "+err.Error())
		return
	}
	if _, ok := s.findSubscription(r.PathValue("id")); !ok {
		writeSubscriptionNotFound(w, r)
		return
	}
	expiration, status, code, message := s.checkExpiration(body.ExpirationDateTime)
	if status != 0 {
		writeError(w, r, status, code, message)
		return
	}

	s.mu.Lock()
	key := strings.ToLower(r.PathValue("id"))
	sub, ok := s.subscriptionMap()[key]
	if ok {
		sub.ExpirationDateTime = expiration
		s.subscriptionMap()[key] = sub
	}
	s.mu.Unlock()
	if !ok {
		writeSubscriptionNotFound(w, r)
		return
	}
	writeJSON(w, r, http.StatusOK, s.subscriptionJSON(sub, false, "/$entity"))
}

// handleReauthorizeSubscription serves POST /subscriptions/{id}/reauthorize
// with 204.
func (s *Server) handleReauthorizeSubscription(w http.ResponseWriter, r *http.Request) {
	s.countSubscriptionRequest(func(c *SubscriptionCounts) { c.Reauthorize++ })
	if _, ok := s.findSubscription(r.PathValue("id")); !ok {
		writeSubscriptionNotFound(w, r)
		return
	}
	setGraphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDeleteSubscription(w http.ResponseWriter, r *http.Request) {
	s.countSubscriptionRequest(func(c *SubscriptionCounts) { c.Delete++ })
	if !s.RemoveSubscription(r.PathValue("id")) {
		writeSubscriptionNotFound(w, r)
		return
	}
	setGraphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// writeSubscriptionNotFound sends the 404 Graph sends for a subscription
// it does not have.
func writeSubscriptionNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotFound, "ResourceNotFound", "The object was not found.")
}

// subscriptionJSON returns the JSON object Graph sends for sub.
// clientState is echoed only in the response to a creation.
// NOTE: whether Graph returns clientState when it lists or reads
// subscriptions is not documented; this server returns null.
func (s *Server) subscriptionJSON(sub Subscription, withClientState bool, contextSuffix string) map[string]any {
	var clientState any
	if withClientState {
		clientState = nullIfEmpty(sub.ClientState)
	}
	return map[string]any{
		"@odata.context":            s.BaseURL() + "/$metadata#subscriptions" + contextSuffix,
		"id":                        sub.ID,
		"resource":                  sub.Resource,
		"applicationId":             fakeApplicationID,
		"changeType":                sub.ChangeType,
		"clientState":               clientState,
		"notificationUrl":           sub.NotificationURL,
		"notificationQueryOptions":  nil,
		"lifecycleNotificationUrl":  nullIfEmpty(sub.LifecycleNotificationURL),
		"expirationDateTime":        sub.ExpirationDateTime.UTC().Format(graphTimeLayout),
		"creatorId":                 fakeApplicationID,
		"includeResourceData":       nil,
		"latestSupportedTlsVersion": "v1_2",
		"encryptionCertificate":     nil,
		"encryptionCertificateId":   nil,
		"notificationUrlAppId":      nil,
	}
}

// fakeApplicationID is the applicationId and creatorId of every
// subscription, as if one app created them all.
const fakeApplicationID = "5d2e7c1a-9b3f-4e6d-8a0c-1f2e3d4c5b6a"

func (s *Server) findSubscription(id string) (Subscription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subscriptionMap()[strings.ToLower(id)]
	if !ok || !sub.ExpirationDateTime.After(s.clock()) {
		return Subscription{}, false
	}
	return sub, true
}

// liveSubscriptions returns the subscriptions that have not expired, by
// ID, and drops the expired ones as Graph does. The caller holds mu.
func (s *Server) liveSubscriptions() []Subscription {
	now := s.clock()
	var out []Subscription
	for key, sub := range s.subscriptionMap() {
		if !sub.ExpirationDateTime.After(now) {
			delete(s.subscriptions.byID, key)
			continue
		}
		out = append(out, sub)
	}
	slices.SortFunc(out, func(a, b Subscription) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// subscriptionMap returns the subscriptions by lower-case ID, creating
// the map on first use. The caller holds mu.
func (s *Server) subscriptionMap() map[string]Subscription {
	if s.subscriptions.byID == nil {
		s.subscriptions.byID = make(map[string]Subscription)
	}
	return s.subscriptions.byID
}

// clock returns the current time by the server's clock. The caller holds
// mu.
func (s *Server) clock() time.Time {
	if s.subscriptions.now == nil {
		return time.Now()
	}
	return s.subscriptions.now()
}

func (s *Server) countSubscriptionRequest(count func(c *SubscriptionCounts)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	count(&s.subscriptions.counts)
}

// sameResource compares resource paths as Graph does: "users" and
// "/Users" name the same resource.
func sameResource(a, b string) bool {
	return strings.EqualFold(strings.Trim(a, "/"), strings.Trim(b, "/"))
}

// sameChangeTypes compares comma-separated changeType lists in any order.
func sameChangeTypes(a, b string) bool {
	split := func(s string) []string {
		var out []string
		for part := range strings.SplitSeq(strings.ToLower(s), ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(split(a), split(b))
}

// isLoopback reports whether host is a loopback name or address, the
// only hosts the server sends requests to.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
