// Package fakegraph is an in-process Microsoft Graph v1.0 for tests and
// demos. It serves, over HTTPS on 127.0.0.1, the subset of Graph the bridge
// calls. Responses use Graph's JSON shapes and error format, and knobs
// inject failures and latency.
//
// Each resource lives in its own file and registers its routes in
// [Server.routes]; users.go serves GET /v1.0/users/{id | userPrincipalName},
// subscriptions.go serves /v1.0/subscriptions, delta.go serves the
// users delta query at /v1.0/users/delta(), and batch.go serves JSON
// batches at /v1.0/$batch.
// Every request passes, in order, through request counting, the latency set
// by [Server.SetLatency], failures queued by [Server.FailNext], the
// bearer token check and the limit set by [Server.SetThrottle], before it
// reaches a resource handler.
package fakegraph

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// apiVersionPath is the path prefix of every route, the "/v1.0" of
// https://graph.microsoft.com/v1.0.
const apiVersionPath = "/v1.0"

// Options configures a Server.
type Options struct {
	// Authorize reports whether a bearer token is valid, typically
	// fakeentra.Server.ValidToken. Requests without a valid token get 401.
	// If nil, every request is accepted, with or without a token.
	Authorize func(token string) bool
	// SkipValidation turns off the validation requests that a new
	// subscription sends to its notification URLs.
	SkipValidation bool
	// NotificationClient sends validation requests and lifecycle
	// notifications, which go to loopback hosts only. If nil, a client
	// with Graph's 10-s validation timeout.
	NotificationClient *http.Client
	// TenantID is the tenantId of lifecycle notifications. If empty, they
	// carry an empty tenantId, as Graph has been seen to send.
	TenantID string
}

// Server is a running fake Microsoft Graph.
type Server struct {
	srv       *httptest.Server
	authorize func(token string) bool
	// closing is closed by Close to end request latencies early.
	closing   chan struct{}
	closeOnce sync.Once

	mu           sync.Mutex
	users        map[string]User // by lower-case ID
	requestPaths []string
	latency      time.Duration
	failures     []injectedFailure

	skipValidation bool
	notifier       *http.Client
	tenantID       string
	subscriptions  subscriptionState
	delta          deltaState
	throttle       throttleState
	batchItemPaths []string
}

// injectedFailure is one queued response from FailNext.
type injectedFailure struct {
	status int
	header http.Header
}

// Start starts a Server on 127.0.0.1 with a random port and a self-signed
// TLS certificate. Call Close when done.
func Start(opts Options) (*Server, error) {
	s := &Server{
		authorize: opts.Authorize,
		closing:   make(chan struct{}),
		users:     make(map[string]User),

		skipValidation: opts.SkipValidation,
		notifier:       opts.NotificationClient,
		tenantID:       opts.TenantID,
	}

	// The listener is made here rather than by httptest.NewUnstartedServer,
	// which panics when it cannot listen.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fake graph: %w", err)
	}
	s.srv = &httptest.Server{Listener: listener, Config: &http.Server{Handler: s.handler()}}
	s.srv.StartTLS()
	return s, nil
}

// routes registers every resource's handlers.
func (s *Server) routes(mux *http.ServeMux) {
	s.registerUsers(mux)
	s.registerSubscriptions(mux)
	s.registerDelta(mux)
	s.registerBatch(mux)
}

// handler returns the server's root handler: the steps every request
// passes before routing, then the resource routes.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dollarSegment := findDollarSegment(r.URL.Path)
		rewriteKeySegments(r.URL)
		s.recordRequest(r.URL.Path)
		if !s.waitLatency(r) {
			return
		}
		if failure, ok := s.nextFailure(); ok {
			writeInjectedFailure(w, r, failure)
			return
		}
		if !s.authorized(r) {
			writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken",
				"Access token is empty or invalid.")
			return
		}
		if dollarSegment != "" {
			writeError(w, r, http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Segment '%s' is not valid: only OData system segments start with '$'.", dollarSegment))
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			writeError(w, r, http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Resource not found for the segment '%s'.", lastSegment(r.URL.Path)))
			return
		}
		if retryAfter, ok := s.admit(r); !ok {
			writeThrottled(w, r, retryAfter)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// BaseURL returns the Graph base URL of the server, in the form
// "https://127.0.0.1:4321/v1.0".
func (s *Server) BaseURL() string {
	return s.srv.URL + apiVersionPath
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

// Requests returns how many requests arrived whose decoded path starts
// with prefix, such as "/v1.0/users/". It counts rejected and failed
// requests too. A key in parentheses, /v1.0/users('key'), counts as
// /v1.0/users/key.
func (s *Server) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, path := range s.requestPaths {
		if strings.HasPrefix(path, prefix) {
			n++
		}
	}
	return n
}

// TotalRequests returns how many requests arrived, whatever their outcome.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requestPaths)
}

// FailNext makes the server reject the next n requests with status, the
// given headers and a Graph error body, then serve normally again. A
// Content-Type in header replaces the Graph error body with the bare
// status text, as a gateway might send. Calls add up: FailNext(1, 429, h) then FailNext(1, 503, nil) fails the next
// request with 429 and the one after with 503.
func (s *Server) FailNext(n int, status int, header http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, injectedFailure{status: status, header: header.Clone()})
	}
}

// SetLatency delays every later response by d, or by nothing when d is
// zero. A request whose client gives up stops waiting at once.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Close shuts the server down. Requests waiting out a latency end at once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

func (s *Server) recordRequest(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requestPaths = append(s.requestPaths, path)
}

// waitLatency waits out the configured latency and reports whether the
// request should still be served.
func (s *Server) waitLatency(r *http.Request) bool {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency <= 0 {
		return true
	}

	timer := time.NewTimer(latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}

func (s *Server) nextFailure() (injectedFailure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return injectedFailure{}, false
	}
	failure := s.failures[0]
	s.failures = s.failures[1:]
	return failure, true
}

func (s *Server) authorized(r *http.Request) bool {
	if s.authorize == nil {
		return true
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && token != "" && s.authorize(token)
}

func lastSegment(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}
