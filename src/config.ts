import path from 'node:path'
import { parseTagConfig, type TagConfig } from './delivery/tags.ts'
import { EDITIONS, type Edition } from './delivery/taxes.ts'
import { DATA_CENTRES, PLANS, type DataCentre, type Plan } from './zoho/data-centres.ts'
import { DEFAULT_SUBSIDIARY, OrganizationsError, parseOrganizations, type OrganizationConfig } from './zoho/organizations.ts'
import type { ZohoTarget } from './zoho/stack.ts'

export type Role = 'all' | 'api' | 'worker'

export type BlobConfig =
  | { kind: 'fs'; root: string }
  | {
      kind: 's3'
      bucket: string
      endpoint?: string
      region: string
      forcePathStyle: boolean
      credentials?: { accessKeyId: string; secretAccessKey: string }
    }

export interface ZohoLimits {
  /** ZOHO_PLAN, when given: the source of the daily and concurrency defaults */
  plan?: Plan
  ratePerMinute: number
  /** the window Zoho counts ratePerMinute over: 60 s; shorter only for sandbox tests */
  rateWindowSeconds: number
  dailyLimit: number
  maxConcurrency: number
  timeoutMs: number
  uniqueField?: string
  maxAttachmentBytes: number
  /** TAX_ROUNDING_TOLERANCE: the most, in the bill's currency, that a bill's adjustment absorbs of Zoho's tax rounding */
  taxRoundingTolerance: number
  createMissingVendors: boolean
  defaultAccountId?: string
  /** ZOHO_EDITION: overrides the edition derived from the organization's country (Zoho documents no edition field) */
  edition?: Edition
  /** ZOHO_TAGS: each NetSuite segment → a Zoho reporting tag name, e.g. department=Department,class=Cost centre */
  tags: TagConfig
}

/** The Zoho settings every organization shares (the organizations themselves are Config.organizations). */
export type ZohoConfig = {
  /** sandbox: no Zoho credentials given, the service runs its local Zoho sandbox */
  mode: 'sandbox' | 'remote'
} & ZohoLimits

export interface Config {
  production: boolean
  role: Role
  host: string
  port: number
  logLevel: string
  dataDir: string
  /** undefined: run the embedded PostgreSQL under dataDir/pg */
  databaseUrl?: string
  blob: BlobConfig
  zoho: ZohoConfig
  /**
   * ZOHO_ORGANIZATIONS, or the one organization of ZOHO_CLIENT_ID … ZOHO_ORGANIZATION_ID (subsidiaries ["*"]);
   * empty in sandbox mode, where the runtime adds the sandbox's organization.
   */
  organizations: OrganizationConfig[]
  /** 32 bytes; in sandbox mode a fixed development key when unset */
  tokenEncryptionKey: Buffer
  workerConcurrency: number
  maxBodyBytes: number
  maxAttachmentBytes: number
  apiRatePerMinute: number
  /** bills in one request; past it 413 TOO_MANY_BILLS, which bounds memory per request */
  maxBillsPerBatch: number
  /** a request body that sends nothing for this long is aborted and its stored PDFs removed */
  requestIdleTimeoutMs: number
  /** ingest requests one API key may have in flight at once; past it 429 */
  maxUploadsPerKey: number
  /** failed authentications (API and dashboard login) one client IP may make per minute; past it 429 */
  authFailuresPerMinute: number
  /** lifetime of a dashboard session, fixed at login */
  adminSessionHours: number
  /** trust X-Forwarded-* from a TLS-terminating proxy (client IP, https for Secure cookies) */
  trustProxy: boolean
  alertWebhookUrl?: string
  /** json: billbridge's own body; slack: an incoming-webhook `text` */
  alertFormat: 'json' | 'slack'
  /** where operators open the dashboard, for links in alerts (e.g. https://billbridge.example.com) */
  dashboardUrl?: string
  shutdownTimeoutMs: number
  /** after SIGTERM, keep serving (while /health/ready answers 503) this long so load balancers move away */
  shutdownDrainDelayMs: number
  /** how long retryable delivery failures keep being retried before the bill fails */
  deliveryRetryHours: number
  /** first retry delay once failures persist across the organization; isolated failures retry within seconds (src/delivery/pacing.ts) */
  deliveryRetryDelaySeconds: number
  /** a delivery job running longer than this (its worker died) is handed to another worker */
  deliveryJobExpireSeconds: number
  /** RECONCILE_CRON: when the reconciliation with Zoho runs (pg-boss cron, UTC) */
  reconcileCron: string
  /** RECONCILE_MAX_DAILY_SHARE: the most of the daily Zoho quota a day's reconciliation may spend */
  reconcileMaxDailyShare: number
}

