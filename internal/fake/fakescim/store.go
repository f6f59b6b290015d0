package fakescim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// AddUser stores u, replacing any user with the same ID, and returns it as
// stored. An empty ID gets a new one. AddUser does not check uniqueness, so
// a test can set up a conflict the service would not allow.
func (s *Server) AddUser(u scim.User) scim.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		s.nextID++
		u.ID = "fake-user-" + strconv.Itoa(s.nextID)
	}
	if _, ok := s.users[u.ID]; !ok {
		s.order = append(s.order, u.ID)
	}
	u = cloneUser(u)
	s.users[u.ID] = u
	return cloneUser(u)
}

// User returns the user with SCIM id, whether or not it is active.
func (s *Server) User(id string) (scim.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	return cloneUser(u), ok
}

// Users returns every user in the order they were added.
func (s *Server) Users() []scim.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usersLocked()
}

func (s *Server) usersLocked() []scim.User {
	out := make([]scim.User, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, cloneUser(s.users[id]))
	}
	return out
}

// getUser responds with 404 for a deactivated user too, because Atlassian
// documents that a deactivated user is unavailable until reactivated.
func (s *Server) getUser(w http.ResponseWriter, id string) {
	s.mu.Lock()
	u, ok := s.users[id]
	s.mu.Unlock()
	if !ok || (u.Active != nil && !*u.Active) {
		writeUserNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func writeUserNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "", userNotFoundDetail(id))
}

func userNotFoundDetail(id string) string {
	return "Resource [USER] with id [" + id + "] not found"
}

// conflictLocked returns a 409 uniqueness error when changed takes a
// userName or email address that another user holds. Only values that
// differ from before are checked, so a PATCH of another attribute passes
// even when AddUser set up a duplicate. Both compare case-insensitively,
// as RFC 7643 defines userName and emails.value.
func (s *Server) conflictLocked(before, changed scim.User) *patchError {
	for _, other := range s.users {
		if other.ID == changed.ID {
			continue
		}
		if !strings.EqualFold(before.UserName, changed.UserName) &&
			strings.EqualFold(other.UserName, changed.UserName) {
			return conflict("userName", changed.UserName)
		}
		for _, e := range changed.Emails {
			if hasEmail(before, e.Value) {
				continue
			}
			if hasEmail(other, e.Value) {
				return conflict("email", e.Value)
			}
		}
	}
	return nil
}

func conflict(attribute, value string) *patchError {
	return &patchError{
		status:   http.StatusConflict,
		scimType: "uniqueness",
		detail:   "Resource [USER]: with " + attribute + "[" + value + "] already exists.",
	}
}

func hasEmail(u scim.User, address string) bool {
	return slices.ContainsFunc(u.Emails, func(e scim.Email) bool {
		return strings.EqualFold(e.Value, address)
	})
}

func cloneUser(u scim.User) scim.User {
	u.Emails = slices.Clone(u.Emails)
	if u.Active != nil {
		active := *u.Active
		u.Active = &active
	}
	return u
}
