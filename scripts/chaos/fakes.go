package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync/atomic"

	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/fake/fakeset"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// Credentials of the fake tenant. They exist only inside this run.
const (
	tenantID     = "e51f0faa-edf2-4939-9a3e-34f9e953ccaf"
	clientID     = "5b0c7e2d-91a4-4f3e-8c6d-2f1e0a9b8c7d"
	clientSecret = "chaos-client-secret"
	scimToken    = "chaos-scim-token"
	clientState  = "chaos-client-state"
)

// fakes are the in-process Entra, Graph and Atlassian SCIM, with a gate in
// front of SCIM that can respond 503 for a while.
type fakes struct {
	*fakeset.Set
	gate     *scimGate
	certFile string
	users    []chaosUser
}

// chaosUser links an Entra object ID to its SCIM record.
type chaosUser struct {
	id     string
	scimID string
}

// startFakes starts the fakes and creates users users in Graph and SCIM,
// linked by externalId as Entra provisioning links them.
func startFakes(dir string, users int) (*fakes, error) {
	set, err := fakeset.Start(fakeset.Options{TenantID: tenantID, ClientID: clientID,
		ClientSecret: clientSecret, SCIMToken: scimToken})
	if err != nil {
		return nil, err
	}
	fk := &fakes{Set: set}
	if fk.gate, err = startGate(fk.SCIM); err != nil {
		fk.close()
		return nil, err
	}

	fk.certFile = filepath.Join(dir, "fakes.pem")
	if err := fk.WriteCertificates(fk.certFile); err != nil {
		fk.close()
		return nil, err
	}
	for i := range users {
		fk.users = append(fk.users, fk.seed(i))
	}
	return fk, nil
}

// seed creates user i in both fakes. Every tenth user has no mailbox, so
// the bridge sends the UPN as the email.
func (fk *fakes) seed(i int) chaosUser {
	id := fmt.Sprintf("c4a05000-0000-4000-8000-%012d", i)
	upn, mail := userNames(i, 0)
	fk.Graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: upn, Mail: mail, AccountEnabled: true})
	rec := fk.SCIM.AddUser(scim.User{ExternalID: id, UserName: upn,
		Emails: []scim.Email{{Value: upn, Type: "work", Primary: true}}})
	return chaosUser{id: id, scimID: rec.ID}
}

// userNames returns user i's UPN and mail at version v of the load.
func userNames(i, v int) (upn, mail string) {
	upn = fmt.Sprintf("user%d@contoso.com", i)
	if v > 0 {
		upn = fmt.Sprintf("user%d.v%d@contoso.com", i, v)
	}
	if i%10 == 9 {
		return upn, ""
	}
	return upn, upn
}

func (fk *fakes) close() {
	if fk.gate != nil {
		fk.gate.close()
	}
	fk.Set.Close()
}

// scimGate is an HTTPS reverse proxy in front of the fake SCIM that
// responds 503 to every request while failing is set. Requests it rejects
// never reach the fake, so the fake's PATCH counts stay exact.
type scimGate struct {
	server   *httptest.Server
	basePath string
	failing  atomic.Bool
	rejected atomic.Int64
}

func startGate(target *fakescim.Server) (*scimGate, error) {
	base, err := url.Parse(target.BaseURL())
	if err != nil {
		return nil, fmt.Errorf("parse fake scim URL: %w", err)
	}
	origin := &url.URL{Scheme: base.Scheme, Host: base.Host}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(origin) },
		Transport: target.Client().Transport,
		// A killed bridge process cancels its requests. That is expected
		// here and needs no log line.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	g := &scimGate{basePath: base.Path}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the scim gate: %w", err)
	}
	g.server = &httptest.Server{Listener: ln, Config: &http.Server{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, proxy) }),
		ErrorLog: log.New(io.Discard, "", 0),
	}}
	g.server.StartTLS()
	return g, nil
}

func (g *scimGate) serve(w http.ResponseWriter, r *http.Request, proxy http.Handler) {
	if !g.failing.Load() {
		proxy.ServeHTTP(w, r)
		return
	}
	g.rejected.Add(1)
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],`+
		`"status":"503","detail":"service unavailable (injected by the chaos run)"}`)
}

// baseURL returns the SCIM base URL the bridge uses: the gate's address
// with the fake's directory path.
func (g *scimGate) baseURL() string { return g.server.URL + g.basePath }

func (g *scimGate) close() { g.server.Close() }
