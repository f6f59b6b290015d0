package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/entrabridge/entrabridge/internal/fake/fakeentra"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakescim"
	"github.com/entrabridge/entrabridge/internal/graph"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// Credentials of the fake tenant. They exist only inside this run.
const (
	tenantID     = "0b7d3c1e-5a2f-4e8b-9c6d-1f0e2d3c4b5a"
	clientID     = "7e6d5c4b-3a2f-4e1d-8c0b-9a8f7e6d5c4b"
	clientSecret = "bulkbench-client-secret"
	scimToken    = "bulkbench-scim-token"
	clientState  = "bulkbench-client-state"
)

// fakes are the in-process Entra, Graph and Atlassian SCIM of a run.
type fakes struct {
	entra    *fakeentra.Server
	graph    *fakegraph.Server
	scim     *fakescim.Server
	certFile string
	// ids and scimIDs are indexed by user number.
	ids     []string
	scimIDs []string
}

// startFakes starts the fakes and creates users users in Graph and SCIM,
// linked by externalId as Entra provisioning links them.
func startFakes(dir string, users int) (*fakes, error) {
	fk := &fakes{}
	var err error
	if fk.entra, err = fakeentra.Start(); err != nil {
		return nil, fmt.Errorf("start fake entra: %w", err)
	}
	fk.entra.AddClient(tenantID, clientID, clientSecret)
	if fk.graph, err = fakegraph.Start(fakegraph.Options{Authorize: fk.entra.ValidToken}); err != nil {
		fk.close()
		return nil, fmt.Errorf("start fake graph: %w", err)
	}
	if fk.scim, err = fakescim.Start(fakescim.Options{Token: scimToken}); err != nil {
		fk.close()
		return nil, fmt.Errorf("start fake scim: %w", err)
	}

	// Every fake serves net/http/httptest's certificate, so one file
	// trusts them all.
	fk.certFile = filepath.Join(dir, "fakes.pem")
	if err := os.WriteFile(fk.certFile, fk.entra.CertificatePEM(), 0o600); err != nil {
		fk.close()
		return nil, fmt.Errorf("write the fakes' certificate: %w", err)
	}
	for i := range users {
		id := fmt.Sprintf("b0000000-0000-4000-8000-%012d", i)
		upn := userPrincipalName(i, false)
		fk.graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: upn, Mail: upn, AccountEnabled: true})
		rec := fk.scim.AddUser(scim.User{ExternalID: id, UserName: upn,
			Emails: []scim.Email{{Value: upn, Type: "work", Primary: true}}})
		fk.ids = append(fk.ids, id)
		fk.scimIDs = append(fk.scimIDs, rec.ID)
	}
	return fk, nil
}

// userPrincipalName returns user i's UPN, which is also its mail.
func userPrincipalName(i int, renamed bool) string {
	if renamed {
		return fmt.Sprintf("user%d.renamed@contoso.com", i)
	}
	return fmt.Sprintf("user%d@contoso.com", i)
}

// latestDeltaLink returns a users delta link that tracks changes from now
// on, read with the Graph client the bridge uses, so that its $select
// matches the bridge's bulk rounds.
func (fk *fakes) latestDeltaLink(ctx context.Context) (string, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(fk.entra.CertificatePEM()) {
		return "", errors.New("no certificate in the fake Entra's PEM")
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer transport.CloseIdleConnections()
	client, err := graph.New(graph.Config{
		BaseURL:       fk.graph.BaseURL(),
		TenantID:      tenantID,
		ClientID:      clientID,
		ClientSecret:  clientSecret,
		AuthorityHost: fk.entra.AuthorityHost(),
		HTTPClient:    &http.Client{Transport: transport},
	})
	if err != nil {
		return "", fmt.Errorf("create graph client: %w", err)
	}
	return client.LatestUsersDeltaLink(ctx)
}

func (fk *fakes) close() {
	if fk.scim != nil {
		fk.scim.Close()
	}
	if fk.graph != nil {
		fk.graph.Close()
	}
	if fk.entra != nil {
		fk.entra.Close()
	}
}
