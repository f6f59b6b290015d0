package fakescim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The fake writes its own URNs instead of importing the client's constants,
// so a typo in either shows up in tests.
const (
	mediaType          = "application/scim+json"
	errorSchema        = "urn:ietf:params:scim:api:messages:2.0:Error"
	listResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchOpSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	// invalidFilterSchema is the odd URN Atlassian sends with its 400
	// invalidFilter error.
	invalidFilterSchema = "urn:ietf:params:scim:b:messages:2.0:Error"
)

// scimError is an error body in Atlassian's shape: status is a string.
type scimError struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// writeError writes a SCIM error. scimType may be empty.
func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	writeErrorSchema(w, errorSchema, status, scimType, detail)
}

func writeErrorSchema(w http.ResponseWriter, schema string, status int, scimType, detail string) {
	writeJSON(w, status, scimError{
		Schemas:  []string{schema},
		Status:   strconv.Itoa(status),
		ScimType: scimType,
		Detail:   detail,
	})
}

// writeInvalidFilter writes the 400 Atlassian sends for a filter it does not
// support, byte for byte.
func writeInvalidFilter(w http.ResponseWriter) {
	writeErrorSchema(w, invalidFilterSchema, http.StatusBadRequest, "invalidFilter",
		"Resource [USER] invalid filter")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	w.Write(data)
}

// patchError is a failed PATCH operation with the SCIM error it maps to.
type patchError struct {
	status   int
	scimType string
	detail   string
}

func (e *patchError) Error() string { return e.scimType + ": " + e.detail }

func badRequest(scimType, detail string) *patchError {
	return &patchError{status: http.StatusBadRequest, scimType: scimType, detail: detail}
}
