package fakeentra

import "net/http"

// handleOpenIDConfiguration serves the tenant's OpenID Connect discovery
// document. MSAL requires authorization_endpoint, token_endpoint and an
// issuer on the authority's scheme and host; the other fields mirror
// Entra's document for completeness.
func (s *Server) handleOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenant")
	if !s.tenantKnown(tenantID) {
		errTenantNotFound(tenantID).write(w)
		return
	}

	tenantURL := s.srv.URL + "/" + tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                tenantURL + "/v2.0",
		"authorization_endpoint":                tenantURL + "/oauth2/v2.0/authorize",
		"token_endpoint":                        s.tokenEndpoint(tenantID),
		"jwks_uri":                              tenantURL + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"tenant_region_scope":                   nil,
		"cloud_instance_name":                   "microsoftonline.com",
	})
}
