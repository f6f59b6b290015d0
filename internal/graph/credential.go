package graph

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// publicAuthorityHost is the Entra endpoint of the global cloud, as in
// azcore's cloud.AzurePublic.
const publicAuthorityHost = "https://login.microsoftonline.com/"

// newCredential builds the azidentity credential that CredentialKind
// selects. It reads the certificate file but sends no request.
func newCredential(c Config) (azcore.TokenCredential, error) {
	options := c.clientOptions()
	disableDiscovery := !isDiscoverable(c.authorityHost())

	switch kind := c.CredentialKind(); kind {
	case KindWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions:            options,
			ClientID:                 c.ClientID,
			TenantID:                 c.TenantID,
			TokenFilePath:            c.FederatedTokenFile,
			DisableInstanceDiscovery: disableDiscovery,
		})
	case KindClientCertificate:
		return newCertificateCredential(c, options, disableDiscovery)
	case KindClientSecret:
		return azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{
				ClientOptions:            options,
				DisableInstanceDiscovery: disableDiscovery,
			})
	case KindManagedIdentity:
		miOptions := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: options}
		if c.ClientID != "" {
			miOptions.ID = azidentity.ClientID(c.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(miOptions)
	default:
		return nil, fmt.Errorf("unknown credential kind %q", kind)
	}
}

func newCertificateCredential(c Config, options azcore.ClientOptions, disableDiscovery bool) (azcore.TokenCredential, error) {
	data, err := os.ReadFile(c.CertificatePath)
	if err != nil {
		return nil, fmt.Errorf("read AZURE_CLIENT_CERTIFICATE_PATH: %w", err)
	}
	var password []byte
	if c.CertificatePassword != "" {
		password = []byte(c.CertificatePassword)
	}
	certs, key, err := azidentity.ParseCertificates(data, password)
	if err != nil {
		return nil, fmt.Errorf("parse AZURE_CLIENT_CERTIFICATE_PATH %s (a PEM file with the certificate "+
			"and an unencrypted key, or a PKCS#12 file with AZURE_CLIENT_CERTIFICATE_PASSWORD): %w",
			c.CertificatePath, err)
	}
	return azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{
			ClientOptions:            options,
			DisableInstanceDiscovery: disableDiscovery,
		})
}

// clientOptions returns the azcore options shared by every credential
// kind. It keeps azcore's default retry policy for token requests, unlike
// the Graph client: they are rare, because the credential caches each
// token until shortly before it expires, and azidentity sets retry
// defaults of its own for the managed identity endpoint.
func (c Config) clientOptions() azcore.ClientOptions {
	options := azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: c.authorityHost()},
	}
	// A nil *http.Client in the Transporter interface would not read as
	// nil to azcore, so the field is set only for a real client.
	if c.HTTPClient != nil {
		options.Transport = c.HTTPClient
	}
	return options
}

// authorityHost returns AuthorityHost or the global cloud's.
func (c Config) authorityHost() string {
	if c.AuthorityHost == "" {
		return publicAuthorityHost
	}
	return c.AuthorityHost
}

// isDiscoverable reports whether authorityHost is the Entra endpoint of
// the global cloud or a national cloud, for which MSAL's instance discovery
// works. For any other host MSAL sends instance discovery to
// login.microsoftonline.com, which cannot vouch for a private or local
// authority, so the credential must skip it.
func isDiscoverable(authorityHost string) bool {
	u, err := url.Parse(authorityHost)
	if err != nil {
		return false
	}
	for _, known := range []cloud.Configuration{cloud.AzurePublic, cloud.AzureGovernment, cloud.AzureChina} {
		k, err := url.Parse(known.ActiveDirectoryAuthorityHost)
		if err == nil && strings.EqualFold(k.Host, u.Host) {
			return true
		}
	}
	return false
}
