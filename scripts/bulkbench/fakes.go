package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakeset"
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
	*fakeset.Set
	certFile string
	// ids and scimIDs are indexed by user number.
	ids     []string
	scimIDs []string
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
	fk.certFile = filepath.Join(dir, "fakes.pem")
	if err := fk.WriteCertificates(fk.certFile); err != nil {
		fk.close()
		return nil, err
	}
	for i := range users {
		id := fmt.Sprintf("b0000000-0000-4000-8000-%012d", i)
		upn := userPrincipalName(i, false)
		fk.Graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: upn, Mail: upn, AccountEnabled: true})
		rec := fk.SCIM.AddUser(scim.User{ExternalID: id, UserName: upn,
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
	if !pool.AppendCertsFromPEM(fk.Entra.CertificatePEM()) {
		return "", errors.New("no certificate in the fake Entra's PEM")
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer transport.CloseIdleConnections()
	client, err := graph.New(graph.Config{
		BaseURL:       fk.Graph.BaseURL(),
		TenantID:      tenantID,
		ClientID:      clientID,
		ClientSecret:  clientSecret,
		AuthorityHost: fk.Entra.AuthorityHost(),
		HTTPClient:    &http.Client{Transport: transport},
	})
	if err != nil {
		return "", fmt.Errorf("create graph client: %w", err)
	}
	return client.LatestUsersDeltaLink(ctx)
}

func (fk *fakes) close() {
	fk.Set.Close()
}
