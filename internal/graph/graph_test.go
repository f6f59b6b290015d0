package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrabridge/entrabridge/internal/failure"
	"github.com/entrabridge/entrabridge/internal/fake/fakeentra"
	"github.com/entrabridge/entrabridge/internal/fake/fakegraph"
	"github.com/entrabridge/entrabridge/internal/graph"
)

const (
	tenantID = "8f1c0a4e-3b2d-4c5e-9f6a-7b8c9d0e1f2a"
	clientID = "5d2e7c1a-9b3f-4e6d-8a0c-1f2e3d4c5b6a"
	secret   = "s3cr3t~value"
)

// fakes is a fake Entra and a fake Graph that accepts its tokens, with a
// Config whose client secret the fake Entra accepts.
type fakes struct {
	entra *fakeentra.Server
	graph *fakegraph.Server
	cfg   graph.Config
}

func startFakes(t *testing.T) fakes {
	t.Helper()
	entra, err := fakeentra.Start()
	if err != nil {
		t.Fatalf("start fake entra: %v", err)
	}
	t.Cleanup(entra.Close)
	entra.AddClient(tenantID, clientID, secret)

	fakeGraph, err := fakegraph.Start(fakegraph.Options{Authorize: entra.ValidToken})
	if err != nil {
		t.Fatalf("start fake graph: %v", err)
	}
	t.Cleanup(fakeGraph.Close)

	pool := x509.NewCertPool()
	for _, pem := range [][]byte{entra.CertificatePEM(), fakeGraph.CertificatePEM()} {
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatal("got no certificate from a fake's CertificatePEM, want one")
		}
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(transport.CloseIdleConnections)

	return fakes{
		entra: entra,
		graph: fakeGraph,
		cfg: graph.Config{
			BaseURL:       fakeGraph.BaseURL(),
			TenantID:      tenantID,
			ClientID:      clientID,
			ClientSecret:  secret,
			AuthorityHost: entra.AuthorityHost(),
			HTTPClient:    &http.Client{Transport: transport},
		},
	}
}

func newClient(t *testing.T, cfg graph.Config) *graph.Client {
	t.Helper()
	client, err := graph.New(cfg)
	if err != nil {
		t.Fatalf("new graph client: %v", err)
	}
	return client
}

func TestGetUser(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)

	enabled, disabled := true, false
	tests := []struct {
		name string
		user fakegraph.User
		want graph.User
	}{
		{
			name: "member",
			user: fakegraph.User{
				ID:                "2b3c1f7a-0000-4000-8000-000000000001",
				UserPrincipalName: "alex.doe@contoso.com",
				Mail:              "alex.doe@contoso.com",
				DisplayName:       "Alex Doe",
				AccountEnabled:    true,
			},
			want: graph.User{
				ID:                "2b3c1f7a-0000-4000-8000-000000000001",
				UserPrincipalName: "alex.doe@contoso.com",
				Mail:              "alex.doe@contoso.com",
				DisplayName:       "Alex Doe",
				AccountEnabled:    &enabled,
			},
		},
		{
			name: "disabled guest without mail",
			user: fakegraph.User{
				ID:                "2b3c1f7a-0000-4000-8000-000000000002",
				UserPrincipalName: "o'brien_contoso.com#EXT#@fabrikam.onmicrosoft.com",
				DisplayName:       "Pat O'Brien",
			},
			want: graph.User{
				ID:                "2b3c1f7a-0000-4000-8000-000000000002",
				UserPrincipalName: "o'brien_contoso.com#EXT#@fabrikam.onmicrosoft.com",
				DisplayName:       "Pat O'Brien",
				AccountEnabled:    &disabled,
			},
		},
		{
			name: "upn starting with dollar",
			user: fakegraph.User{
				ID:                "2b3c1f7a-0000-4000-8000-000000000003",
				UserPrincipalName: "$adele'o@contoso.com",
				Mail:              "adele@contoso.com",
				AccountEnabled:    true,
			},
			want: graph.User{
				ID:                "2b3c1f7a-0000-4000-8000-000000000003",
				UserPrincipalName: "$adele'o@contoso.com",
				Mail:              "adele@contoso.com",
				AccountEnabled:    &enabled,
			},
		},
	}

	calls := 0
	for _, tt := range tests {
		f.graph.PutUser(tt.user)
		for _, key := range []string{tt.user.ID, tt.user.UserPrincipalName} {
			t.Run(tt.name+" by "+key, func(t *testing.T) {
				calls++
				got, err := client.GetUser(t.Context(), key)
				if err != nil {
					t.Fatalf("GetUser(%q): %v", key, err)
				}
				checkUser(t, got, tt.want)
			})
		}
	}

	if got := f.graph.Requests("/v1.0/users/"); got != calls {
		t.Errorf("got %d user requests at the fake, want %d (one per call)", got, calls)
	}
	if got := f.entra.TokenRequests(); got != 1 {
		t.Errorf("got %d token requests, want 1 reused for every call", got)
	}
}

