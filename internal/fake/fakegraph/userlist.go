package fakegraph

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// handleListUsers serves GET /users with $top and $select, returning the
// first $top users by ID (100 by default, as Graph's default page size).
// It sends no @odata.nextLink: the bridge only lists users to check access.
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	selected, unknown := parseSelect(r.URL.Query().Get("$select"), selectableUserProperties)
	if unknown != "" {
		writeError(w, r, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", unknown))
		return
	}
	top := 100
	if raw := r.URL.Query().Get("$top"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 999 {
			writeError(w, r, http.StatusBadRequest, "Request_BadRequest",
				fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", raw))
			return
		}
		top = n
	}

	s.mu.Lock()
	users := make([]User, 0, len(s.users))
	for _, u := range s.users {
		users = append(users, u)
	}
	s.mu.Unlock()
	sort.Slice(users, func(i, j int) bool { return users[i].ID < users[j].ID })
	users = users[:min(top, len(users))]

	values := make([]map[string]any, len(users))
	for i, u := range users {
		values[i] = s.userBody(u, selected)
		delete(values[i], "@odata.context")
	}
	writeJSON(w, r, http.StatusOK, map[string]any{
		"@odata.context": s.BaseURL() + "/$metadata#users",
		"value":          values,
	})
}
