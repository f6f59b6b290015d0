// Package fakeset starts the three fakes a bridge talks to (the Entra
// token endpoint, Microsoft Graph and Atlassian SCIM) with one registered
// app, so the demo, the benchmarks and the chaos run set them up the same
// way.
package fakeset

import (
	"errors"
	"fmt"
	"os"

	"github.com/entrabridge/entrabridge/internal/fake/fakeentra"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
)

// Options are the credentials of the fake tenant.
type Options struct {
	TenantID     string
	ClientID     string
	ClientSecret string
	// SCIMToken is the directory API key the fake SCIM accepts.
	SCIMToken string
}

// Set is a running set of fakes. Graph accepts only tokens the fake Entra
// issued to the registered app.
type Set struct {
	Entra *fakeentra.Server
	Graph *fakegraph.Server
	SCIM  *fakescim.Server
}

// Start starts the fakes on 127.0.0.1 and registers the app. On an error
// it stops what it started.
func Start(opts Options) (*Set, error) {
	s := &Set{}
	var err error
	if s.Entra, err = fakeentra.Start(); err != nil {
		return nil, fmt.Errorf("start fake entra: %w", err)
	}
	s.Entra.AddClient(opts.TenantID, opts.ClientID, opts.ClientSecret)
	if s.Graph, err = fakegraph.Start(fakegraph.Options{Authorize: s.Entra.ValidToken}); err != nil {
		s.Close()
		return nil, fmt.Errorf("start fake graph: %w", err)
	}
	if s.SCIM, err = fakescim.Start(fakescim.Options{Token: opts.SCIMToken}); err != nil {
		s.Close()
		return nil, fmt.Errorf("start fake scim: %w", err)
	}
	return s, nil
}

// WriteCertificates writes the fakes' TLS certificates as one PEM file at
// path, for SSL_CERT_FILE of a process that calls them.
func (s *Set) WriteCertificates(path string) error {
	pem := append(s.Entra.CertificatePEM(), s.Graph.CertificatePEM()...)
	if len(pem) == 0 {
		return errors.New("fakeset: the fakes have no certificate")
	}
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		return fmt.Errorf("write the fakes' certificates: %w", err)
	}
	return nil
}

// Close stops every fake that started.
func (s *Set) Close() {
	if s.SCIM != nil {
		s.SCIM.Close()
	}
	if s.Graph != nil {
		s.Graph.Close()
	}
	if s.Entra != nil {
		s.Entra.Close()
	}
}