func checkUser(t *testing.T, got, want graph.User) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("got ID %q, want %q", got.ID, want.ID)
	}
	if got.UserPrincipalName != want.UserPrincipalName {
		t.Errorf("got UserPrincipalName %q, want %q", got.UserPrincipalName, want.UserPrincipalName)
	}
	if got.Mail != want.Mail {
		t.Errorf("got Mail %q, want %q", got.Mail, want.Mail)
	}
	if got.DisplayName != want.DisplayName {
		t.Errorf("got DisplayName %q, want %q", got.DisplayName, want.DisplayName)
	}
	if got.AccountEnabled == nil || *got.AccountEnabled != *want.AccountEnabled {
		t.Errorf("got AccountEnabled %v, want %v", describeBool(got.AccountEnabled), *want.AccountEnabled)
	}
}

func describeBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

func TestGetUserFailure(t *testing.T) {
	const userID = "2b3c1f7a-0000-4000-8000-000000000001"

	tests := []struct {
		name string
		// setup prepares the fakes. The user exists unless setup deletes it.
		setup          func(f fakes)
		timeout        time.Duration
		wantClass      failure.Class
		wantStatus     int
		wantCode       string
		wantRetryAfter time.Duration
		// wantRequests is how many requests the fake Graph must see: one,
		// because the client must not retry by itself.
		wantRequests int
	}{
		{
			name:         "unknown user",
			setup:        func(f fakes) { f.graph.DeleteUser(userID) },
			wantClass:    failure.NotFound,
			wantStatus:   http.StatusNotFound,
			wantCode:     "Request_ResourceNotFound",
			wantRequests: 1,
		},
		{
			name: "throttled with Retry-After",
			setup: func(f fakes) {
				f.graph.FailNext(1, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}})
			},
			wantClass:      failure.Retryable,
			wantStatus:     http.StatusTooManyRequests,
			wantCode:       "TooManyRequests",
			wantRetryAfter: 7 * time.Second,
			wantRequests:   1,
		},
		{
			name:         "service unavailable",
			setup:        func(f fakes) { f.graph.FailNext(1, http.StatusServiceUnavailable, nil) },
			wantClass:    failure.Retryable,
			wantStatus:   http.StatusServiceUnavailable,
			wantCode:     "ServiceUnavailable",
			wantRequests: 1,
		},
		{
			name: "gateway page",
			setup: func(f fakes) {
				f.graph.FailNext(1, http.StatusServiceUnavailable,
					http.Header{"Content-Type": {"text/html"}, "Retry-After": {"30"}})
			},
			wantClass:      failure.Retryable,
			wantStatus:     http.StatusServiceUnavailable,
			wantRetryAfter: 30 * time.Second,
			wantRequests:   1,
		},
		{
			name:         "forbidden",
			setup:        func(f fakes) { f.graph.FailNext(1, http.StatusForbidden, nil) },
			wantClass:    failure.Permanent,
			wantStatus:   http.StatusForbidden,
			wantCode:     "Forbidden",
			wantRequests: 1,
		},
		{
			name:         "bad request",
			setup:        func(f fakes) { f.graph.FailNext(1, http.StatusBadRequest, nil) },
			wantClass:    failure.Permanent,
			wantStatus:   http.StatusBadRequest,
			wantCode:     "BadRequest",
			wantRequests: 1,
		},
		{
			name:         "timeout",
			setup:        func(f fakes) { f.graph.SetLatency(time.Hour) },
			timeout:      200 * time.Millisecond,
			wantClass:    failure.Retryable,
			wantRequests: 1,
		},
		{
			name:         "connection refused",
			setup:        func(f fakes) { f.graph.Close() },
			wantClass:    failure.Retryable,
			wantRequests: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakes(t)
			f.graph.PutUser(fakegraph.User{ID: userID, UserPrincipalName: "alex.doe@contoso.com"})
			client := newClient(t, f.cfg)
			// A token fetched up front keeps token requests out of the
			// failure under test.
			if err := client.Token(t.Context()); err != nil {
				t.Fatalf("Token: %v", err)
			}
			tt.setup(f)

			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := client.GetUser(ctx, userID)

			got := asFailure(t, err)
			if got.Service != "graph" {
				t.Errorf("got Service %q, want graph", got.Service)
			}
			if got.Class != tt.wantClass {
				t.Errorf("got Class %v, want %v", got.Class, tt.wantClass)
			}
			if got.Status != tt.wantStatus {
				t.Errorf("got Status %d, want %d", got.Status, tt.wantStatus)
			}
			if got.Code != tt.wantCode {
				t.Errorf("got Code %q, want %q", got.Code, tt.wantCode)
			}
			if got.RetryAfter != tt.wantRetryAfter {
				t.Errorf("got RetryAfter %v, want %v", got.RetryAfter, tt.wantRetryAfter)
			}
			if requests := f.graph.TotalRequests(); requests != tt.wantRequests {
				t.Errorf("got %d requests at the fake Graph, want %d", requests, tt.wantRequests)
			}
		})
	}
}

