// GridLedger on Azure: one container-based Function App and the services it uses, each reached
// with the app's system-assigned managed identity (no keys or connection strings in settings).
//
// The queue, container and setting names below are copied from shared/resources.py and
// shared/config.py; tests/infra/test_infra_drift.py fails when the two drift apart.
// Not compiled on the machine that wrote it: run `az bicep build --file infra/main.bicep` first.

targetScope = 'resourceGroup'

// --- parameters ---------------------------------------------------------------------------

@description('Optional. Azure region for every resource. Default: the region of the resource group.')
param location string = resourceGroup().location

@description('Optional. Lowercase letters and digits that start every resource name.')
@minLength(3)
@maxLength(12)
param namePrefix string = 'gridledger'

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Optional. Repository of the app image in the container registry (built by `az acr build`).')
param imageName string = 'gridledger'

@description('Required. Tag of the app image to run, e.g. the git commit it was built from.')
param imageTag string

@description('Optional. Elastic Premium plan size (custom containers need Premium or Dedicated).')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param planSku string = 'EP1'

@description('Optional. Most instances the plan may scale out to.')
@minValue(1)
@maxValue(100)
param maximumElasticWorkerCount int = 10

@description('Optional. Storage redundancy. Zone-redundant by default: the account keeps issued invoice PDFs.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_ZRS'

@description('Optional. Autoscale ceiling (RU/s) shared by every container in the Cosmos DB database.')
@minValue(1000)
param cosmosMaxThroughput int = 1000

@description('Optional. Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Required. Sender address on invoice e-mails (GRIDLEDGER_MAIL_FROM).')
param mailFrom string

@description('Required. SMTP relay host (GRIDLEDGER_SMTP_HOST).')
param smtpHost string

@description('Optional. SMTP relay port (GRIDLEDGER_SMTP_PORT).')
@minValue(1)
@maxValue(65535)
param smtpPort int = 587

@description('Required. SMTP user name (GRIDLEDGER_SMTP_USERNAME).')
param smtpUsername string

@description('Optional. Upgrade the SMTP connection with STARTTLS (GRIDLEDGER_SMTP_STARTTLS).')
param smtpStartTls bool = true

@description('Required. SMTP password; stored in Key Vault, never in app settings.')
@secure()
param smtpPassword string

@description('Required. Payment gateway webhook signing secrets, comma-separated (new first while rotating); stored in Key Vault.')
@secure()
param paymentWebhookSecrets string

@description('Required. Stripe webhook endpoint signing secrets (whsec_...), comma-separated while rotating; stored in Key Vault.')
@secure()
param stripeWebhookSecret string

@description('Required. Call-centre service-request webhook signing secrets, comma-separated while rotating; stored in Key Vault.')
@secure()
param callCentreWebhookSecrets string

@description('Optional. Header the payment gateway puts its t=<unix>,v1=<hex> signature in.')
param paymentWebhookSignatureHeader string = 'GridLedger-Signature'

@description('Optional. HMAC the payment gateway signs with.')
@allowed([
  'sha256'
  'sha512'
])
param paymentWebhookAlgorithm string = 'sha256'

@description('Optional. BPAY biller code printed on Australian invoices (GRIDLEDGER_BPAY_BILLER_CODE).')
param bpayBillerCode string = ''

@description('Optional. The retailer bank account printed on invoices; required to bill in Poland or Norway (GRIDLEDGER_PAYMENT_BANK_ACCOUNT).')
param paymentBankAccount string = ''

@description('Required. Legal name of the retailer printed on tax invoices (GRIDLEDGER_LEGAL_ENTITY).')
param legalEntity string

@description('Required. ABN printed on tax invoices (GRIDLEDGER_LEGAL_ENTITY_ABN).')
param legalEntityAbn string

@description('Optional. Application log level (GRIDLEDGER_LOG_LEVEL).')
@allowed([
  'DEBUG'
  'INFO'
  'WARNING'
  'ERROR'
])
param logLevel string = 'INFO'

// --- names and the lists the code owns ------------------------------------------------------

var token = uniqueString(resourceGroup().id, namePrefix)
var prefix = toLower(namePrefix)
var compactPrefix = take(replace(prefix, '-', ''), 8)

// shared/resources.py QUEUES: one queue per pipeline step.
var serviceBusQueueNames = [
  'reading-received'
  'bill-requested'
  'invoice-render'
  'payment-received'
  'stock-event'
]

// shared/resources.py DOCUMENT_CONTAINERS. The app's identity may read and write documents but
// not create containers (Cosmos DB data-plane roles exclude that), so every one is declared here.
var cosmosDatabaseName = 'gridledger'
var cosmosContainers = [
  {
    name: 'customers'
    partitionKeyPath: '/customerId'
  }
  {
    name: 'accounts'
    partitionKeyPath: '/accountId'
  }
  {
    name: 'service-points'
    partitionKeyPath: '/servicePointId'
  }
  {
    name: 'tariffs'
    partitionKeyPath: '/tariffId'
  }
  {
    name: 'readings'
    partitionKeyPath: '/servicePointId'
  }
  {
    name: 'imports'
    partitionKeyPath: '/importId'
  }
  {
    name: 'invoices'
    partitionKeyPath: '/accountId'
  }
  {
    name: 'numbering'
    partitionKeyPath: '/series'
  }
  {
    name: 'payments'
    partitionKeyPath: '/accountId'
  }
  {
    name: 'webhook-events'
    partitionKeyPath: '/provider'
  }
  {
    name: 'idempotency'
    partitionKeyPath: '/scope'
  }
  {
    name: 'bill-runs'
    partitionKeyPath: '/runId'
  }
  {
    name: 'schedules'
    partitionKeyPath: '/job'
  }
  {
    name: 'stock-events'
    partitionKeyPath: '/warehouseId'
  }
  {
    name: 'products'
    partitionKeyPath: '/productId'
  }
  {
    name: 'service-requests'
    partitionKeyPath: '/customerId'
  }
  {
    name: 'meters'
    partitionKeyPath: '/meterId'
  }
  {
    name: 'contracts'
    partitionKeyPath: '/servicePointId'
  }
  {
    name: 'record-changes'
    partitionKeyPath: '/recordKey'
  }
  {
    name: 'search-terms'
    partitionKeyPath: '/term'
  }
  {
    name: 'bank-statements'
    partitionKeyPath: '/statementId'
  }
  {
    name: 'unmatched-payments'
    partitionKeyPath: '/channel'
  }
  {
    name: 'payouts'
    partitionKeyPath: '/provider'
  }
  {
    name: 'dunning'
    partitionKeyPath: '/accountId'
  }
  {
    name: 'dunning-policies'
    partitionKeyPath: '/policyId'
  }
  {
    name: 'field-orders'
    partitionKeyPath: '/servicePointId'
  }
  {
    name: 'text-blocks'
    partitionKeyPath: '/blockId'
  }
]

// shared/resources.py BLOB_CONTAINERS.
var blobContainerNames = [
  'invoices'
  'readings-inbox'
  'statements'
  'exports'
]

// Scratch space inside the container for the embedded backends' paths: unused while the
// Azure backends are chosen, but explicit so a switch back never writes into wwwroot.
var scratchDir = '/tmp/gridledger'

// --- monitoring ----------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-log-${token}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${prefix}-appi-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Telemetry is sent with the app's identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
    DisableLocalAuth: true
  }
}

