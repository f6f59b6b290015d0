// Deploys entrabridge to Azure Container Apps: a receiver app with public
// HTTPS ingress for Microsoft Graph's webhooks, a worker app scaled by KEDA,
// Azure Managed Redis, and a Key Vault with every secret the apps read.
// One user-assigned managed identity reads the Key Vault secrets and signs
// the worker in to Microsoft Graph.
//
// No Graph permission can be granted from this template: after the first
// deployment, give the identity (output identityPrincipalId) the Microsoft
// Graph application permission User.Read.All, as docs/operations.md shows.
//
// Deploy: az deployment group create -g <resource group> \
//   --template-file main.bicep --parameters example.bicepparam

targetScope = 'resourceGroup'

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Prefix of every resource name: lowercase letters and digits, 3 to 12 characters.')
@minLength(3)
@maxLength(12)
param namePrefix string = 'entrabridge'

@description('Container image of the bridge, for example contoso.azurecr.io/entrabridge:1.0.0.')
param image string

@description('Login server of a private registry the image is pulled from with the managed identity, for example contoso.azurecr.io; empty for a public image. The identity needs the AcrPull role on that registry.')
param registryServer string = ''

@description('Atlassian SCIM base URL: https://api.atlassian.com/scim/directory/<directory id>.')
param atlassianScimUrl string

@description('Comma-separated email domains the Atlassian organization has verified; empty allows every domain.')
param atlassianVerifiedDomains string

@description('clientState of the Graph subscription, at most 128 characters.')
@secure()
@maxLength(128)
param graphClientState string

@description('API key of the Atlassian identity provider directory.')
@secure()
param atlassianScimToken string

@description('Azure Managed Redis SKU, for example Balanced_B1; the Memory Optimized, Balanced and Compute Optimized tiers support the AOF persistence set below.')
param redisSkuName string = 'Balanced_B1'

@description('Maximum number of worker replicas the KEDA rule may start. Every replica shares ATLASSIAN_SCIM_RATE, so more replicas do not send more SCIM requests.')
@minValue(1)
param workerMaxReplicas int = 4

// Key Vault Secrets User, a built-in Azure role.
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

// Key prefix of the bridge (REDIS_KEY_PREFIX, default "entrabridge"). The
// KEDA rule names the inbox stream "{<prefix>}:inbox:v2".
var redisKeyPrefix = 'entrabridge'

// TLS port of the Redis database.
var redisPort = 10000

var suffix = uniqueString(resourceGroup().id, namePrefix)

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-id-${suffix}'
  location: location
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // Key Vault names have at most 24 characters.
  name: take('${namePrefix}kv${suffix}', 24)
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Why Azure Managed Redis and not Azure Cache for Redis: the bridge uses
// XAUTOCLAIM, XTRIM MINID and GETDEL, which arrived in Redis 6.2, and
// Azure Cache for Redis (Basic, Standard, Premium) offers Redis 4.0 and 6.0
// only (API 2024-11-01). Azure Managed Redis runs Redis 7, whose consumer
// group lag also lets KEDA scale the worker.
resource redisCluster 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: '${namePrefix}-redis-${suffix}'
  location: location
  sku: {
    name: redisSkuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: 'Enabled'
    // NOTE: the database takes connections from any address that has the
    // access key. Container Apps has no fixed outbound address without a
    // virtual network, so closing it needs VNet integration and a private
    // endpoint, which this template does not set up.
    publicNetworkAccess: 'Enabled'
  }
}

resource redis 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: redisCluster
  name: 'default'
  properties: {
    port: redisPort
    clientProtocol: 'Encrypted'
    // One endpoint that routes every command: the bridge uses a plain
    // (non-cluster) client, and all its keys share one hash slot anyway.
    clusteringPolicy: 'EnterpriseCluster'
    // A full database rejects writes, so the receiver answers 503 and
    // Graph retries, instead of evicting queued work.
    evictionPolicy: 'NoEviction'
    // AOF written every second: a failure can lose about the last second
    // of acknowledged notifications (docs/operations.md, Persistence).
    persistence: {
      aofEnabled: true
      aofFrequency: '1s'
    }
    accessKeysAuthentication: 'Enabled'
  }
}

