// Package fakeentra is an in-process Microsoft Entra ID token endpoint for
// tests and demos. It serves, over HTTPS on 127.0.0.1, the two endpoints
// that MSAL (and so azidentity) calls for the client credentials grant:
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration
//   - POST /{tenant}/oauth2/v2.0/token
//
// MSAL sends its instance discovery request to login.microsoftonline.com for
// any authority host it does not know, so clients must disable instance
// discovery (azidentity's DisableInstanceDiscovery option) to use this
// server. With discovery disabled, MSAL requests the OpenID configuration
// from the authority and then posts to its token_endpoint.
//
// Access tokens are random opaque strings, valid for one hour. A resource
// server such as fakegraph checks them with [Server.ValidToken].
package fakeentra

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// tokenLifetime is the expires_in of every issued token.
const tokenLifetime = time.Hour

// Server is a running fake Entra token endpoint.
type Server struct {
	srv *httptest.Server

	mu            sync.Mutex
	apps          map[appKey]*app
	tokenExpiry   map[string]time.Time
	tokenRequests int
}

// Start starts a Server on 127.0.0.1 with a random port and a self-signed
// TLS certificate. Call Close when done.
func Start() (*Server, error) {
	s := &Server{
		apps:        make(map[appKey]*app),
		tokenExpiry: make(map[string]time.Time),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleOpenIDConfiguration)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)

	// The listener is made here rather than by httptest.NewUnstartedServer,
	// which panics when it cannot listen.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fake entra: %w", err)
	}
	s.srv = &httptest.Server{Listener: listener, Config: &http.Server{Handler: mux}}
	s.srv.StartTLS()
	return s, nil
}

// AuthorityHost returns the server's URL with a trailing slash, in the form
// azidentity expects for its authority host, e.g. "https://127.0.0.1:4321/".
func (s *Server) AuthorityHost() string {
	return s.srv.URL + "/"
}

// Client returns an HTTP client that trusts the server's TLS certificate.
func (s *Server) Client() *http.Client {
	return s.srv.Client()
}

// CertPool returns a pool containing the server's TLS certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return pool
}

// CertificatePEM returns the server's TLS certificate in PEM form, suitable
// for a file named by SSL_CERT_FILE.
func (s *Server) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// TokenRequests returns how many requests reached the token endpoint,
// including rejected ones.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

// ValidToken reports whether token was issued by this server and has not
// expired.
func (s *Server) ValidToken(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	expiry, ok := s.tokenExpiry[token]
	return ok && time.Now().Before(expiry)
}

// Close shuts the server down and waits for requests in flight.
func (s *Server) Close() {
	s.srv.Close()
}
