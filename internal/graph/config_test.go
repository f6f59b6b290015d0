package graph_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/entrabridge/entrabridge/internal/graph"
)

func TestConfigValidate(t *testing.T) {
	secretConfig := graph.Config{TenantID: tenantID, ClientID: clientID, ClientSecret: secret}

	tests := []struct {
		name string
		cfg  graph.Config
		// wantErrors are substrings the error must contain, one per
		// problem. An empty list means the Config is valid.
		wantErrors []string
	}{
		{name: "client secret", cfg: secretConfig},
		{name: "managed identity", cfg: graph.Config{ManagedIdentity: true}},
		{
			name: "national cloud",
			cfg: with(secretConfig, func(c *graph.Config) {
				c.BaseURL = "https://graph.microsoft.us/v1.0"
				c.AuthorityHost = "https://login.microsoftonline.us/"
			}),
		},
		{
			name: "loopback http base url",
			cfg:  with(secretConfig, func(c *graph.Config) { c.BaseURL = "http://127.0.0.1:8080/v1.0" }),
		},
		{
			name:       "no credential",
			cfg:        graph.Config{TenantID: tenantID, ClientID: clientID},
			wantErrors: []string{"AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_SECRET", "managed identity"},
		},
		{
			name:       "missing tenant and client",
			cfg:        graph.Config{ClientSecret: secret},
			wantErrors: []string{"AZURE_TENANT_ID is missing", "AZURE_CLIENT_ID is missing"},
		},
		{
			name:       "invalid tenant",
			cfg:        with(secretConfig, func(c *graph.Config) { c.TenantID = "contoso/onmicrosoft" }),
			wantErrors: []string{`AZURE_TENANT_ID "contoso/onmicrosoft" is invalid`},
		},
		{
			name:       "workload identity without client",
			cfg:        graph.Config{TenantID: tenantID, FederatedTokenFile: "/var/run/secrets/token"},
			wantErrors: []string{"AZURE_CLIENT_ID is missing"},
		},
		{
			name:       "plain http base url",
			cfg:        with(secretConfig, func(c *graph.Config) { c.BaseURL = "http://graph.example.com/v1.0" }),
			wantErrors: []string{`GRAPH_BASE_URL "http://graph.example.com/v1.0" is invalid`, "https://graph.microsoft.com/v1.0"},
		},
		{
			name:       "relative base url",
			cfg:        with(secretConfig, func(c *graph.Config) { c.BaseURL = "graph.microsoft.com/v1.0" }),
			wantErrors: []string{`GRAPH_BASE_URL "graph.microsoft.com/v1.0" is invalid`},
		},
		{
			name:       "http authority host",
			cfg:        with(secretConfig, func(c *graph.Config) { c.AuthorityHost = "http://login.example.com/" }),
			wantErrors: []string{`AZURE_AUTHORITY_HOST "http://login.example.com/" is invalid`, "https://login.microsoftonline.com/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErrors) == 0 {
				if err != nil {
					t.Errorf("got error %q, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tt.wantErrors)
			}
			for _, want := range tt.wantErrors {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestConfigCredentialKind(t *testing.T) {
	tests := []struct {
		name string
		cfg  graph.Config
		want string
	}{
		{name: "nothing set", cfg: graph.Config{}, want: ""},
		{name: "managed identity", cfg: graph.Config{ManagedIdentity: true}, want: graph.KindManagedIdentity},
		{name: "secret", cfg: graph.Config{ClientSecret: "s", ManagedIdentity: true}, want: graph.KindClientSecret},
		{
			name: "certificate over secret",
			cfg:  graph.Config{CertificatePath: "c.pem", ClientSecret: "s"},
			want: graph.KindClientCertificate,
		},
		{
			name: "workload identity over all",
			cfg:  graph.Config{FederatedTokenFile: "t", CertificatePath: "c.pem", ClientSecret: "s", ManagedIdentity: true},
			want: graph.KindWorkloadIdentity,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.CredentialKind(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	cfg := graph.Config{
		TenantID:            tenantID,
		ClientID:            clientID,
		ClientSecret:        "client-secret-value",
		CertificatePassword: "certificate-password-value",
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("graph config", "config", cfg)

	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", cfg),
		"%+v": fmt.Sprintf("%+v", cfg),
		"log": logged.String(),
	}
	for name, output := range outputs {
		for _, secretValue := range []string{cfg.ClientSecret, cfg.CertificatePassword} {
			if strings.Contains(output, secretValue) {
				t.Errorf("%s output %q contains a secret, want it hidden", name, output)
			}
		}
		if !strings.Contains(output, clientID) {
			t.Errorf("%s output %q lacks the client ID, want it shown", name, output)
		}
	}
}

func with(cfg graph.Config, change func(*graph.Config)) graph.Config {
	change(&cfg)
	return cfg
}