// --- storage: the host's own state and the app's blobs -------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st${compactPrefix}${token}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Possible because the container plan needs no Azure Files content share.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Issued invoices are records the retailer must keep: a mistaken delete stays recoverable.
    deleteRetentionPolicy: {
      enabled: true
      days: 30
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 30
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in blobContainerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// --- Cosmos DB: the document store ---------------------------------------------------------

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: '${prefix}-cosmos-${token}'
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource cosmosDatabase 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: cosmos
  name: cosmosDatabaseName
  properties: {
    resource: {
      id: cosmosDatabaseName
    }
    options: {
      autoscaleSettings: {
        maxThroughput: cosmosMaxThroughput
      }
    }
  }
}

resource cosmosContainerResources 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [
  for container in cosmosContainers: {
    parent: cosmosDatabase
    name: container.name
    properties: {
      resource: {
        id: container.name
        partitionKey: {
          paths: [
            container.partitionKeyPath
          ]
          kind: 'Hash'
          version: 2
        }
      }
    }
  }
]

// --- Service Bus: the pipeline's queues ----------------------------------------------------

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: '${prefix}-sb-${token}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource serviceBusQueues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in serviceBusQueueNames: {
    parent: serviceBus
    name: queueName
    properties: {
      // shared/resources.py MAX_DELIVERY_COUNT: the in-process bus gives up after as many tries.
      maxDeliveryCount: 5
      deadLetteringOnMessageExpiration: true
      // Senders set the message id from the business key, so a retried send is dropped here.
      // Azure cannot switch duplicate detection on for an existing queue: set it at creation.
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: 'PT1H'
      // The Functions host renews the lock while a handler runs (host.json maxAutoRenewDuration);
      // a short lock brings a message back quickly when an instance dies mid-handler.
      lockDuration: 'PT1M'
      defaultMessageTimeToLive: 'P14D'
      maxSizeInMegabytes: 1024
      enablePartitioning: false
      requiresSession: false
    }
  }
]

