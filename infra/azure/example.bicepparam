// Example parameters for main.bicep. Copy this file, replace the values
// marked "example", and keep secrets out of it: they are read from the
// environment of the shell that runs the deployment, for example
//
//   export ENTRABRIDGE_GRAPH_CLIENT_STATE=$(openssl rand -hex 32)
//   export ENTRABRIDGE_ATLASSIAN_SCIM_TOKEN=<directory API key>
//   az deployment group create -g entrabridge \
//     --template-file main.bicep --parameters example.bicepparam
using './main.bicep'

param namePrefix = 'entrabridge'

param image = 'contoso.azurecr.io/entrabridge:1.0.0' // example
param registryServer = 'contoso.azurecr.io' // example; '' for a public image

param atlassianScimUrl = 'https://api.atlassian.com/scim/directory/00000000-0000-0000-0000-000000000000' // example
param atlassianVerifiedDomains = 'contoso.com' // example

param graphClientState = readEnvironmentVariable('ENTRABRIDGE_GRAPH_CLIENT_STATE')
param atlassianScimToken = readEnvironmentVariable('ENTRABRIDGE_ATLASSIAN_SCIM_TOKEN')

// Azure Managed Redis size: pick it from the estimate in docs/operations.md
// (Sizing).
param redisSkuName = 'Balanced_B1'

param workerMaxReplicas = 4
