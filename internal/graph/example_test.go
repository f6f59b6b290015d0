package graph_test

import (
	"fmt"

	"github.com/entrabridge/entrabridge/internal/graph"
)

// The credential follows from which settings are present: a federated
// token file wins over a certificate, a certificate over a secret, and a
// secret over the host's managed identity.
func ExampleConfig_CredentialKind() {
	configs := []graph.Config{
		// AKS workload identity mounts AZURE_FEDERATED_TOKEN_FILE.
		{
			TenantID:           "contoso.onmicrosoft.com",
			ClientID:           "5d2e7c1a-9b3f-4e6d-8a0c-1f2e3d4c5b6a",
			FederatedTokenFile: "/var/run/secrets/azure/tokens/azure-identity-token",
			ClientSecret:       "ignored while a token file is set",
		},
		{
			TenantID:        "contoso.onmicrosoft.com",
			ClientID:        "5d2e7c1a-9b3f-4e6d-8a0c-1f2e3d4c5b6a",
			CertificatePath: "/etc/entrabridge/client.pem",
		},
		{
			TenantID:     "contoso.onmicrosoft.com",
			ClientID:     "5d2e7c1a-9b3f-4e6d-8a0c-1f2e3d4c5b6a",
			ClientSecret: "from AZURE_CLIENT_SECRET",
		},
		// On an Azure host, with a user-assigned identity.
		{ManagedIdentity: true, ClientID: "0f9e8d7c-6b5a-4938-2716-a5b4c3d2e1f0"},
		{},
	}
	for _, cfg := range configs {
		fmt.Printf("%q valid=%t\n", cfg.CredentialKind(), cfg.Validate() == nil)
	}
	// Output:
	// "workload_identity" valid=true
	// "client_certificate" valid=true
	// "client_secret" valid=true
	// "managed_identity" valid=true
	// "" valid=false
}
