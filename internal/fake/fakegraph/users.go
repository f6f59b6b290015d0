package fakegraph

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// User is a directory user as the server stores it. Graph returns an empty
// Mail or DisplayName as null.
type User struct {
	ID                string
	UserPrincipalName string
	Mail              string
	DisplayName       string
	AccountEnabled    bool
}

// defaultUserProperties are the properties Graph v1.0 returns for a user
// when the request has no $select, in Graph's order.
var defaultUserProperties = []string{
	"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
}

// selectableUserProperties are the properties $select may name. The
// server stores only those in User and returns the others empty.
// NOTE: Graph has many more user properties. A $select of any other name
// gets a 400 here although Graph would accept it.
var selectableUserProperties = append([]string{"accountEnabled"}, defaultUserProperties...)

// PutUser creates or replaces the user with u.ID, which must not be empty.
func (s *Server) PutUser(u User) {
	if u.ID == "" {
		panic("fakegraph: PutUser needs a user ID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(u.ID)
	old, existed := s.users[key]
	s.users[key] = u
	s.recordUserChange(old, existed, u)
}

// User returns the user with the given ID, compared without regard to case
// like Graph's object IDs.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[strings.ToLower(id)]
	return u, ok
}

// DeleteUser removes the user with the given ID, if present, as a
// permanent deletion: the next delta round reports it with @removed
// reason "deleted".
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(id)
	if _, ok := s.users[key]; ok {
		delete(s.users, key)
		s.recordUserRemoval(key, "deleted")
	}
}

func (s *Server) registerUsers(mux *http.ServeMux) {
	mux.HandleFunc("GET "+apiVersionPath+"/users", s.handleListUsers)
	mux.HandleFunc("GET "+apiVersionPath+"/users/{key}", s.handleGetUser)
}

// handleGetUser serves GET /users/{id | userPrincipalName}.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	selected, unknown := parseSelect(r.URL.Query().Get("$select"), selectableUserProperties)
	if unknown != "" {
		writeError(w, r, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", unknown))
		return
	}
	u, ok := s.findUser(key)
	if !ok {
		writeError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", key))
		return
	}
	writeJSON(w, r, http.StatusOK, s.userBody(u, selected))
}

// findUser looks a user up by object ID or by userPrincipalName, both
// compared without regard to case as Graph does.
func (s *Server) findUser(key string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[strings.ToLower(key)]; ok {
		return u, true
	}
	for _, u := range s.users {
		if strings.EqualFold(u.UserPrincipalName, key) {
			return u, true
		}
	}
	return User{}, false
}

// userBody returns the JSON object Graph sends for u: the selected
// properties, or the default ones, and @odata.context.
func (s *Server) userBody(u User, selected []string) map[string]any {
	context := s.BaseURL() + "/$metadata#users/$entity"
	properties := defaultUserProperties
	if len(selected) > 0 {
		context = s.BaseURL() + "/$metadata#users(" + strings.Join(selected, ",") + ")/$entity"
		properties = selected
	}

	body := map[string]any{"@odata.context": context}
	for _, name := range properties {
		body[name] = userProperty(u, name)
	}
	return body
}

func userProperty(u User, name string) any {
	switch name {
	case "id":
		return u.ID
	case "userPrincipalName":
		return u.UserPrincipalName
	case "mail":
		return nullIfEmpty(u.Mail)
	case "displayName":
		return nullIfEmpty(u.DisplayName)
	case "accountEnabled":
		return u.AccountEnabled
	case "businessPhones":
		return []string{}
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// parseSelect splits a $select value into property names. It returns the
// first name not in known as unknown.
func parseSelect(value string, known []string) (selected []string, unknown string) {
	if value == "" {
		return nil, ""
	}
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(known, name) {
			return nil, name
		}
		selected = append(selected, name)
	}
	return selected, ""
}
