package fakescim

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// Request is one request the fake received, recorded before any check, so
// rejected and failed requests appear too.
type Request struct {
	Method string
	// Path is the decoded URL path.
	Path string
	// Query is the raw, still encoded query.
	Query string
	Body  []byte
	At    time.Time
}

type injectedFailure struct {
	status int
	header http.Header
	body   []byte
}

func (f injectedFailure) write(w http.ResponseWriter) {
	for name, values := range f.header {
		w.Header()[name] = append([]string(nil), values...)
	}
	if f.body == nil {
		writeError(w, f.status, "", "injected failure")
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", mediaType)
	}
	w.WriteHeader(f.status)
	w.Write(f.body)
}

// Requests returns a copy of every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// Patches returns how many PATCH requests for the user with SCIM id the
// fake received, whether or not they succeeded.
func (s *Server) Patches(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.patches[id]
}

// Overlaps returns how many times a PATCH for a user arrived while another
// PATCH for the same user was still in flight.
func (s *Server) Overlaps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overlaps
}

// FailNext makes the next n requests, whatever their method, path or
// token, fail with status, header and body. A nil body sends a SCIM error
// body for status. Calls queue up: a second call adds n more failures
// after those still pending.
func (s *Server) FailNext(n, status int, header http.Header, body []byte) {
	f := injectedFailure{status: status, header: header.Clone(), body: bytes.Clone(body)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, f)
	}
}

// SetLatency delays every later response by d. Zero removes the delay.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetVerifiedDomains sets the email domains the organization has verified.
// A PATCH that moves the user's primary email to another domain succeeds
// but unlinks the record from its Atlassian account (AccountID becomes
// empty), as Atlassian does. nil means every domain is verified. Domains
// compare case-insensitively.
func (s *Server) SetVerifiedDomains(domains []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if domains == nil {
		s.verifiedDomains = nil
		return
	}
	s.verifiedDomains = make(map[string]bool, len(domains))
	for _, d := range domains {
		s.verifiedDomains[strings.ToLower(d)] = true
	}
}

// record stores the request and, for a PATCH of a user, counts it and marks
// it in flight. It returns the user's id for a PATCH and "" otherwise.
func (s *Server) record(r *http.Request, body []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Body:   body,
		At:     time.Now(),
	})

	id, ok := s.userIDOf(r.URL.Path)
	if r.Method != http.MethodPatch || !ok {
		return ""
	}
	s.patches[id]++
	if s.inFlight[id] > 0 {
		s.overlaps++
	}
	s.inFlight[id]++
	return id
}

func (s *Server) endPatch(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight[id]--
	if s.inFlight[id] == 0 {
		delete(s.inFlight, id)
	}
}

// userIDOf returns the id in a /Users/{id} path under the base path.
func (s *Server) userIDOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, s.basePath+"/Users/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}

// wait sleeps for the configured latency and returns false if the client
// went away first.
func (s *Server) wait(r *http.Request) bool {
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
	}
}

func (s *Server) takeFailure() (injectedFailure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return injectedFailure{}, false
	}
	f := s.failures[0]
	s.failures = s.failures[1:]
	return f, true
}
