// Deploys entrabridge to Azure Container Apps: a receiver app with public
// HTTPS ingress for Microsoft Graph's webhooks, a worker app scaled by KEDA,
// Azure Cache for Redis, and a Key Vault with every secret the apps read.
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

@description('Azure Cache for Redis tier. Only Premium persists data (AOF here); Basic and Standard lose every queued notification when the cache restarts.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param redisSkuName string = 'Premium'

@description('Azure Cache for Redis size: 0 to 6 for Basic and Standard (C0 to C6), 1 to 4 for Premium (P1 to P4).')
param redisCapacity int = 1

@description('Maximum number of worker replicas the KEDA rule may start. Every replica shares ATLASSIAN_SCIM_RATE, so more replicas do not send more SCIM requests.')
@minValue(1)
param workerMaxReplicas int = 4

// Key Vault Secrets User, a built-in Azure role.
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

// Key prefix of the bridge (REDIS_KEY_PREFIX, default "entrabridge"). The
// KEDA rule names the inbox stream "{<prefix>}:inbox".
var redisKeyPrefix = 'entrabridge'

var suffix = uniqueString(resourceGroup().id, namePrefix)
var persistRedis = redisSkuName == 'Premium'

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

// AOF persistence of a Premium cache writes to this storage account. The
// account is created for every tier, so the connection string below never
// refers to a missing resource; it holds no data unless the cache is
// Premium.
resource redisStorage 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: take('${namePrefix}aof${suffix}', 24)
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

var aofConfiguration = persistRedis
  ? {
      'aof-backup-enabled': 'true'
      'aof-storage-connection-string-0': 'DefaultEndpointsProtocol=https;AccountName=${redisStorage.name};AccountKey=${redisStorage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
    }
  : {}

// NOTE: Azure Cache for Redis runs Redis 6 (API 2024-11-01 lists 4.0 and
// 6.0), whose XINFO GROUPS has no "lag", so the worker's KEDA rule below
// measures pending entries instead. Microsoft announced in 2025 that Basic,
// Standard and Premium caches retire on 2028-09-30, with Azure Managed
// Redis as successor.
resource redis 'Microsoft.Cache/redis@2024-11-01' = {
  name: '${namePrefix}-redis-${suffix}'
  location: location
  properties: {
    sku: {
      name: redisSkuName
      family: redisSkuName == 'Premium' ? 'P' : 'C'
      capacity: redisCapacity
    }
    redisVersion: '6'
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    // NOTE: the cache takes connections from any address that has the
    // access key. Container Apps has no fixed outbound address without a
    // virtual network, so closing it needs VNet integration and a private
    // endpoint, which this template does not set up.
    publicNetworkAccess: 'Enabled'
    redisConfiguration: union(
      {
        // A full cache rejects writes, so the receiver answers 503 and
        // Graph retries, instead of evicting queued work.
        'maxmemory-policy': 'noeviction'
      },
      aofConfiguration
    )
  }
}

// The bridge reads REDIS_URL; KEDA needs the host and password apart.
// The access key is base64 and may contain '/', '+' and '=', so it is
// percent-encoded in the URL.
var redisHost = redis.properties.hostName
var redisKey = redis.listKeys().primaryKey

var secretValues = {
  'redis-url': 'rediss://:${uriComponent(redisKey)}@${redisHost}:6380/0'
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
            'worker'
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
            // On Redis 6 the redis-streams scaler can measure only the
            // scheduler group's pending entries (XPENDING): notifications a
            // worker has read but not yet scheduled. They stay near zero
            // while workers keep up, so this rule adds replicas only when
            // scheduling stalls. On Redis 7 use lagCount instead, as the
            // Kubernetes base in infra/k8s does.
            name: 'inbox-stream'
            custom: {
              type: 'redis-streams'
              metadata: {
                address: '${redisHost}:6380'
                enableTLS: 'true'
                stream: '{${redisKeyPrefix}}:inbox'
                consumerGroup: 'scheduler'
                pendingEntriesCount: '100'
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