// --- Key Vault: the three secrets the app reads -------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv${compactPrefix}${token}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource paymentWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'payment-webhook-secrets'
  properties: {
    value: paymentWebhookSecrets
    contentType: 'text/plain'
  }
}

resource stripeWebhookSecretValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'stripe-webhook-secret'
  properties: {
    value: stripeWebhookSecret
    contentType: 'text/plain'
  }
}

resource callCentreWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'call-centre-webhook-secrets'
  properties: {
    value: callCentreWebhookSecrets
    contentType: 'text/plain'
  }
}

resource smtpPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'smtp-password'
  properties: {
    value: smtpPassword
    contentType: 'text/plain'
  }
}

// --- the Function App ----------------------------------------------------------------------

resource containerRegistry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: 'cr${compactPrefix}${token}'
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${prefix}-plan-${token}'
  location: location
  tags: tags
  kind: 'elastic'
  sku: {
    name: planSku
    tier: 'ElasticPremium'
  }
  properties: {
    reserved: true // Linux
    maximumElasticWorkerCount: maximumElasticWorkerCount
  }
}

// The versionless secret URI: the app picks up a rotated secret without a redeploy.
var paymentWebhookSecretReference = '@Microsoft.KeyVault(SecretUri=${paymentWebhookSecret.properties.secretUri})'
var stripeWebhookSecretReference = '@Microsoft.KeyVault(SecretUri=${stripeWebhookSecretValue.properties.secretUri})'
var callCentreWebhookSecretReference = '@Microsoft.KeyVault(SecretUri=${callCentreWebhookSecret.properties.secretUri})'
var smtpPasswordReference = '@Microsoft.KeyVault(SecretUri=${smtpPasswordSecret.properties.secretUri})'

