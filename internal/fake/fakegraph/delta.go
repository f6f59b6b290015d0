package fakegraph

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// defaultDeltaPageSize is how many users one delta page carries unless
// SetDeltaPageSize changes it.
const defaultDeltaPageSize = 100

// trackedUserProperties are the properties whose changes the server
// records for the delta query, in the order of defaultUserProperties
// where they appear there.
var trackedUserProperties = []string{"accountEnabled", "displayName", "id", "mail", "userPrincipalName"}

// deltaState is the change log behind the users delta query. Every change
// to a user increments version, and each user remembers the version of
// the last change of each tracked property. The Server's mu guards it.
type deltaState struct {
	version  int64
	changes  map[string]*userChange // by lower-case ID
	tokens   map[string]*deltaToken // delta and skip tokens by value
	pageSize int
	// expiredStatus is the status of the response to an expired token:
	// 400, as Graph sends for directory resources, or 410 when a test
	// requests the status Outlook resources use.
	expiredStatus int
}

// userChange is the change log entry of one user.
type userChange struct {
	id string
	// versions holds, per tracked property, the version of its last
	// change.
	versions map[string]int64
	// removed is "" for a user that exists, "changed" after a soft
	// delete and "deleted" after a permanent one, as of removedAt.
	removed   string
	removedAt int64
}

// deltaToken is the state behind a $deltatoken or $skiptoken.
type deltaToken struct {
	// since is the version the round reports changes after; -1 for a
	// full round.
	since int64
	// upper is the last version the round covers.
	upper    int64
	selected []string
	// offset is the index of the first entry on the page of a skip
	// token.
	offset  int
	expired bool
}

// SetDeltaPageSize sets how many users each users delta page carries; n
// below 1 restores 100.
func (s *Server) SetDeltaPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delta.pageSize = n
}

// ExpireDeltaTokens makes every delta and skip token issued so far
// invalid. A request with one gets the error Graph sends when a delta
// token expired: the code syncStateNotFound with status, which is 400
// for directory resources such as users (Microsoft 365 Developer Blog,
// "Duration of change tracking tokens for identity and education
// resources", 2020-07-03). Pass 410 to get the status Outlook resources
// have been seen to use.
func (s *Server) ExpireDeltaTokens(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, token := range s.delta.tokens {
		token.expired = true
	}
	s.delta.expiredStatus = status
}

// SoftDeleteUser removes a user as a soft delete does: reads get 404, and
// the next delta round reports it with @removed reason "changed".
// PutUser with the same ID restores it.
func (s *Server) SoftDeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(id)
	if _, ok := s.users[key]; ok {
		delete(s.users, key)
		s.recordUserRemoval(key, "changed")
	}
}

// recordUserChange records the tracked properties that differ between
// old and u, or all of them when the user is new or restored. The caller
// holds mu.
func (s *Server) recordUserChange(old User, existed bool, u User) {
	d := &s.delta
	d.version++
	c := d.change(strings.ToLower(u.ID))
	c.id = u.ID
	restored := c.removed != ""
	c.removed, c.removedAt = "", 0
	for _, name := range trackedUserProperties {
		if !existed || restored || userProperty(old, name) != userProperty(u, name) {
			c.versions[name] = d.version
		}
	}
}

// recordUserRemoval records that the user with lower-case ID key was
// removed for reason. The caller holds mu.
func (s *Server) recordUserRemoval(key, reason string) {
	d := &s.delta
	d.version++
	c := d.change(key)
	c.removed, c.removedAt = reason, d.version
}

// change returns the change log entry of key, creating it on first use.
func (d *deltaState) change(key string) *userChange {
	if d.changes == nil {
		d.changes = make(map[string]*userChange)
	}
	c, ok := d.changes[key]
	if !ok {
		c = &userChange{id: key, versions: make(map[string]int64)}
		d.changes[key] = c
	}
	return c
}

func (s *Server) registerDelta(mux *http.ServeMux) {
	// The SDK calls users/delta(); users/delta is Graph's short form.
	mux.HandleFunc("GET "+apiVersionPath+"/users/delta()", s.handleUsersDelta)
	mux.HandleFunc("GET "+apiVersionPath+"/users/delta", s.handleUsersDelta)
}

// handleUsersDelta serves GET /users/delta(). Without a token it starts
// a full round of every user. With $deltatoken it reports what changed
// since the token was issued, and $skiptoken continues a round. The
// $deltatoken "latest" returns no users and a delta link from now on.
func (s *Server) handleUsersDelta(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()

	round, status, code, message := s.deltaRound(query.Get("$deltatoken"), query.Get("$skiptoken"),
		query.Get("$select"))
	if status != 0 {
		writeError(w, r, status, code, message)
		return
	}
	entries := s.deltaEntries(round)
	pageSize := s.delta.pageSize
	if pageSize < 1 {
		pageSize = defaultDeltaPageSize
	}
	end := min(round.offset+pageSize, len(entries))

	body := map[string]any{
		"@odata.context": s.BaseURL() + "/$metadata#users(" + strings.Join(round.selected, ",") + ")",
		"value":          entries[min(round.offset, end):end],
	}
	if end < len(entries) {
		next := *round
		next.offset = end
		body["@odata.nextLink"] = s.BaseURL() + "/users/delta()?$skiptoken=" + s.issueToken(&next)
	} else {
		body["@odata.deltaLink"] = s.BaseURL() + "/users/delta()?$deltatoken=" +
			s.issueToken(&deltaToken{since: round.upper, upper: round.upper, selected: round.selected})
	}
	writeJSON(w, r, http.StatusOK, body)
}

