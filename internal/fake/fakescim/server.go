// Package fakescim is an in-process fake of Atlassian's user-provisioning
// API (SCIM 2.0) for tests. It serves HTTPS on 127.0.0.1 with a test
// certificate and implements the parts of the documented API that the
// bridge uses: user reads, the userName and externalId filters, paging,
// PATCH, and /ServiceProviderConfig.
//
// The fake parses filters and PATCH paths with
// github.com/scim2/filter-parser, not with the client's code, so it checks
// the client's syntax independently. Knobs inject failures and latency.
// The fake records every request, PUT and DELETE included, and counts
// overlapping PATCHes for one user, so tests can assert that the bridge
// sends neither.
package fakescim

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/entrabridge/entrabridge/internal/scim"
)

// maxRequestBytes bounds a request body. A PATCH of a few attributes is a
// few hundred bytes.
const maxRequestBytes = 1 << 20

// Options configures a Server.
type Options struct {
	// Token is the bearer token clients must send. It is required.
	Token string
	// DirectoryID is the {directoryId} of the base URL. If empty, Start
	// picks a random one.
	DirectoryID string
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	httpServer *httptest.Server
	token      string
	basePath   string

	mu              sync.Mutex
	users           map[string]scim.User
	order           []string // user ids in the order they were added
	nextID          int
	requests        []Request
	patches         map[string]int
	inFlight        map[string]int
	overlaps        int
	failures        []injectedFailure
	latency         time.Duration
	verifiedDomains map[string]bool // nil means every domain is verified
}

// Start starts a fake on 127.0.0.1 with a random port.
func Start(opts Options) (*Server, error) {
	if opts.Token == "" {
		return nil, errors.New("fakescim: Options.Token is empty: set the token clients must send")
	}
	directoryID := opts.DirectoryID
	if directoryID == "" {
		directoryID = randomID()
	}

	s := &Server{
		token:    opts.Token,
		basePath: "/scim/directory/" + directoryID,
		users:    make(map[string]scim.User),
		patches:  make(map[string]int),
		inFlight: make(map[string]int),
	}

	// httptest also listens on 127.0.0.1 unless the -httptest.serve flag
	// is set. The explicit listener rules that flag out.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakescim: listen on 127.0.0.1: %w", err)
	}
	s.httpServer = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.httpServer.Listener.Close()
	s.httpServer.Listener = listener
	s.httpServer.StartTLS()
	return s, nil
}

// BaseURL returns https://127.0.0.1:<port>/scim/directory/<id>.
func (s *Server) BaseURL() string {
	return s.httpServer.URL + s.basePath
}

// Client returns an HTTP client that trusts the fake's certificate.
func (s *Server) Client() *http.Client {
	return s.httpServer.Client()
}

// CertPool returns a pool that contains the fake's certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.httpServer.Certificate())
	return pool
}

// Close stops the server and waits for running requests to finish.
func (s *Server) Close() {
	s.httpServer.Close()
}

// serveHTTP records the request, then applies latency, an injected
// failure, the token check and the route, in that order. A PATCH counts as
// in flight from arrival to response, latency included, so that
// concurrent PATCHes for one user overlap even when handling is fast.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	patchedID := s.record(r, body)
	if patchedID != "" {
		defer s.endPatch(patchedID)
	}
	if readErr != nil {
		writeError(w, http.StatusBadRequest, "invalidSyntax", "request body could not be read")
		return
	}

	if !s.wait(r) {
		// The client went away. Aborting keeps net/http from sending the
		// implicit 200 of a handler that wrote nothing, which a client
		// still reading the connection could otherwise receive.
		panic(http.ErrAbortHandler)
	}
	if f, ok := s.takeFailure(); ok {
		f.write(w)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
		writeError(w, http.StatusUnauthorized, "", "missing or invalid bearer token")
		return
	}
	if len(body) > maxRequestBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "", "request body too large")
		return
	}
	s.route(w, r, body)
}

// authorized compares the bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) == 1
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	if id, ok := s.userIDOf(r.URL.Path); ok {
		s.routeUser(w, r, id, body)
		return
	}

	switch r.URL.Path {
	case s.basePath + "/Users":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		s.listUsers(w, r)
	case s.basePath + "/ServiceProviderConfig":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		writeJSON(w, http.StatusOK, serviceProviderConfig)
	default:
		writeError(w, http.StatusNotFound, "", "no resource at "+r.URL.Path)
	}
}

func (s *Server) routeUser(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	switch r.Method {
	case http.MethodGet:
		s.getUser(w, id)
	case http.MethodPatch:
		s.patchUser(w, r, id, body)
	case http.MethodPut:
		// Recorded by serveHTTP and otherwise ignored: tests assert that
		// the bridge never sends PUT, so the fake need not apply it.
		s.getUser(w, id)
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, http.MethodGet, http.MethodPatch, http.MethodPut, http.MethodDelete)
	}
}

func methodNotAllowed(w http.ResponseWriter, allowed ...string) {
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, "", "method not allowed")
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// serviceProviderConfig is a minimal configuration document (RFC 7643
// section 5) that matches what the fake implements: PATCH and filters, but
// no bulk, sort, ETags or password change.
var serviceProviderConfig = map[string]any{
	"schemas":        []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
	"patch":          map[string]bool{"supported": true},
	"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
	"filter":         map[string]any{"supported": true, "maxResults": maxPageSize},
	"changePassword": map[string]bool{"supported": false},
	"sort":           map[string]bool{"supported": false},
	"etag":           map[string]bool{"supported": false},
	"authenticationSchemes": []map[string]any{{
		"type": "oauthbearertoken", "name": "OAuth Bearer Token",
		"description": "Authentication scheme using the OAuth Bearer Token standard",
	}},
}