// Service Bus returns 'https://<namespace>.servicebus.windows.net:443/'; the SDK wants the host name.
var serviceBusHostName = replace(replace(serviceBus.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')

resource functionApp 'Microsoft.Web/sites@2023-12-01' = {
  name: '${prefix}-func-${token}'
  location: location
  tags: tags
  kind: 'functionapp,linux,container'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      // Our image: the stock Python image lacks the Pango that WeasyPrint renders invoices with.
      linuxFxVersion: 'DOCKER|${containerRegistry.properties.loginServer}/${imageName}:${imageTag}'
      acrUseManagedIdentityCreds: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      minimumElasticInstanceCount: 1
      appSettings: [
        // The Functions host.
        {
          name: 'FUNCTIONS_EXTENSION_VERSION'
          value: '~4'
        }
        {
          name: 'FUNCTIONS_WORKER_RUNTIME'
          value: 'python'
        }
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storage.name
        }
        {
          name: 'ServiceBusConnection__fullyQualifiedNamespace' // functions/queues.py CONNECTION
          value: serviceBusHostName
        }
        {
          name: 'WEBSITES_ENABLE_APP_SERVICE_STORAGE' // the image holds the code; no /home share
          value: 'false'
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'Authorization=AAD'
        }
        // shared/config.py Settings, in field order. Empty key and connection-string settings
        // mean "use the managed identity".
        {
          name: 'GRIDLEDGER_DATA_DIR'
          value: scratchDir
        }
        {
          name: 'GRIDLEDGER_DOCUMENT_STORE'
          value: 'cosmos'
        }
        {
          name: 'GRIDLEDGER_SQLITE_PATH'
          value: '${scratchDir}/gridledger.sqlite3'
        }
        {
          name: 'GRIDLEDGER_COSMOS_ENDPOINT'
          value: cosmos.properties.documentEndpoint
        }
        {
          name: 'GRIDLEDGER_COSMOS_KEY'
          value: ''
        }
        {
          name: 'GRIDLEDGER_COSMOS_DATABASE'
          value: cosmosDatabaseName
        }
        {
          name: 'GRIDLEDGER_COSMOS_VERIFY_TLS'
          value: 'true'
        }
        {
          name: 'GRIDLEDGER_BLOB_STORE'
          value: 'azure'
        }
        {
          name: 'GRIDLEDGER_BLOB_ROOT'
          value: '${scratchDir}/blobs'
        }
        {
          name: 'GRIDLEDGER_BLOB_CONNECTION_STRING'
          value: ''
        }
        {
          name: 'GRIDLEDGER_BLOB_ACCOUNT_URL'
          value: storage.properties.primaryEndpoints.blob
        }
        {
          name: 'GRIDLEDGER_BUS'
          value: 'servicebus'
        }
        {
          name: 'GRIDLEDGER_SERVICEBUS_CONNECTION_STRING'
          value: ''
        }
        {
          name: 'GRIDLEDGER_SERVICEBUS_NAMESPACE'
          value: serviceBusHostName
        }
        {
          name: 'GRIDLEDGER_MAILER'
          value: 'smtp'
        }
        {
          name: 'GRIDLEDGER_MAIL_FOLDER'
          value: '${scratchDir}/mail'
        }
        {
          name: 'GRIDLEDGER_MAIL_FROM'
          value: mailFrom
        }
        {
          name: 'GRIDLEDGER_SMTP_HOST'
          value: smtpHost
        }
        {
          name: 'GRIDLEDGER_SMTP_PORT'
          value: string(smtpPort)
        }
        {
          name: 'GRIDLEDGER_SMTP_USERNAME'
          value: smtpUsername
        }
        {
          name: 'GRIDLEDGER_SMTP_PASSWORD'
          value: smtpPasswordReference
        }
        {
          name: 'GRIDLEDGER_SMTP_STARTTLS'
          value: smtpStartTls ? 'true' : 'false'
        }
        {
          name: 'GRIDLEDGER_PAYMENT_WEBHOOK_SECRETS'
          value: paymentWebhookSecretReference
        }
        {
          name: 'GRIDLEDGER_WEBHOOK_TOLERANCE_SECONDS'
          value: '300'
        }
        {
          name: 'GRIDLEDGER_PAYMENT_WEBHOOK_SIGNATURE_HEADER'
          value: paymentWebhookSignatureHeader
        }
        {
          name: 'GRIDLEDGER_PAYMENT_WEBHOOK_ALGORITHM'
          value: paymentWebhookAlgorithm
        }
        {
          name: 'GRIDLEDGER_CALL_CENTRE_WEBHOOK_SECRETS'
          value: callCentreWebhookSecretReference
        }
        {
          name: 'GRIDLEDGER_STRIPE_WEBHOOK_SECRET'
          value: stripeWebhookSecretReference
        }
        {
          name: 'GRIDLEDGER_MAX_REQUEST_BYTES'
          value: '5242880'
        }
        {
          name: 'GRIDLEDGER_MAX_BATCH_ITEMS'
          value: '1000'
        }
        {
          name: 'GRIDLEDGER_BPAY_BILLER_CODE'
          value: bpayBillerCode
        }
        {
          name: 'GRIDLEDGER_PAYMENT_BANK_ACCOUNT'
          value: paymentBankAccount
        }
        {
          name: 'GRIDLEDGER_LEGAL_ENTITY'
          value: legalEntity
        }
        {
          name: 'GRIDLEDGER_LEGAL_ENTITY_ABN'
          value: legalEntityAbn
        }
        {
          name: 'GRIDLEDGER_LOG_LEVEL'
          value: logLevel
        }
      ]
    }
  }
}

// Deployments come from the registry image, never from FTP or the Kudu publishing endpoint.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// --- what the app's identity may do --------------------------------------------------------

// A module because role assignment names must be known when the deployment starts, and the
// identity's principal id is only known that early as a module parameter.
module appRoles 'modules/app-roles.bicep' = {
  name: 'gridledger-app-roles'
  params: {
    principalId: functionApp.identity.principalId
    storageAccountName: storage.name
    serviceBusNamespaceName: serviceBus.name
    cosmosAccountName: cosmos.name
    keyVaultName: keyVault.name
    containerRegistryName: containerRegistry.name
    appInsightsName: appInsights.name
  }
}

// --- outputs (no secrets) ------------------------------------------------------------------

output functionAppName string = functionApp.name
output functionAppHostName string = functionApp.properties.defaultHostName
output functionAppPrincipalId string = functionApp.identity.principalId
output containerRegistryName string = containerRegistry.name
output containerRegistryLoginServer string = containerRegistry.properties.loginServer
output keyVaultName string = keyVault.name
output cosmosAccountName string = cosmos.name
output serviceBusNamespace string = serviceBusHostName
output storageAccountName string = storage.name
