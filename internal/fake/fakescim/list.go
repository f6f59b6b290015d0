package fakescim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// maxPageSize is the largest page the fake returns, as Atlassian does.
const maxPageSize = 100

type listResponse struct {
	Schemas      []string    `json:"schemas"`
	TotalResults int         `json:"totalResults"`
	StartIndex   int         `json:"startIndex"`
	ItemsPerPage int         `json:"itemsPerPage"`
	Resources    []scim.User `json:"Resources"`
}

// userFilter is a parsed `userName eq "…"` or `externalId eq "…"`.
type userFilter struct {
	attribute string // "userName" or "externalId"
	value     string
}

func (f userFilter) matches(u scim.User) bool {
	if f.attribute == "externalId" {
		return u.ExternalID == f.value
	}
	return strings.EqualFold(u.UserName, f.value)
}

// listUsers serves GET /Users with an optional filter, startIndex and
// count. startIndex below 1 means 1, a count above maxPageSize means
// maxPageSize, and a missing count means maxPageSize.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	startIndex, err := intParam(query.Get("startIndex"), 1)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalidValue", err.Error())
		return
	}
	count, err := intParam(query.Get("count"), maxPageSize)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalidValue", err.Error())
		return
	}
	startIndex = max(startIndex, 1)
	count = min(max(count, 0), maxPageSize)

	var match func(scim.User) bool
	if raw := query.Get("filter"); raw != "" {
		f, err := parseUserFilter(raw)
		if err != nil {
			writeInvalidFilter(w)
			return
		}
		match = f.matches
	}

	s.mu.Lock()
	all := s.usersLocked()
	s.mu.Unlock()

	var matched []scim.User
	for _, u := range all {
		if match == nil || match(u) {
			matched = append(matched, u)
		}
	}

	page := []scim.User{}
	if from := startIndex - 1; from < len(matched) {
		page = matched[from:min(from+count, len(matched))]
	}
	writeJSON(w, http.StatusOK, listResponse{
		Schemas:      []string{listResponseSchema},
		TotalResults: len(matched),
		StartIndex:   startIndex,
		ItemsPerPage: len(page),
		Resources:    page,
	})
}

func intParam(raw string, fallback int) (int, error) {
	if raw == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, fmt.Errorf("invalid integer %q", raw)
	}
	return n, nil
}

// parseUserFilter accepts exactly one eq comparison of userName or
// externalId with a string. Attribute names compare case-insensitively
// (RFC 7644 section 3.10), so "username eq" is accepted too. A URN-prefixed
// or sub-attribute path, another operator, a logical expression or a
// non-string value is rejected, as Atlassian does.
func parseUserFilter(raw string) (userFilter, error) {
	expr, err := filter.ParseFilter([]byte(raw))
	if err != nil {
		return userFilter{}, err
	}
	attrExpr, ok := expr.(*filter.AttributeExpression)
	if !ok {
		return userFilter{}, fmt.Errorf("filter %q is not a single comparison", raw)
	}
	path := attrExpr.AttributePath
	if path.URIPrefix != nil || path.SubAttribute != nil || attrExpr.Operator != filter.EQ {
		return userFilter{}, fmt.Errorf("filter %q is not an eq on a plain attribute", raw)
	}

	var attribute string
	switch {
	case strings.EqualFold(path.AttributeName, "userName"):
		attribute = "userName"
	case strings.EqualFold(path.AttributeName, "externalId"):
		attribute = "externalId"
	default:
		return userFilter{}, fmt.Errorf("filter attribute %q is not supported", path.AttributeName)
	}

	raw, ok = attrExpr.CompareValue.(string)
	if !ok {
		return userFilter{}, fmt.Errorf("filter value %v is not a string", attrExpr.CompareValue)
	}
	value, err := unescapeString(raw)
	if err != nil {
		return userFilter{}, err
	}
	return userFilter{attribute: attribute, value: value}, nil
}

// unescapeString decodes the JSON escapes in a filter string. The parser
// strips the quotes but leaves escapes such as \" and \\ as written.
func unescapeString(raw string) (string, error) {
	var value string
	if err := json.Unmarshal([]byte(`"`+raw+`"`), &value); err != nil {
		return "", fmt.Errorf("invalid escape in filter string %q: %w", raw, err)
	}
	return value, nil
}
