package fakeentra

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	tenantID = "8f1c0a4e-3b2d-4c5e-9f6a-7b8c9d0e1f2a"
	clientID = "5d2e7c1a-9b3f-4e6d-8a0c-1f2e3d4c5b6a"
	secret   = "s3cr3t~value"
)

func TestOpenIDConfiguration(t *testing.T) {
	s := startServer(t)
	s.AddClient(tenantID, clientID, secret)

	t.Run("known tenant", func(t *testing.T) {
		var doc map[string]any
		status := getJSON(t, s.Client(), s.AuthorityHost()+tenantID+"/v2.0/.well-known/openid-configuration", &doc)
		if status != http.StatusOK {
			t.Fatalf("got status %d, want %d", status, http.StatusOK)
		}
		tenantURL := s.AuthorityHost() + tenantID
		want := map[string]string{
			"issuer":                 tenantURL + "/v2.0",
			"token_endpoint":         tenantURL + "/oauth2/v2.0/token",
			"authorization_endpoint": tenantURL + "/oauth2/v2.0/authorize",
		}
		for field, value := range want {
			if doc[field] != value {
				t.Errorf("got %s %v, want %q", field, doc[field], value)
			}
		}
	})

	t.Run("unknown tenant", func(t *testing.T) {
		var body map[string]any
		status := getJSON(t, s.Client(), s.AuthorityHost()+"other-tenant/v2.0/.well-known/openid-configuration", &body)
		if status != http.StatusBadRequest {
			t.Errorf("got status %d, want %d", status, http.StatusBadRequest)
		}
		if body["error"] != "invalid_tenant" {
			t.Errorf("got error %v, want invalid_tenant", body["error"])
		}
	})
}

func TestTokenRequest(t *testing.T) {
	s := startServer(t)
	s.AddClient(tenantID, clientID, secret)

	certClientID := "0a1b2c3d-0000-4000-8000-00000000c0de"
	key, cert := newCertificate(t)
	s.AddCertificateClient(tenantID, certClientID, cert)
	otherKey, _ := newCertificate(t)

	federatedClientID := "0a1b2c3d-0000-4000-8000-00000000fed0"
	s.AddFederatedClient(tenantID, federatedClientID, "service-account-token")

	tokenURL := s.AuthorityHost() + tenantID + "/oauth2/v2.0/token"
	validClaims := assertionClaims{
		Audience: tokenURL, Issuer: certClientID, Subject: certClientID,
		ExpiresAt: time.Now().Add(10 * time.Minute).Unix(),
	}
	expiredClaims := validClaims
	expiredClaims.ExpiresAt = time.Now().Add(-time.Minute).Unix()
	wrongAudience := validClaims
	wrongAudience.Audience = s.AuthorityHost() + "other/oauth2/v2.0/token"

	tests := []struct {
		name       string
		url        string
		form       url.Values
		wantStatus int
		wantError  string
		wantCode   int
	}{
		{
			name:       "client secret",
			url:        tokenURL,
			form:       secretForm(clientID, secret),
			wantStatus: http.StatusOK,
		},
		{
			name:       "wrong client secret",
			url:        tokenURL,
			form:       secretForm(clientID, "wrong"),
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_client",
			wantCode:   7000215,
		},
		{
			name:       "unknown client",
			url:        tokenURL,
			form:       secretForm("11111111-2222-3333-4444-555555555555", secret),
			wantStatus: http.StatusBadRequest,
			wantError:  "unauthorized_client",
			wantCode:   700016,
		},
		{
			name:       "unknown tenant",
			url:        s.AuthorityHost() + "other-tenant/oauth2/v2.0/token",
			form:       secretForm(clientID, secret),
			wantStatus: http.StatusBadRequest,
			wantError:  "invalid_tenant",
			wantCode:   90002,
		},
		{
			name:       "password grant",
			url:        tokenURL,
			form:       withValue(secretForm(clientID, secret), "grant_type", "password"),
			wantStatus: http.StatusBadRequest,
			wantError:  "unsupported_grant_type",
			wantCode:   70003,
		},
		{
			name:       "missing scope",
			url:        tokenURL,
			form:       withValue(secretForm(clientID, secret), "scope", ""),
			wantStatus: http.StatusBadRequest,
			wantError:  "invalid_request",
			wantCode:   900144,
		},
		{
			name:       "scope without .default",
			url:        tokenURL,
			form:       withValue(secretForm(clientID, secret), "scope", "User.Read.All"),
			wantStatus: http.StatusBadRequest,
			wantError:  "invalid_scope",
			wantCode:   1002012,
		},
		{
			name:       "no credential",
			url:        tokenURL,
			form:       withValue(secretForm(clientID, secret), "client_secret", ""),
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_client",
			wantCode:   7000218,
		},
		{
			name:       "certificate assertion",
			url:        tokenURL,
			form:       assertionForm(certClientID, signAssertion(t, key, validClaims)),
			wantStatus: http.StatusOK,
		},
		{
			name:       "assertion signed by another key",
			url:        tokenURL,
			form:       assertionForm(certClientID, signAssertion(t, otherKey, validClaims)),
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_client",
			wantCode:   700027,
		},
		{
			name:       "expired assertion",
			url:        tokenURL,
			form:       assertionForm(certClientID, signAssertion(t, key, expiredClaims)),
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_client",
			wantCode:   700027,
		},
		{
			name:       "assertion for another audience",
			url:        tokenURL,
			form:       assertionForm(certClientID, signAssertion(t, key, wrongAudience)),
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_client",
			wantCode:   700027,
		},
		{
			name:       "federated assertion",
			url:        tokenURL,
			form:       assertionForm(federatedClientID, "service-account-token"),
			wantStatus: http.StatusOK,
		},
		{
			name:       "wrong federated assertion",
			url:        tokenURL,
			form:       assertionForm(federatedClientID, "another-token"),
			wantStatus: http.StatusUnauthorized,
			wantError:  "invalid_client",
			wantCode:   700027,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body tokenResponse
			status := postForm(t, s.Client(), tt.url, tt.form, &body)
			if status != tt.wantStatus {
				t.Fatalf("got status %d, want %d (error %q: %s)",
					status, tt.wantStatus, body.Error, body.ErrorDescription)
			}
			if tt.wantStatus != http.StatusOK {
				checkErrorBody(t, body, tt.wantError, tt.wantCode)
				return
			}
			checkTokenBody(t, s, body)
		})
	}

	if got, want := s.TokenRequests(), len(tests); got != want {
		t.Errorf("got %d token requests, want %d", got, want)
	}
}