export class ConfigError extends Error {
  readonly variable: string
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
    this.variable = variable
  }
}

type Env = Record<string, string | undefined>

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const SANDBOX_TOKEN_KEY = Buffer.alloc(32, 0x5a)

/** Reads and validates the whole configuration once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env)
  const production = env.NODE_ENV === 'production'
  const dataDir = path.resolve(read.string('DATA_DIR') ?? './data')

  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:'])
  if (production && !databaseUrl) throw new ConfigError('DATABASE_URL', 'is required when NODE_ENV=production (the embedded PostgreSQL is for development only)')

  const { zoho, organizations } = readZoho(read, production)
  const tokenKey = read.hexKey('TOKEN_ENCRYPTION_KEY')
  if (!tokenKey && zoho.mode === 'remote') {
    throw new ConfigError('TOKEN_ENCRYPTION_KEY', 'is required when Zoho credentials are set: 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`')
  }

  const maxAttachmentBytes = read.bytes('MAX_ATTACHMENT_BYTES') ?? 25 * 1024 * 1024
  return {
    production,
    role: read.oneOf('ROLE', ['all', 'api', 'worker'] as const) ?? 'all',
    host: read.string('HOST') ?? (production ? '0.0.0.0' : '127.0.0.1'),
    port: read.int('PORT', 0, 65535) ?? 3000,
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS) ?? 'info',
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    blob: readBlob(read, production, dataDir),
    zoho,
    organizations,
    tokenEncryptionKey: tokenKey ?? SANDBOX_TOKEN_KEY,
    workerConcurrency: read.int('WORKER_CONCURRENCY', 1, 256) ?? 5,
    maxBodyBytes: read.bytes('MAX_BODY_BYTES') ?? 512 * 1024 * 1024,
    maxAttachmentBytes,
    apiRatePerMinute: read.int('API_RATE_PER_MINUTE', 1, 1_000_000) ?? 600,
    maxBillsPerBatch: read.int('MAX_BILLS_PER_BATCH', 1, 100_000) ?? 1_000,
    requestIdleTimeoutMs: read.int('REQUEST_IDLE_TIMEOUT_MS', 100, 3_600_000) ?? 30_000,
    maxUploadsPerKey: read.int('MAX_UPLOADS_PER_KEY', 1, 1_000) ?? 4,
    authFailuresPerMinute: read.int('AUTH_FAILURES_PER_MINUTE', 1, 100_000) ?? 20,
    adminSessionHours: read.number('ADMIN_SESSION_HOURS', 0.01, 720) ?? 8,
    trustProxy: read.bool('TRUST_PROXY') ?? false,
    ...optional('alertWebhookUrl', read.url('ALERT_WEBHOOK_URL', ['http:', 'https:'])),
    alertFormat: read.oneOf('ALERT_FORMAT', ['json', 'slack'] as const) ?? 'json',
    ...optional('dashboardUrl', read.url('DASHBOARD_URL', ['http:', 'https:'])),
    shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 100, 600_000) ?? 10_000,
    shutdownDrainDelayMs: read.int('SHUTDOWN_DRAIN_DELAY_MS', 0, 300_000) ?? 0,
    deliveryRetryHours: read.number('DELIVERY_RETRY_HOURS', 0, 720) ?? 24,
    deliveryRetryDelaySeconds: read.int('DELIVERY_RETRY_DELAY_SECONDS', 1, 3600) ?? 30,
    deliveryJobExpireSeconds: read.int('DELIVERY_JOB_EXPIRE_SECONDS', 2, 86_399) ?? 300,
    reconcileCron: read.pattern('RECONCILE_CRON', /^\S+( \S+){4}$/, 'must be a cron expression of five fields, like "30 2 * * *" (daily at 02:30 UTC)') ?? '30 2 * * *',
    reconcileMaxDailyShare: read.number('RECONCILE_MAX_DAILY_SHARE', 0, 1) ?? 0.05,
  }
}

function readTags(text: string | undefined): TagConfig {
  try {
    return text ? parseTagConfig(text) : {}
  } catch (err) {
    throw new ConfigError('ZOHO_TAGS', (err as Error).message)
  }
}

function readBlob(read: EnvReader, production: boolean, dataDir: string): BlobConfig {
  const kind = read.oneOf('BLOB_STORE', ['fs', 's3'] as const)
  if (production && !kind) throw new ConfigError('BLOB_STORE', 'is required when NODE_ENV=production: s3 (with S3_BUCKET) or fs (with BLOB_DIR)')
  if (kind === 's3') {
    const bucket = read.string('S3_BUCKET')
    if (!bucket) throw new ConfigError('S3_BUCKET', 'is required when BLOB_STORE=s3')
    const accessKeyId = read.string('S3_ACCESS_KEY_ID')
    const secretAccessKey = read.string('S3_SECRET_ACCESS_KEY')
    if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
      throw new ConfigError(accessKeyId ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID', 'must be set together with its pair (or leave both unset to use the AWS default credential chain)')
    }
    const endpoint = read.url('S3_ENDPOINT', ['http:', 'https:'])
    return {
      kind: 's3',
      bucket,
      ...(endpoint ? { endpoint } : {}),
      region: read.string('S3_REGION') ?? 'us-east-1',
      forcePathStyle: read.bool('S3_FORCE_PATH_STYLE') ?? false,
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    }
  }
  const dir = read.string('BLOB_DIR')
  if (production && !dir) throw new ConfigError('BLOB_DIR', 'is required when NODE_ENV=production and BLOB_STORE=fs')
  return { kind: 'fs', root: path.resolve(dir ?? path.join(dataDir, 'blobs')) }
}

const ZOHO_CREDENTIALS = ['ZOHO_CLIENT_ID', 'ZOHO_CLIENT_SECRET', 'ZOHO_REFRESH_TOKEN', 'ZOHO_ORGANIZATION_ID'] as const
const ZOHO_PLACE = ['ZOHO_DC', 'ZOHO_ACCOUNTS_URL', 'ZOHO_API_URL'] as const

function readZoho(read: EnvReader, production: boolean): { zoho: ZohoConfig; organizations: OrganizationConfig[] } {
  const plan = read.oneOf('ZOHO_PLAN', Object.keys(PLANS) as Plan[])
  const common = {
    ...optional('plan', plan),
    ratePerMinute: read.int('ZOHO_RATE_PER_MINUTE', 1, 10_000) ?? 100,
    rateWindowSeconds: read.int('ZOHO_RATE_WINDOW_SECONDS', 1, 3600) ?? 60,
    timeoutMs: read.int('ZOHO_TIMEOUT_MS', 100, 600_000) ?? 60_000,
    dailyLimit: read.int('ZOHO_DAILY_LIMIT', 1, 100_000_000) ?? (plan ? PLANS[plan].dailyLimit : 10_000),
    maxConcurrency: read.int('ZOHO_MAX_CONCURRENCY', 1, 60) ?? (plan ? PLANS[plan].maxConcurrency : 5),
    maxAttachmentBytes: read.bytes('ZOHO_MAX_ATTACHMENT_BYTES') ?? 10 * 1024 * 1024,
    taxRoundingTolerance: read.number('TAX_ROUNDING_TOLERANCE', 0, 1000) ?? 0.05,
    createMissingVendors: read.bool('ZOHO_CREATE_MISSING_VENDORS') ?? true,
    ...optional('uniqueField', read.pattern('ZOHO_UNIQUE_FIELD', /^cf_[a-z0-9_]+$/, 'must be the API name of a custom field, like cf_netsuite_id')),
    ...optional('defaultAccountId', read.string('ZOHO_DEFAULT_ACCOUNT_ID')),
    ...optional('edition', read.oneOf('ZOHO_EDITION', EDITIONS)),
    tags: readTags(read.string('ZOHO_TAGS')),
  }
  const given = ZOHO_CREDENTIALS.filter((name) => read.string(name) !== undefined)
  const several = read.string('ZOHO_ORGANIZATIONS')
  if (several !== undefined) {
    const single = [...given, ...ZOHO_PLACE.filter((name) => read.string(name) !== undefined)]
    if (single.length > 0) throw new ConfigError(single[0]!, `must not be set with ZOHO_ORGANIZATIONS: give each organization's credentials and data centre in its entry (unset ${single.join(', ')})`)
    try {
      return { zoho: { mode: 'remote', ...common }, organizations: parseOrganizations(several, { limits: common }) }
    } catch (err) {
      if (err instanceof OrganizationsError) throw new ConfigError('ZOHO_ORGANIZATIONS', err.message)
      throw err
    }
  }
  // A data centre or Zoho address says a real organization is meant: without credentials that is a mistake, not the sandbox.
  const place = ZOHO_PLACE.filter((name) => read.string(name) !== undefined)
  if (given.length === 0 && place.length > 0) {
    throw new ConfigError('ZOHO_CLIENT_ID', `is required because ${place.map((name) => `${name}=${read.string(name)}`).join(', ')} ${place.length > 1 ? 'are' : 'is'} set: give ${ZOHO_CREDENTIALS.join(', ')} (and TOKEN_ENCRYPTION_KEY), or unset ${place.join(', ')} to use the local Zoho sandbox`)
  }
  if (given.length === 0) {
    if (production) throw new ConfigError('ZOHO_CLIENT_ID', 'is required when NODE_ENV=production (with ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, ZOHO_ORGANIZATION_ID); the Zoho sandbox is for development only')
    return { zoho: { mode: 'sandbox', ...common }, organizations: [] }
  }
  const missing = ZOHO_CREDENTIALS.find((name) => read.string(name) === undefined)
  if (missing) throw new ConfigError(missing, `is required because ${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} set: give all four Zoho credentials or none`)
  if (read.string('ZOHO_DC')?.toLowerCase() === 'us') throw new ConfigError('ZOHO_DC', `must be one of ${Object.keys(DATA_CENTRES).join(', ')}; the United States data centre is com`)
  const dataCentre = read.oneOf('ZOHO_DC', Object.keys(DATA_CENTRES) as DataCentre[])
  const hosts = DATA_CENTRES[dataCentre ?? 'com']
  const apiUrl = read.url('ZOHO_API_URL', ['https:', 'http:'])
  const organizationId = read.pattern('ZOHO_ORGANIZATION_ID', /^\d+$/, 'must be the numeric Zoho Books organization id')!
  const target: ZohoTarget = {
    ...optional('dataCentre', dataCentre),
    accountsUrl: read.url('ZOHO_ACCOUNTS_URL', ['https:', 'http:']) ?? hosts.accounts,
    defaultApiUrl: apiUrl ?? `${hosts.api}/books/v3`,
    ...optional('apiUrl', apiUrl),
    clientId: read.string('ZOHO_CLIENT_ID')!,
    clientSecret: read.string('ZOHO_CLIENT_SECRET')!,
    refreshToken: read.string('ZOHO_REFRESH_TOKEN')!,
    organizationId,
  }
  return { zoho: { mode: 'remote', ...common }, organizations: [{ organizationId, label: 'ZOHO_ORGANIZATION_ID', subsidiaries: [DEFAULT_SUBSIDIARY], target, limits: common }] }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}

/** Typed accessors over the environment; an empty string counts as unset. */
class EnvReader {
  private readonly env: Env
  constructor(env: Env) {
    this.env = env
  }

