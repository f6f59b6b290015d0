// Package scim is a client for Atlassian's user-provisioning API, the SCIM
// 2.0 service (RFC 7643, RFC 7644) behind
// https://api.atlassian.com/scim/directory/{directoryId}.
//
// The client reads users and changes them with PATCH only. It has no method
// that sends PUT or DELETE, because PUT clears every attribute the request
// does not name and DELETE removes the SCIM record irreversibly.
//
// Every failed call returns a *failure.Error with Service "scim", so callers
// decide what to do with failure.ClassOf and failure.RetryAfterOf.
package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultTimeout bounds a whole request, body included, when Options gives
// no HTTP client. Atlassian publishes no latency figures, so this is a
// margin for a slow response rather than a measured bound.
const defaultTimeout = 30 * time.Second

// defaultUserAgent is sent when Options.UserAgent is empty.
const defaultUserAgent = "entrabridge"

// Limiter paces requests. Wait blocks until the next request may go or ctx
// ends, and returns ctx's error in the second case.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Options configures a Client. The zero value is valid.
type Options struct {
	// HTTPClient sends the requests. If nil, the client uses a new
	// http.Client with a 30-second timeout.
	HTTPClient *http.Client
	// Limiter, if set, is called before every request, so that replicas can
	// share one rate limit.
	Limiter Limiter
	// UserAgent is the User-Agent header. If empty, it is "entrabridge".
	UserAgent string
}

// Client calls one Atlassian SCIM directory. It is safe for concurrent use.
type Client struct {
	// baseURL has no trailing slash, so paths such as "/Users" append to it.
	baseURL string
	// authorization is the whole header value, "Bearer <token>". It sits
	// behind a pointer so that printing a Client with %v or %+v shows an
	// address instead of the token.
	authorization *string
	// token is kept only to scrub it from error details that a server
	// might echo. It is behind a pointer for the same reason.
	token      *string
	httpClient *http.Client
	limiter    Limiter
	userAgent  string
}

// New returns a client for the directory at baseURL, such as
// https://api.atlassian.com/scim/directory/{directoryId}, authenticated
// with the directory's API key (not an organization admin key).
//
// baseURL must be an absolute http or https URL without query or fragment,
// and token must be non-empty.
func New(baseURL, token string, opts Options) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if err := validateToken(token); err != nil {
		return nil, err
	}

	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: defaultTimeout}
	}
	userAgent := opts.UserAgent
	if userAgent == "" {
		userAgent = defaultUserAgent
	}

	authorization := "Bearer " + token
	return &Client{
		baseURL:       base,
		authorization: &authorization,
		token:         &token,
		httpClient:    httpClient,
		limiter:       opts.Limiter,
		userAgent:     userAgent,
	}, nil
}

func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("scim: invalid base URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scim: invalid base URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("scim: invalid base URL %q: host is missing", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("scim: invalid base URL %q: remove the query and fragment", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("scim: invalid base URL %q: remove the user info, the API key goes in the token", redactUserInfo(u))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func redactUserInfo(u *url.URL) string {
	redacted := *u
	redacted.User = nil
	return redacted.String()
}

// validateToken rejects tokens that cannot travel in a header. The messages
// never quote the token.
func validateToken(token string) error {
	if strings.TrimSpace(token) == "" {
		return errors.New("scim: token is empty: set the directory API key")
	}
	for _, r := range token {
		if r < 0x21 || r == 0x7f {
			return errors.New("scim: token contains whitespace or control characters: check how the API key was copied")
		}
	}
	return nil
}
