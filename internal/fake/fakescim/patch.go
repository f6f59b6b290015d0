package fakescim

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/entrabridge/entrabridge/internal/scim"
)

type patchRequest struct {
	Schemas []string `json:"schemas"`
	// Operations also matches "operations", Atlassian's OpenAPI spelling,
	// because encoding/json matches keys case-insensitively.
	Operations []patchOperation `json:"Operations"`
}

type patchOperation struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// patchUser applies a PATCH request all or none (RFC 7644 section 3.5.2).
//
// NOTE: the fake applies PATCH to a deactivated user, so tests can
// reactivate one with active=true. Atlassian documents that later
// operations on a deactivated user fail with 404, and whether that
// includes PATCH is unconfirmed.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	if !isJSONMediaType(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "",
			"Content-Type must be application/scim+json or application/json")
		return
	}
	req, perr := decodePatchRequest(body)
	if perr != nil {
		writeError(w, perr.status, perr.scimType, perr.detail)
		return
	}

	user, perr := s.applyPatch(id, req)
	if perr != nil {
		writeError(w, perr.status, perr.scimType, perr.detail)
		return
	}
	writeJSON(w, http.StatusOK, user)
}

// applyPatch applies req to a copy of the user and stores the copy only
// when every operation and check passed.
func (s *Server) applyPatch(id string, req patchRequest) (scim.User, *patchError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before, ok := s.users[id]
	if !ok {
		return scim.User{}, &patchError{status: http.StatusNotFound, detail: userNotFoundDetail(id)}
	}

	after := cloneUser(before)
	for _, op := range req.Operations {
		if perr := applyOperation(&after, op); perr != nil {
			return scim.User{}, perr
		}
	}
	if perr := validateUser(after); perr != nil {
		return scim.User{}, perr
	}
	if perr := s.conflictLocked(before, after); perr != nil {
		return scim.User{}, perr
	}
	if s.unlinksLocked(before, after) {
		after.AccountID = ""
	}

	s.users[id] = after
	return cloneUser(after), nil
}

func isJSONMediaType(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mediaType == "application/scim+json" || mediaType == "application/json")
}

func decodePatchRequest(body []byte) (patchRequest, *patchError) {
	var req patchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return patchRequest{}, badRequest("invalidSyntax", "request body is not a PATCH request: "+err.Error())
	}
	if !slices.Contains(req.Schemas, patchOpSchema) {
		return patchRequest{}, badRequest("invalidSyntax", "schemas must contain "+patchOpSchema)
	}
	if len(req.Operations) == 0 {
		return patchRequest{}, badRequest("invalidSyntax", "Operations is empty")
	}
	return req, nil
}

// validateUser checks the result of a PATCH against the user schema:
// userName and at least one email are required, every email needs a value,
// and at most one email is primary (RFC 7643 section 2.4).
func validateUser(u scim.User) *patchError {
	if u.UserName == "" {
		return badRequest("invalidValue", "userName is required")
	}
	if len(u.Emails) == 0 {
		return badRequest("invalidValue", "emails is required")
	}
	primaries := 0
	for _, e := range u.Emails {
		if e.Value == "" {
			return badRequest("invalidValue", "every email needs a value")
		}
		if e.Primary {
			primaries++
		}
	}
	if primaries > 1 {
		return badRequest("invalidValue", "at most one email may be primary")
	}
	return nil
}

// unlinksLocked reports whether the PATCH moved the user's primary email to
// a domain the organization has not verified.
func (s *Server) unlinksLocked(before, after scim.User) bool {
	if s.verifiedDomains == nil {
		return false
	}
	address := after.PrimaryEmail()
	if strings.EqualFold(before.PrimaryEmail(), address) {
		return false
	}
	_, domain, _ := strings.Cut(address, "@")
	return !s.verifiedDomains[strings.ToLower(domain)]
}