  string(name: string): string | undefined {
    const value = this.env[name]?.trim()
    return value ? value : undefined
  }

  int(name: string, min: number, max: number): number | undefined {
    const raw = this.string(name)
    if (raw === undefined) return undefined
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`)
    const value = Number(raw)
    if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
    return value
  }

  number(name: string, min: number, max: number): number | undefined {
    const raw = this.string(name)
    if (raw === undefined) return undefined
    const value = Number(raw)
    if (!Number.isFinite(value) || !/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(name, `must be a number, got "${raw}"`)
    if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
    return value
  }

  bytes(name: string): number | undefined {
    const raw = this.string(name)
    if (raw === undefined) return undefined
    const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(raw)
    if (!match) throw new ConfigError(name, `must be a size in bytes, or with a unit like 25mb or 512MB, got "${raw}"`)
    const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b']
    const value = Number(match[1]) * unit
    if (value < 1) throw new ConfigError(name, 'must be at least 1 byte')
    return value
  }

  bool(name: string): boolean | undefined {
    const raw = this.string(name)?.toLowerCase()
    if (raw === undefined) return undefined
    if (['true', '1', 'yes'].includes(raw)) return true
    if (['false', '0', 'no'].includes(raw)) return false
    throw new ConfigError(name, `must be true or false, got "${raw}"`)
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.string(name)
    if (raw === undefined) return undefined
    if (!allowed.includes(raw as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`)
    return raw as T
  }

  url(name: string, protocols: string[]): string | undefined {
    const raw = this.string(name)
    if (raw === undefined) return undefined
    let parsed: URL
    try {
      parsed = new URL(raw)
    } catch {
      throw new ConfigError(name, 'is not a valid URL')
    }
    if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`)
    return raw.replace(/\/+$/, '')
  }

  pattern(name: string, re: RegExp, problem: string): string | undefined {
    const raw = this.string(name)
    if (raw !== undefined && !re.test(raw)) throw new ConfigError(name, problem)
    return raw
  }

  hexKey(name: string): Buffer | undefined {
    const raw = this.string(name)
    if (raw === undefined) return undefined
    if (!/^[0-9a-fA-F]{64}$/.test(raw)) throw new ConfigError(name, `must be 64 hex characters (32 bytes), got ${raw.length} characters`)
    return Buffer.from(raw, 'hex')
  }
}