// deltaRound returns the round a delta request continues or starts, or
// the status, code and message of the error. The caller holds mu.
func (s *Server) deltaRound(deltaValue, skipValue, selectValue string) (*deltaToken, int, string, string) {
	current := s.delta.version
	switch {
	case skipValue != "":
		return s.lookUpToken(skipValue, "$skiptoken")
	case deltaValue == "latest":
		selected, status, code, message := deltaSelect(selectValue)
		if status != 0 {
			return nil, status, code, message
		}
		// An empty round from now, ending in a delta link.
		return &deltaToken{since: current, upper: current, selected: selected}, 0, "", ""
	case deltaValue != "":
		token, status, code, message := s.lookUpToken(deltaValue, "$deltatoken")
		if status != 0 {
			return nil, status, code, message
		}
		return &deltaToken{since: token.since, upper: current, selected: token.selected}, 0, "", ""
	}
	selected, status, code, message := deltaSelect(selectValue)
	if status != 0 {
		return nil, status, code, message
	}
	return &deltaToken{since: -1, upper: current, selected: selected}, 0, "", ""
}

// lookUpToken returns the state of an issued token, or the error Graph
// sends for an expired or unknown one. The caller holds mu.
func (s *Server) lookUpToken(value, parameter string) (*deltaToken, int, string, string) {
	token, ok := s.delta.tokens[value]
	if !ok {
		return nil, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid %s value.", parameter)
	}
	if token.expired {
		status := s.delta.expiredStatus
		if status == 0 {
			status = http.StatusBadRequest
		}
		return nil, status, "syncStateNotFound",
			"The sync state generation is not found. The delta token is expired and data must be synchronized again."
	}
	return token, 0, "", ""
}

// deltaSelect parses $select, defaulting to Graph's default user
// properties.
func deltaSelect(value string) ([]string, int, string, string) {
	selected, unknown := parseSelect(value, selectableUserProperties)
	if unknown != "" {
		return nil, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", unknown)
	}
	if len(selected) == 0 {
		selected = defaultUserProperties
	}
	if !slices.Contains(selected, "id") {
		selected = append([]string{"id"}, selected...)
	}
	return selected, 0, "", ""
}

// issueToken stores token under a new random value and returns the value.
// The caller holds mu.
func (s *Server) issueToken(token *deltaToken) string {
	if s.delta.tokens == nil {
		s.delta.tokens = make(map[string]*deltaToken)
	}
	value := strings.ReplaceAll(newUUID(), "-", "")
	s.delta.tokens[value] = token
	return value
}

// deltaEntries returns the entries of a round, by user ID. A full round
// has every existing user with all selected properties. A later round
// has each user with a selected property changed after round.since, with
// id and the changed properties only, and each user removed meanwhile
// with @removed. The caller holds mu.
func (s *Server) deltaEntries(round *deltaToken) []map[string]any {
	var entries []map[string]any
	if round.since < 0 {
		for _, u := range s.users {
			entries = append(entries, deltaUserJSON(u, round.selected))
		}
	} else {
		for key, c := range s.delta.changes {
			if entry := s.changedEntry(key, c, round); entry != nil {
				entries = append(entries, entry)
			}
		}
	}
	slices.SortFunc(entries, func(a, b map[string]any) int {
		return strings.Compare(strings.ToLower(a["id"].(string)), strings.ToLower(b["id"].(string)))
	})
	return entries
}

// changedEntry returns the entry of one user in a later round, or nil
// when nothing selected changed within the round. The caller holds mu.
func (s *Server) changedEntry(key string, c *userChange, round *deltaToken) map[string]any {
	inRound := func(v int64) bool { return v > round.since && v <= round.upper }
	if c.removed != "" {
		if !inRound(c.removedAt) {
			return nil
		}
		return map[string]any{"id": c.id, "@removed": map[string]any{"reason": c.removed}}
	}
	u, ok := s.users[key]
	if !ok {
		return nil
	}
	var changed []string
	for _, name := range round.selected {
		if inRound(c.versions[name]) {
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	entry := deltaUserJSON(u, changed)
	entry["id"] = u.ID
	return entry
}

// deltaUserJSON returns the named properties of u as a delta entry.
func deltaUserJSON(u User, properties []string) map[string]any {
	entry := make(map[string]any, len(properties))
	for _, name := range properties {
		entry[name] = userProperty(u, name)
	}
	return entry
}