func TestGetUserEmptyID(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)

	_, err := client.GetUser(t.Context(), "")

	got := asFailure(t, err)
	if got.Class != failure.Permanent {
		t.Errorf("got Class %v, want %v", got.Class, failure.Permanent)
	}
	if requests := f.graph.TotalRequests(); requests != 0 {
		t.Errorf("got %d requests at the fake Graph, want 0", requests)
	}
}

func TestWrongClientSecret(t *testing.T) {
	f := startFakes(t)
	cfg := f.cfg
	cfg.ClientSecret = "wrong-secret"
	client := newClient(t, cfg)

	calls := map[string]func(ctx context.Context) error{
		"GetUser": func(ctx context.Context) error {
			_, err := client.GetUser(ctx, "2b3c1f7a-0000-4000-8000-000000000001")
			return err
		},
		"Token": client.Token,
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(t.Context())

			got := asFailure(t, err)
			if got.Class != failure.Permanent {
				t.Errorf("got Class %v, want %v", got.Class, failure.Permanent)
			}
			if got.Status != http.StatusUnauthorized {
				t.Errorf("got Status %d, want %d", got.Status, http.StatusUnauthorized)
			}
			if got.Code != "invalid_client" {
				t.Errorf("got Code %q, want invalid_client", got.Code)
			}
			if !strings.Contains(err.Error(), "authentication failed") {
				t.Errorf("got error %q, want it to mention authentication failed", err)
			}
			if strings.Contains(err.Error(), cfg.ClientSecret) {
				t.Errorf("got error %q, want it without the client secret", err)
			}
		})
	}
	if got := f.graph.TotalRequests(); got != 0 {
		t.Errorf("got %d requests at the fake Graph, want 0 without a token", got)
	}
}

