package fakeentra

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxFormBytes bounds a token request body. A client assertion with an x5c
// certificate chain is a few kilobytes.
const maxFormBytes = 64 << 10

// handleToken serves the client credentials grant. Every other grant type
// is rejected, as the bridge only runs as an application.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenRequests++
	s.mu.Unlock()

	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form body: "+err.Error(), http.StatusBadRequest)
		return
	}
	tenantID := r.PathValue("tenant")
	token, entraErr := s.issueToken(tenantID, r.PostForm)
	if entraErr != nil {
		entraErr.write(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(tokenLifetime.Seconds()),
		"ext_expires_in": int(tokenLifetime.Seconds()),
		"access_token":   token,
	})
}

// issueToken validates a token request form and returns a new access token.
func (s *Server) issueToken(tenantID string, form url.Values) (string, *entraError) {
	if grantType := form.Get("grant_type"); grantType != "client_credentials" {
		return "", errUnsupportedGrantType(grantType)
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		return "", errMissingParameter("client_id")
	}
	scope := form.Get("scope")
	if scope == "" {
		return "", errMissingParameter("scope")
	}
	if !hasDefaultScope(scope) {
		return "", errInvalidScope(scope)
	}

	if !s.tenantKnown(tenantID) {
		return "", errTenantNotFound(tenantID)
	}
	registered, ok := s.lookupApp(tenantID, clientID)
	if !ok {
		return "", errUnknownClient(tenantID, clientID)
	}
	if err := registered.authenticate(form, s.tokenEndpoint(tenantID), clientID); err != nil {
		return "", err
	}

	token := rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenExpiry[token] = time.Now().Add(tokenLifetime)
	return token, nil
}

// hasDefaultScope reports whether one of the space-separated scopes is a
// resource's ".default" scope, which the client credentials grant requires.
// MSAL adds openid, profile and offline_access to some requests.
func hasDefaultScope(scope string) bool {
	for _, s := range strings.Fields(scope) {
		if strings.HasSuffix(s, "/.default") {
			return true
		}
	}
	return false
}

func (s *Server) tokenEndpoint(tenantID string) string {
	return s.srv.URL + "/" + tenantID + "/oauth2/v2.0/token"
}