func TestValidTokenUnknown(t *testing.T) {
	s := startServer(t)
	if s.ValidToken("never-issued") {
		t.Error("got ValidToken true for a token the server never issued, want false")
	}
	if s.ValidToken("") {
		t.Error("got ValidToken true for an empty token, want false")
	}
}

func TestCertificatePEMTrusted(t *testing.T) {
	s := startServer(t)
	s.AddClient(tenantID, clientID, secret)

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CertificatePEM()) {
		t.Fatal("got no certificate from CertificatePEM, want one")
	}
	for name, pool := range map[string]*x509.CertPool{"CertificatePEM": pool, "CertPool": s.CertPool()} {
		t.Run(name, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			var doc map[string]any
			status := getJSON(t, client, s.AuthorityHost()+tenantID+"/v2.0/.well-known/openid-configuration", &doc)
			if status != http.StatusOK {
				t.Errorf("got status %d, want %d", status, http.StatusOK)
			}
		})
	}
}

type tokenResponse struct {
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	AccessToken      string `json:"access_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
}

func checkTokenBody(t *testing.T, s *Server, body tokenResponse) {
	t.Helper()
	if body.TokenType != "Bearer" {
		t.Errorf("got token_type %q, want Bearer", body.TokenType)
	}
	if body.ExpiresIn != 3600 {
		t.Errorf("got expires_in %d, want 3600", body.ExpiresIn)
	}
	if !s.ValidToken(body.AccessToken) {
		t.Errorf("got ValidToken false for issued token %q, want true", body.AccessToken)
	}
}

func checkErrorBody(t *testing.T, body tokenResponse, wantError string, wantCode int) {
	t.Helper()
	if body.Error != wantError {
		t.Errorf("got error %q, want %q", body.Error, wantError)
	}
	if len(body.ErrorCodes) != 1 || body.ErrorCodes[0] != wantCode {
		t.Errorf("got error_codes %v, want [%d]", body.ErrorCodes, wantCode)
	}
	if prefix := "AADSTS"; !strings.HasPrefix(body.ErrorDescription, prefix) {
		t.Errorf("got error_description %q, want prefix %q", body.ErrorDescription, prefix)
	}
	if body.AccessToken != "" {
		t.Errorf("got access_token %q with an error, want none", body.AccessToken)
	}
}

func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("start fake entra: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func secretForm(clientID, secret string) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"client_secret": {secret},
		"scope":         {"https://graph.microsoft.com/.default"},
	}
}

func assertionForm(clientID, assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
		"scope":                 {"https://graph.microsoft.com/.default"},
	}
}

func withValue(form url.Values, key, value string) url.Values {
	form.Set(key, value)
	return form
}

func getJSON(t *testing.T, client *http.Client, url string, v any) int {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode response of GET %s: %v", url, err)
	}
	return resp.StatusCode
}

func postForm(t *testing.T, client *http.Client, url string, form url.Values, v any) int {
	t.Helper()
	resp, err := client.PostForm(url, form)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode response of POST %s: %v", url, err)
	}
	return resp.StatusCode
}

func newCertificate(t *testing.T) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fakeentra test client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	return key, cert
}

// signAssertion builds a PS256 client assertion the way MSAL does.
func signAssertion(t *testing.T, key *rsa.PrivateKey, claims assertionClaims) string {
	t.Helper()
	header, err := json.Marshal(map[string]string{"alg": "PS256", "typ": "JWT"})
	if err != nil {
		t.Fatalf("marshal assertion header: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshal assertion claims: %v", err)
	}
	signed := base64.RawURLEncoding.EncodeToString(header) + "." +
		base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signed))
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
	signature, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], opts)
	if err != nil {
		t.Fatalf("sign assertion: %v", err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(signature)
}