// The bridge reads REDIS_URL; KEDA needs the host and password apart.
// The access key is base64 and may contain '/', '+' and '=', so it is
// percent-encoded in the URL.
var redisAddress = '${redisCluster.properties.hostName}:${redisPort}'
var redisKey = redis.listKeys().primaryKey

var secretValues = {
  'redis-url': 'rediss://:${uriComponent(redisKey)}@${redisAddress}/0'
  'redis-password': redisKey
  'graph-client-state': graphClientState
  'atlassian-scim-token': atlassianScimToken
}

resource secrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for name in objectKeys(secretValues): {
    parent: vault
    name: name
    properties: {
      value: secretValues[name]
    }
  }
]

// Container Apps secrets that the apps read from Key Vault with the
// managed identity, by Key Vault secret name.
var appSecrets = {
  'redis-url': {
    name: 'redis-url'
    keyVaultUrl: '${vault.properties.vaultUri}secrets/redis-url'
    identity: identity.id
  }
  'redis-password': {
    name: 'redis-password'
    keyVaultUrl: '${vault.properties.vaultUri}secrets/redis-password'
    identity: identity.id
  }
  'graph-client-state': {
    name: 'graph-client-state'
    keyVaultUrl: '${vault.properties.vaultUri}secrets/graph-client-state'
    identity: identity.id
  }
  'atlassian-scim-token': {
    name: 'atlassian-scim-token'
    keyVaultUrl: '${vault.properties.vaultUri}secrets/atlassian-scim-token'
    identity: identity.id
  }
}

resource appEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env-${suffix}'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

var registries = empty(registryServer)
  ? []
  : [
      {
        server: registryServer
        identity: identity.id
      }
    ]

// Settings both apps share. Every name is a variable the bridge reads.
// Both apps serve HTTP on port 8080, where the probes and the receiver's
// ingress point.
var commonEnv = [
  {
    name: 'LISTEN_ADDR'
    value: ':8080'
  }
  {
    name: 'REDIS_URL'
    secretRef: 'redis-url'
  }
  {
    name: 'REDIS_KEY_PREFIX'
    value: redisKeyPrefix
  }
  {
    name: 'LOG_FORMAT'
    value: 'json'
  }
  {
    name: 'SHUTDOWN_TIMEOUT'
    value: '20s'
  }
]

