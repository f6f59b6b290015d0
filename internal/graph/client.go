package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
)

// defaultTimeout bounds one Graph request when Config.HTTPClient sets no
// timeout, as a backstop for a caller whose context has no deadline.
const defaultTimeout = 30 * time.Second

// Client reads users from Microsoft Graph with an Entra app credential.
// It is safe for concurrent use.
type Client struct {
	sdk        *msgraphsdk.GraphServiceClient
	credential azcore.TokenCredential
	baseURL    string
	scope      string
}

// New validates cfg and builds a Client. It reads a certificate file, if
// configured, but sends no request: the first call fetches the token.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid graph configuration: %w", err)
	}
	credential, err := newCredential(cfg)
	if err != nil {
		return nil, fmt.Errorf("create %s credential: %w", cfg.CredentialKind(), err)
	}

	baseURL := cfg.baseURL()
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("parse GRAPH_BASE_URL %q: %w", baseURL, err)
	}
	scope := u.Scheme + "://" + u.Host + "/.default"

	// The SDK attaches the token only to requests for the allowed hosts, so
	// the host of BaseURL must be one of them.
	auth, err := graphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		credential, []string{scope}, []string{u.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("create graph authentication provider: %w", err)
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, nil, nil, newHTTPClient(cfg.HTTPClient, cfg.Limiter))
	if err != nil {
		return nil, fmt.Errorf("create graph request adapter: %w", err)
	}
	adapter.SetBaseUrl(baseURL)

	return &Client{
		sdk:        msgraphsdk.NewGraphServiceClient(adapter),
		credential: credential,
		baseURL:    baseURL,
		scope:      scope,
	}, nil
}

// Token fetches a token for the Graph scope, or takes it from the cache,
// to check the credential without reading any data.
func (c *Client) Token(ctx context.Context) error {
	// EnableCAE matches the token requests of the SDK's authentication
	// provider, so the token lands in the same cache.
	_, err := c.credential.GetToken(ctx, policy.TokenRequestOptions{
		Scopes:    []string{c.scope},
		EnableCAE: true,
	})
	if err != nil {
		return fmt.Errorf("get graph token for %s: %w", c.scope, classify(err, nil))
	}
	return nil
}

// newHTTPClient returns the SDK's HTTP client without its retry handler
// and with responseRecorder as the innermost middleware, preceded by
// limiter when it is not nil. In kiota-http-go
// v1.5 the retry handler sleeps on 429, 503 and 504 for up to three
// retries within the caller's job, while the bridge retries through its
// queue after the Retry-After wait instead.
func newHTTPClient(base *http.Client, limiter Limiter) *http.Client {
	options := msgraphsdk.GetDefaultClientOptions()
	var middlewares []khttp.Middleware
	for _, m := range msgraphcore.GetDefaultMiddlewaresWithOptions(&options) {
		if _, isRetry := m.(*khttp.RetryHandler); isRetry {
			continue
		}
		middlewares = append(middlewares, m)
	}
	if limiter != nil {
		middlewares = append(middlewares, requestLimiter{limiter})
	}
	middlewares = append(middlewares, responseRecorder{})

	var parent http.RoundTripper
	timeout := defaultTimeout
	if base != nil {
		parent = base.Transport
		if base.Timeout > 0 {
			timeout = base.Timeout
		}
	}
	return &http.Client{
		// Redirects are followed by the SDK's redirect middleware, so the
		// client itself returns them, as the SDK's default client does.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       timeout,
		Transport:     khttp.NewCustomTransportWithParentTransport(parent, middlewares...),
	}
}
