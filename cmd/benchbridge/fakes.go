package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/fake/fakeset"
	"github.com/entrabridge/entrabridge/internal/scim"
)

// benchDomain is the mail domain of every generated user, and the only
// domain in entrabridge's ATLASSIAN_VERIFIED_DOMAINS.
const benchDomain = "contoso.com"

// fakes are the in-process stand-ins for Entra, Graph and Atlassian that
// one phase runs against, with the SCIM gate in front of Atlassian.
type fakes struct {
	*fakeset.Set
	gate *scimGate
	// certFile is a PEM file with the fakes' certificates, for
	// SSL_CERT_FILE of the processes that call them.
	certFile     string
	clientSecret string
	scimToken    string
}

// startFakes starts the fakes with latency on every Graph and SCIM
// response and a gate that admits scimLimit SCIM requests per second (0
// admits all). dir receives the certificate file.
func startFakes(dir string, latency time.Duration, scimLimit float64) (_ *fakes, err error) {
	// A local, because `return nil, err` would clear a named result before
	// the deferred close runs.
	f := &fakes{clientSecret: randomSecret(), scimToken: randomSecret()}
	defer func() {
		if err != nil {
			f.close()
		}
	}()

	if f.Set, err = fakeset.Start(fakeset.Options{TenantID: benchTenantID, ClientID: benchClientID,
		ClientSecret: f.clientSecret, SCIMToken: f.scimToken}); err != nil {
		return nil, err
	}
	if f.gate, err = startGate(f.SCIM, int(scimLimit)); err != nil {
		return nil, err
	}
	f.Graph.SetLatency(latency)
	f.SCIM.SetLatency(latency)

	f.certFile = filepath.Join(dir, "fakes.pem")
	if err := f.WriteCertificates(f.certFile); err != nil {
		return nil, err
	}
	return f, nil
}

// close stops every fake that started.
func (f *fakes) close() {
	if f.gate != nil {
		f.gate.close()
	}
	if f.Set != nil {
		f.Set.Close()
	}
}

// userPrincipalName returns the UPN of user id after generation renames.
func userPrincipalName(id string, generation int) string {
	if generation == 0 {
		return "user." + id + "@" + benchDomain
	}
	return fmt.Sprintf("user.%s.r%d@%s", id, generation, benchDomain)
}

// seed creates each user in Graph and in SCIM, linked as Entra
// provisioning links them: the SCIM externalId holds the object ID. The
// SCIM id is the object ID too, so that the inline baseline can PATCH
// without a lookup.
func (f *fakes) seed(ids []string) {
	for _, id := range ids {
		upn := userPrincipalName(id, 0)
		f.Graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: upn, Mail: upn, AccountEnabled: true})
		f.SCIM.AddUser(scim.User{
			ID: id, ExternalID: id, UserName: upn,
			Emails: []scim.Email{{Value: upn, Type: "work", Primary: true}},
		})
	}
}

// rename changes the user's UPN and mail in Graph, as an admin renaming
// them in Entra would.
func (f *fakes) rename(id string, generation int) {
	upn := userPrincipalName(id, generation)
	f.Graph.PutUser(fakegraph.User{ID: id, UserPrincipalName: upn, Mail: upn, AccountEnabled: true})
}

// bridgeEnv returns the variables that point entrabridge's worker at the
// fakes.
func (f *fakes) bridgeEnv() []string {
	return []string{
		"SSL_CERT_FILE=" + f.certFile,
		"GRAPH_BASE_URL=" + f.Graph.BaseURL(),
		"AZURE_TENANT_ID=" + benchTenantID,
		"AZURE_CLIENT_ID=" + benchClientID,
		"AZURE_CLIENT_SECRET=" + f.clientSecret,
		"AZURE_AUTHORITY_HOST=" + f.Entra.AuthorityHost(),
		"ATLASSIAN_SCIM_URL=" + f.gate.baseURL,
		"ATLASSIAN_SCIM_TOKEN=" + f.scimToken,
		"ATLASSIAN_VERIFIED_DOMAINS=" + benchDomain,
	}
}

// inlineEnv returns the variables that point the inline baseline at the
// fakes. It calls fake SCIM directly, without the gate, because the
// samples it stands for apply no rate limit.
func (f *fakes) inlineEnv() []string {
	return []string{
		"SSL_CERT_FILE=" + f.certFile,
		envGraphURL + "=" + f.Graph.BaseURL(),
		envTokenURL + "=" + strings.TrimSuffix(f.Entra.AuthorityHost(), "/") + "/" + benchTenantID + "/oauth2/v2.0/token",
		envClientID + "=" + benchClientID,
		envClientSecret + "=" + f.clientSecret,
		envSCIMURL + "=" + f.SCIM.BaseURL(),
		envSCIMToken + "=" + f.scimToken,
	}
}
