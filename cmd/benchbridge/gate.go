package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
)

// scimGate is an HTTPS front of the fake SCIM directory, because fakescim
// has no rate limit of its own. It counts the requests arriving in each
// wall-clock second and responds 429 once a second has had limit of them. Atlassian publishes no limit or window, so a fixed one-second
// window is an assumption: it is the simplest reading of "N requests per
// second", and a stricter one than a token bucket with a burst allowance.
type scimGate struct {
	srv      *httptest.Server
	baseURL  string
	proxy    *httputil.ReverseProxy
	limit    int // requests per second, or 0 for no limit
	basePath string

	mu         sync.Mutex
	window     int64 // the Unix second being counted
	inWindow   int
	arrivals   []time.Time // of admitted requests
	rejections []time.Time
	// patches holds the arrival times of admitted PATCH requests, by
	// SCIM user ID.
	patches map[string][]time.Time
}

// startGate starts a gate in front of directory that admits limit requests
// per second, or every request when limit is 0.
func startGate(directory *fakescim.Server, limit int) (*scimGate, error) {
	target, err := url.Parse(directory.BaseURL())
	if err != nil {
		return nil, fmt.Errorf("parse fake scim URL: %w", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	proxy.Transport = directory.Client().Transport

	g := &scimGate{proxy: proxy, limit: limit, basePath: target.Path, patches: map[string][]time.Time{}}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start scim gate: %w", err)
	}
	g.srv = &httptest.Server{Listener: listener, Config: &http.Server{Handler: g}}
	g.srv.StartTLS()
	g.baseURL = g.srv.URL + target.Path
	return g, nil
}

// ServeHTTP counts the request and forwards it, or responds 429.
func (g *scimGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.admit(r, time.Now()) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"Too many requests"}`)
		return
	}
	g.proxy.ServeHTTP(w, r)
}

func (g *scimGate) admit(r *http.Request, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if second := now.Unix(); second != g.window {
		g.window, g.inWindow = second, 0
	}
	if g.limit > 0 && g.inWindow >= g.limit {
		g.rejections = append(g.rejections, now)
		return false
	}
	g.inWindow++
	g.arrivals = append(g.arrivals, now)
	if id, ok := strings.CutPrefix(r.URL.Path, g.basePath+"/Users/"); ok && r.Method == http.MethodPatch {
		g.patches[id] = append(g.patches[id], now)
	}
	return true
}

// gateCounts are the gate's counts for one time window.
type gateCounts struct {
	requests int
	// maxPerSecond is the most requests admitted in one wall-clock second.
	maxPerSecond int
	rejected     int
	patches      int
}

// counts returns what arrived in [from, to).
func (g *scimGate) counts(from, to time.Time) gateCounts {
	g.mu.Lock()
	defer g.mu.Unlock()
	var c gateCounts
	perSecond := map[int64]int{}
	for _, at := range g.arrivals {
		if within(at, from, to) {
			c.requests++
			perSecond[at.Unix()]++
			c.maxPerSecond = max(c.maxPerSecond, perSecond[at.Unix()])
		}
	}
	for _, at := range g.rejections {
		if within(at, from, to) {
			c.rejected++
		}
	}
	for _, arrivals := range g.patches {
		for _, at := range arrivals {
			if within(at, from, to) {
				c.patches++
			}
		}
	}
	return c
}

func within(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

// secondCount is what arrived in one wall-clock second.
type secondCount struct {
	admitted, rejected int
}

// timeline returns the admitted and rejected requests of each wall-clock
// second from the one containing from to the one containing to.
func (g *scimGate) timeline(from, to time.Time) []secondCount {
	g.mu.Lock()
	defer g.mu.Unlock()
	first := from.Unix()
	seconds := make([]secondCount, to.Unix()-first+1)
	for _, at := range g.arrivals {
		if i := at.Unix() - first; i >= 0 && i < int64(len(seconds)) {
			seconds[i].admitted++
		}
	}
	for _, at := range g.rejections {
		if i := at.Unix() - first; i >= 0 && i < int64(len(seconds)) {
			seconds[i].rejected++
		}
	}
	return seconds
}

// patchArrivals returns the arrival times of the admitted PATCH requests
// for each SCIM user ID.
func (g *scimGate) patchArrivals() map[string][]time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string][]time.Time, len(g.patches))
	for id, arrivals := range g.patches {
		out[id] = append([]time.Time(nil), arrivals...)
	}
	return out
}

// rejectedCount returns how many requests the gate rejected with 429.
func (g *scimGate) rejectedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.rejections)
}

func (g *scimGate) close() { g.srv.Close() }
