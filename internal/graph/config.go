package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// DefaultBaseURL is the Microsoft Graph v1.0 endpoint of the global cloud.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Credential kinds returned by Config.CredentialKind.
const (
	KindWorkloadIdentity  = "workload_identity"
	KindClientCertificate = "client_certificate"
	KindClientSecret      = "client_secret"
	KindManagedIdentity   = "managed_identity"
)

// Config selects the Graph endpoint and the Entra credential. The comment
// of each field names the environment variable that usually sets it.
type Config struct {
	// BaseURL is GRAPH_BASE_URL, the Graph root including the API version.
	// If empty, DefaultBaseURL. A national cloud uses its own host, such as
	// https://graph.microsoft.us/v1.0.
	BaseURL string
	// TenantID is AZURE_TENANT_ID, the directory (tenant) ID of the app
	// registration.
	TenantID string
	// ClientID is AZURE_CLIENT_ID, the application (client) ID. With
	// ManagedIdentity it selects a user-assigned identity, and if empty the
	// host's system-assigned identity is used.
	ClientID string
	// ClientSecret is AZURE_CLIENT_SECRET.
	ClientSecret string
	// CertificatePath is AZURE_CLIENT_CERTIFICATE_PATH, a PEM or PKCS#12
	// file containing the certificate and its private key.
	CertificatePath string
	// CertificatePassword is AZURE_CLIENT_CERTIFICATE_PASSWORD, the
	// password of a PKCS#12 file.
	CertificatePassword string
	// FederatedTokenFile is AZURE_FEDERATED_TOKEN_FILE, the service account
	// token that AKS workload identity mounts into the pod.
	FederatedTokenFile string
	// ManagedIdentity selects the managed identity of the Azure host.
	ManagedIdentity bool
	// AuthorityHost is AZURE_AUTHORITY_HOST, the Entra endpoint that issues
	// tokens. If empty, the global cloud's https://login.microsoftonline.com/.
	AuthorityHost string
	// HTTPClient, when set, carries every request of the credential and of
	// the Graph client: New uses its Transport and Timeout. Tests and the
	// demo use it to trust their fakes' TLS certificate. When nil, Go's
	// default transport is used, so SSL_CERT_FILE applies.
	HTTPClient *http.Client
	// Limiter, when set, is waited on before every Graph request, but not
	// before token requests. cmd/entrabridge passes a throttle.Limiter so
	// that all replicas share one request rate and one pause after a 429.
	Limiter Limiter
}

// Limiter paces Graph requests; throttle.Limiter meets it.
type Limiter interface {
	// Wait blocks until a request may go, or returns an error when ctx
	// ends first or the limiter's state cannot be read.
	Wait(ctx context.Context) error
}

// CredentialKind returns which azidentity credential the Config selects:
// KindWorkloadIdentity when FederatedTokenFile is set, else
// KindClientCertificate when CertificatePath is set, else KindClientSecret
// when ClientSecret is set, else KindManagedIdentity when ManagedIdentity
// is true. It returns "" when none applies.
func (c Config) CredentialKind() string {
	switch {
	case c.FederatedTokenFile != "":
		return KindWorkloadIdentity
	case c.CertificatePath != "":
		return KindClientCertificate
	case c.ClientSecret != "":
		return KindClientSecret
	case c.ManagedIdentity:
		return KindManagedIdentity
	}
	return ""
}

// Validate checks the Config without reading any file or calling Entra,
// and returns every problem found, each naming its environment variable
// and the fix.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL != "" {
		errs = append(errs, validateBaseURL(c.BaseURL))
	}
	if c.AuthorityHost != "" {
		errs = append(errs, validateAuthorityHost(c.AuthorityHost))
	}

	switch c.CredentialKind() {
	case "":
		errs = append(errs, errors.New("no Entra credential is configured: set AZURE_FEDERATED_TOKEN_FILE "+
			"(AKS workload identity), AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_SECRET, "+
			"or enable the host's managed identity"))
	case KindManagedIdentity:
		// The identity is the host's, so there is no tenant or secret to check.
	default:
		errs = append(errs, validateTenantID(c.TenantID))
		if c.ClientID == "" {
			errs = append(errs, errors.New("AZURE_CLIENT_ID is missing: set it to the application "+
				"(client) ID of the app registration"))
		}
	}
	return errors.Join(errs...)
}

func validateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return fmt.Errorf("GRAPH_BASE_URL %q is invalid: use an absolute https URL such as %s", raw, DefaultBaseURL)
	}
	return nil
}

func validateAuthorityHost(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("AZURE_AUTHORITY_HOST %q is invalid: use an absolute https URL such as %s",
			raw, publicAuthorityHost)
	}
	return nil
}

// validateTenantID applies azidentity's rule for tenant IDs: letters,
// digits, "." and "-".
func validateTenantID(tenantID string) error {
	if tenantID == "" {
		return errors.New("AZURE_TENANT_ID is missing: set it to the directory (tenant) ID of the app registration")
	}
	for _, r := range tenantID {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-') {
			return fmt.Errorf("AZURE_TENANT_ID %q is invalid: use the tenant's ID or its domain, "+
				"such as contoso.onmicrosoft.com", tenantID)
		}
	}
	return nil
}

// isLoopback reports whether host is one of the names for which
// kiota-authentication-azure-go v1.3 sends a token over plain http.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// baseURL returns BaseURL or its default, without a trailing slash.
func (c Config) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimSuffix(c.BaseURL, "/")
}

// String describes the Config without its secrets, so that printing it
// with %v or %+v does not leak them. %#v still prints every field.
func (c Config) String() string {
	return fmt.Sprintf("graph.Config{BaseURL:%s TenantID:%s ClientID:%s Credential:%s AuthorityHost:%s}",
		c.baseURL(), c.TenantID, c.ClientID, c.CredentialKind(), c.authorityHost())
}

// LogValue logs the Config without its secrets, naming only the kind of
// credential in use.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.baseURL()),
		slog.String("tenant_id", c.TenantID),
		slog.String("client_id", c.ClientID),
		slog.String("credential", c.CredentialKind()),
		slog.String("authority_host", c.authorityHost()),
	)
}
