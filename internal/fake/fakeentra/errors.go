package fakeentra

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// entraError is an OAuth error as Entra sends it: an OAuth error code, an
// AADSTS number and a description that starts with "AADSTS<number>: ".
type entraError struct {
	status      int
	code        string
	aadsts      int
	description string
}

func (e *entraError) write(w http.ResponseWriter) {
	traceID, correlationID := newUUID(), newUUID()
	now := time.Now().UTC()
	body := map[string]any{
		"error": e.code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			e.aadsts, e.description, traceID, correlationID, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{e.aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       traceID,
		"correlation_id": correlationID,
	}
	writeJSON(w, e.status, body)
}

func errTenantNotFound(tenantID string) *entraError {
	return &entraError{
		status: http.StatusBadRequest, code: "invalid_tenant", aadsts: 90002,
		description: fmt.Sprintf("Tenant '%s' not found.", tenantID),
	}
}

func errUnknownClient(tenantID, clientID string) *entraError {
	return &entraError{
		status: http.StatusBadRequest, code: "unauthorized_client", aadsts: 700016,
		description: fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.",
			clientID, tenantID),
	}
}

func errInvalidSecret(clientID string) *entraError {
	return &entraError{
		status: http.StatusUnauthorized, code: "invalid_client", aadsts: 7000215,
		description: fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent "+
			"in the request is the client secret value, not the client secret ID, for a "+
			"secret added to app '%s'.", clientID),
	}
}

func errMissingCredential() *entraError {
	return &entraError{
		status: http.StatusUnauthorized, code: "invalid_client", aadsts: 7000218,
		description: "The request body must contain the following parameter: " +
			"'client_assertion' or 'client_secret'.",
	}
}

func errInvalidAssertionType() *entraError {
	return &entraError{
		status: http.StatusBadRequest, code: "invalid_request", aadsts: 50027,
		description: "client_assertion_type must be " + clientAssertionType + ".",
	}
}

func errInvalidAssertion(err error) *entraError {
	return &entraError{
		status: http.StatusUnauthorized, code: "invalid_client", aadsts: 700027,
		description: fmt.Sprintf("Client assertion failed validation: %v.", err),
	}
}

func errUnsupportedGrantType(grantType string) *entraError {
	return &entraError{
		status: http.StatusBadRequest, code: "unsupported_grant_type", aadsts: 70003,
		description: fmt.Sprintf("The app requested an unsupported grant type '%s'.", grantType),
	}
}

func errMissingParameter(name string) *entraError {
	return &entraError{
		status: http.StatusBadRequest, code: "invalid_request", aadsts: 900144,
		description: fmt.Sprintf("The request body must contain the following parameter: '%s'.", name),
	}
}

func errInvalidScope(scope string) *entraError {
	return &entraError{
		status: http.StatusBadRequest, code: "invalid_scope", aadsts: 1002012,
		description: fmt.Sprintf("The provided value for scope %s is not valid. Client credential "+
			"flows must have a scope value with /.default suffixed to the resource identifier.", scope),
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	// An encoding error can only come from a failed write to the client,
	// which the client sees as a broken response.
	_ = json.NewEncoder(w).Encode(body)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
