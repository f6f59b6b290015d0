package fakegraph

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// throttleState is the token bucket of SetThrottle. The Server's mu
// guards it.
type throttleState struct {
	// capacity is the resource units allowed per 10 s; 0 turns
	// throttling off.
	capacity  float64
	tokens    float64
	refilled  time.Time
	throttled int
}

// SetThrottle limits requests to the users resource to perTenSeconds
// resource units per 10 s, as Graph's identity and access service limits
// do with a token bucket per application and tenant (learn.microsoft.com
// /graph/throttling-limits: 3,500, 5,000 or 8,000 units per 10 s for a
// tenant of under 50, up to 500 and over 500 users). A request over the
// limit gets 429 with Retry-After, and Throttled counts it. Each item of
// a JSON batch is charged on its own, and the batch request itself costs
// nothing. perTenSeconds of 0 or less turns throttling off.
func (s *Server) SetThrottle(perTenSeconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = throttleState{
		capacity: float64(max(perTenSeconds, 0)),
		tokens:   float64(max(perTenSeconds, 0)),
		refilled: time.Now(),
	}
}

// Throttled returns how many requests and batch items got 429 from
// SetThrottle's limit.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttle.throttled
}

// admit charges the request's cost to the bucket and reports whether it
// may proceed. When it may not, it returns the whole seconds until the
// bucket holds enough units again.
func (s *Server) admit(r *http.Request) (retryAfter int, ok bool) {
	cost := requestCost(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &s.throttle
	if t.capacity == 0 || cost == 0 {
		return 0, true
	}

	// The bucket refills at capacity per 10 s, up to capacity.
	now := time.Now()
	rate := t.capacity / 10
	t.tokens = min(t.capacity, t.tokens+now.Sub(t.refilled).Seconds()*rate)
	t.refilled = now
	if t.tokens >= cost {
		t.tokens -= cost
		return 0, true
	}
	t.throttled++
	return max(1, int(math.Ceil((cost-t.tokens)/rate))), false
}

// requestCost returns the resource units of a request by the base costs
// of Graph's identity and access service limits: GET /users costs 2,
// and any other users path 1. $select lowers the cost by 1, as does $top
// below 20, but never below 1. Paths outside /users cost nothing here.
// NOTE: the table read for this lists no cost for users/delta, so a
// delta page is charged as an unlisted identity path, 1 unit.
func requestCost(r *http.Request) float64 {
	path := strings.TrimPrefix(r.URL.Path, apiVersionPath)
	if path != "/users" && !strings.HasPrefix(path, "/users/") {
		return 0
	}
	cost := 1
	if path == "/users" && r.Method == http.MethodGet {
		cost = 2
	}
	query := r.URL.Query()
	if query.Get("$select") != "" {
		cost--
	}
	if top, err := strconv.Atoi(query.Get("$top")); err == nil && top < 20 {
		cost--
	}
	return float64(max(cost, 1))
}

// writeThrottled sends Graph's 429 for a request over the limit.
func writeThrottled(w http.ResponseWriter, r *http.Request, retryAfter int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	w.Header().Set("x-ms-throttle-information", "ResourceUnitLimitExceeded")
	writeError(w, r, http.StatusTooManyRequests, "TooManyRequests",
		"Too many requests: the resource unit limit of the application and tenant was exceeded.")
}
