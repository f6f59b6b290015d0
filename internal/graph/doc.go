// Package graph reads Entra users from Microsoft Graph, pages through the
// users delta query, and manages change-notification subscriptions. It is
// the only package that imports msgraph-sdk-go and azidentity, which are
// slow to compile and large, so that other packages' tests do not link
// them.
//
// [Config] selects one azidentity credential, in this order of precedence:
//
//  1. workload identity, when AZURE_FEDERATED_TOKEN_FILE is set (AKS);
//  2. a client certificate, when AZURE_CLIENT_CERTIFICATE_PATH is set;
//  3. a client secret, when AZURE_CLIENT_SECRET is set;
//  4. the host's managed identity, when enabled.
//
// The token scope is the .default scope of the Graph host, such as
// https://graph.microsoft.com/.default, or https://graph.microsoft.us/.default
// for the US Government cloud, because a national cloud requires scopes on
// its own Graph host (learn.microsoft.com/graph/sdks/national-clouds). For
// an authority host other than the global or a national cloud, such as a
// local fake, the credential skips MSAL's instance discovery.
//
// The client leaves out the SDK's retry handler, which would sleep through
// 429 and 503 inside a job. Every error is a *failure.Error instead, so
// that the caller can retry through its queue after the RetryAfter wait.
package graph