resource receiver 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-receiver'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: appEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      // NOTE: Container Apps ingress cannot restrict paths, so /metrics,
      // /healthz and /readyz are public next to the webhooks. They return
      // counts and status only, no secrets or user data; put Azure Front
      // Door or an API gateway in front to hide them.
      ingress: {
        external: true
        targetPort: 8080
        transport: 'auto'
        allowInsecure: false
      }
      registries: registries
      secrets: [
        appSecrets['redis-url']
        appSecrets['graph-client-state']
      ]
    }
    template: {
      // SHUTDOWN_TIMEOUT (20 s) plus a margin.
      terminationGracePeriodSeconds: 30
      containers: [
        {
          name: 'entrabridge'
          image: image
          args: [
            'serve'
            '--roles'
            'receiver'
          ]
          env: concat(commonEnv, [
            {
              name: 'GRAPH_CLIENT_STATE'
              secretRef: 'graph-client-state'
            }
          ])
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
          probes: [
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 8080
              }
              periodSeconds: 5
              timeoutSeconds: 3
              failureThreshold: 2
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: 8080
              }
              periodSeconds: 10
              timeoutSeconds: 3
              failureThreshold: 3
            }
          ]
        }
      ]
      // Two replicas, so one restart never leaves Graph without a
      // receiver; more when requests pile up.
      scale: {
        minReplicas: 2
        maxReplicas: 6
        rules: [
          {
            name: 'http-requests'
            http: {
              metadata: {
                concurrentRequests: '50'
              }
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    vaultSecretsUser
    secrets
  ]
}

resource worker 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-worker'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: appEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      registries: registries
      secrets: [
        appSecrets['redis-url']
        appSecrets['redis-password']
        appSecrets['atlassian-scim-token']
        appSecrets['graph-client-state']
      ]
    }
    template: {
      // SHUTDOWN_TIMEOUT (20 s) lets in-flight syncs finish; the rest are
      // handed back to the due set.
      terminationGracePeriodSeconds: 30
      containers: [
        {
          name: 'entrabridge'
          image: image
          args: [
            'serve'
            '--roles'
            'worker,subscription'
          ]
          env: concat(commonEnv, [
            {
              name: 'ATLASSIAN_SCIM_URL'
              value: atlassianScimUrl
            }
            {
              name: 'ATLASSIAN_SCIM_TOKEN'
              secretRef: 'atlassian-scim-token'
            }
            {
              name: 'ATLASSIAN_VERIFIED_DOMAINS'
              value: atlassianVerifiedDomains
            }
            // The subscription role creates and renews the Graph
            // subscription; one leader among the replicas acts.
            {
              name: 'GRAPH_NOTIFICATION_URL'
              value: 'https://${receiver.properties.configuration.ingress.fqdn}/webhooks/graph'
            }
            {
              name: 'GRAPH_CLIENT_STATE'
              secretRef: 'graph-client-state'
            }
            // Graph sign-in as the user-assigned identity, through
            // azidentity's ManagedIdentityCredential.
            {
              name: 'AZURE_USE_MANAGED_IDENTITY'
              value: 'true'
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: identity.properties.clientId
            }
          ])
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          // Every role serves /healthz and /readyz on LISTEN_ADDR; the
          // worker app has no ingress, but the platform probes the
          // container directly.
          probes: [
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 8080
              }
              periodSeconds: 10
              timeoutSeconds: 3
              failureThreshold: 3
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: 8080
              }
              periodSeconds: 10
              timeoutSeconds: 3
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        // At least one worker always runs: retries and debounced users wait
        // in the due set, which no KEDA Redis scaler can measure.
        minReplicas: 1
        maxReplicas: workerMaxReplicas
        rules: [
          {
            // lagCount is the scheduler group's lag (XINFO GROUPS, Redis 7):
            // inbox entries (one per webhook request) no worker has read
            // yet. It grows when requests arrive faster than workers take
            // them in, not
            // while syncs wait in the due set; infra/k8s/base/
            // worker-scaledobject.yaml explains the choice.
            name: 'inbox-stream'
            custom: {
              type: 'redis-streams'
              metadata: {
                address: redisAddress
                enableTLS: 'true'
                stream: '{${redisKeyPrefix}}:inbox:v2'
                consumerGroup: 'scheduler'
                lagCount: '50'
                activationLagCount: '0'
              }
              auth: [
                {
                  secretRef: 'redis-password'
                  triggerParameter: 'password'
                }
              ]
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    vaultSecretsUser
    secrets
  ]
}

@description('Notification URL for the Graph subscription.')
output notificationUrl string = 'https://${receiver.properties.configuration.ingress.fqdn}/webhooks/graph'

@description('Lifecycle notification URL for the Graph subscription.')
output lifecycleNotificationUrl string = 'https://${receiver.properties.configuration.ingress.fqdn}/webhooks/graph/lifecycle'

@description('Principal (object) ID of the managed identity: grant it the Graph permission User.Read.All.')
output identityPrincipalId string = identity.properties.principalId

@description('Client ID of the managed identity, which the worker sends as AZURE_CLIENT_ID.')
output identityClientId string = identity.properties.clientId

@description('Name of the Key Vault that holds the secrets.')
output keyVaultName string = vault.name