func TestTokenSharesCache(t *testing.T) {
	f := startFakes(t)
	client := newClient(t, f.cfg)

	if err := client.Token(t.Context()); err != nil {
		t.Fatalf("Token: %v", err)
	}
	f.graph.PutUser(fakegraph.User{ID: "2b3c1f7a-0000-4000-8000-000000000001"})
	if _, err := client.GetUser(t.Context(), "2b3c1f7a-0000-4000-8000-000000000001"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got := f.entra.TokenRequests(); got != 1 {
		t.Errorf("got %d token requests, want 1 shared by Token and GetUser", got)
	}
}

func TestCredentialKinds(t *testing.T) {
	const userID = "2b3c1f7a-0000-4000-8000-000000000001"

	tests := []struct {
		name     string
		wantKind string
		// configure registers an app at the fake Entra and returns the
		// Config that authenticates as it.
		configure func(t *testing.T, f fakes) graph.Config
	}{
		{
			name:     "client certificate",
			wantKind: graph.KindClientCertificate,
			configure: func(t *testing.T, f fakes) graph.Config {
				cert, path := writeCertificate(t)
				f.entra.AddCertificateClient(tenantID, "c0de0000-0000-4000-8000-000000000001", cert)
				cfg := f.cfg
				cfg.ClientID = "c0de0000-0000-4000-8000-000000000001"
				cfg.ClientSecret = ""
				cfg.CertificatePath = path
				return cfg
			},
		},
		{
			name:     "workload identity",
			wantKind: graph.KindWorkloadIdentity,
			configure: func(t *testing.T, f fakes) graph.Config {
				path := filepath.Join(t.TempDir(), "azure-identity-token")
				if err := os.WriteFile(path, []byte("service-account-token"), 0o600); err != nil {
					t.Fatalf("write token file: %v", err)
				}
				f.entra.AddFederatedClient(tenantID, "fed00000-0000-4000-8000-000000000001", "service-account-token")
				cfg := f.cfg
				cfg.ClientID = "fed00000-0000-4000-8000-000000000001"
				cfg.ClientSecret = ""
				cfg.FederatedTokenFile = path
				return cfg
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakes(t)
			f.graph.PutUser(fakegraph.User{ID: userID})
			cfg := tt.configure(t, f)
			if got := cfg.CredentialKind(); got != tt.wantKind {
				t.Fatalf("got CredentialKind %q, want %q", got, tt.wantKind)
			}

			got, err := newClient(t, cfg).GetUser(t.Context(), userID)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if got.ID != userID {
				t.Errorf("got ID %q, want %q", got.ID, userID)
			}
		})
	}
}

func TestNewCertificateFileErrors(t *testing.T) {
	invalid := filepath.Join(t.TempDir(), "invalid.pem")
	if err := os.WriteFile(invalid, []byte("not a certificate"), 0o600); err != nil {
		t.Fatalf("write file: %v", err)
	}
	tests := []struct {
		name string
		path string
	}{
		{name: "missing file", path: filepath.Join(t.TempDir(), "missing.pem")},
		{name: "invalid file", path: invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := graph.New(graph.Config{TenantID: tenantID, ClientID: clientID, CertificatePath: tt.path})
			if err == nil {
				t.Fatal("got no error, want one naming AZURE_CLIENT_CERTIFICATE_PATH")
			}
			if !strings.Contains(err.Error(), "AZURE_CLIENT_CERTIFICATE_PATH") {
				t.Errorf("got error %q, want it to name AZURE_CLIENT_CERTIFICATE_PATH", err)
			}
		})
	}
}

func asFailure(t *testing.T, err error) *failure.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a *failure.Error")
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Fatalf("got error %T %q, want a *failure.Error", err, err)
	}
	return fe
}

// writeCertificate writes a self-signed certificate and its RSA key to a
// PEM file, as AZURE_CLIENT_CERTIFICATE_PATH expects.
func writeCertificate(t *testing.T) (*x509.Certificate, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "entrabridge test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}

	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	path := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write certificate file: %v", err)
	}
	return cert, path
}
