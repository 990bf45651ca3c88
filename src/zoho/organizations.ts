import type { ZohoLimits } from '../config.ts'
import { parseTagConfig } from '../delivery/tags.ts'
import { EDITIONS, type Edition } from '../delivery/taxes.ts'
import { DATA_CENTRES, PLANS, type DataCentre, type Plan } from './data-centres.ts'
import type { ZohoTarget } from './stack.ts'

/** The subsidiary entry that takes every bill no other entry names (and bills with no subsidiary). */
export const DEFAULT_SUBSIDIARY = '*'

/**
 * One Zoho Books organization billbridge delivers to: an entry of ZOHO_ORGANIZATIONS, or the single
 * organization of the ZOHO_* variables (subsidiaries ["*"]).
 */
export interface OrganizationConfig {
  organizationId: string
  /** how messages name the entry: its `name`, else "ZOHO_ORGANIZATIONS[i]" (or "ZOHO_ORGANIZATION_ID") */
  label: string
  /** an operator's name for it, shown on the dashboard (e.g. "Acme UK") */
  name?: string
  /** NetSuite subsidiary names routed here, as configured; "*" takes the rest */
  subsidiaries: string[]
  /** where it lives and how billbridge signs in (entries sharing a Zoho user carry the same credentials) */
  target: ZohoTarget
  /** its budget and data settings: the entry's own values over the global ZOHO_* ones */
  limits: ZohoLimits
  /**
   * The base currency of its NetSuite subsidiaries, when given: NetSuite's exchangeRate is to that currency, so
   * when the organization's base currency is another, billbridge sends no exchange_rate (Zoho applies its own).
   */
  netsuiteBaseCurrency?: string
}

/** The key of a subsidiary name for routing: trimmed, one space between words, lower case. */
export function subsidiaryKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase()
}

const leafKey = (name: string) => subsidiaryKey(name.split(':').pop()!)

/**
 * The organization a bill of `subsidiary` belongs to: the entry naming it (exact, case-insensitive), else
 * the "*" entry, else none (the bill is rejected with SUBSIDIARY_UNKNOWN).
 *
 * NetSuite may give a OneWorld subsidiary by its hierarchical name ("Acme Group : Acme UK") or by its own
 * name ("Acme UK"), and Oracle does not document which a script's getText returns; so when no entry names
 * it exactly, the last level of both names is compared, and used only when exactly one entry matches. A
 * bill is never sent to the "*" entry because its name was written the other way.
 */
export function organizationFor(organizations: readonly OrganizationConfig[], subsidiary: string | undefined): OrganizationConfig | undefined {
  if (subsidiary !== undefined && subsidiary.trim() !== '') {
    const key = subsidiaryKey(subsidiary)
    const named = organizations.filter((o) => o.subsidiaries.some((s) => s !== DEFAULT_SUBSIDIARY && subsidiaryKey(s) === key))
    if (named.length === 1) return named[0]
    const leaf = leafKey(subsidiary)
    const byLeaf = organizations.filter((o) => o.subsidiaries.some((s) => s !== DEFAULT_SUBSIDIARY && leafKey(s) === leaf))
    if (byLeaf.length === 1) return byLeaf[0]
    if (byLeaf.length > 1) return undefined
  }
  return organizations.find((o) => o.subsidiaries.includes(DEFAULT_SUBSIDIARY))
}

/** Token cache key of an OAuth grant: one per client, data centre and refresh token, never the secrets themselves. */
export function grantKey(target: Pick<ZohoTarget, 'accountsUrl' | 'clientId' | 'refreshToken'>, hash: (text: string) => string): string {
  return `grant:${hash(`${target.accountsUrl}\n${target.clientId}\n${target.refreshToken}`)}`
}

/** What every entry inherits from the ZOHO_* variables unless it gives its own value. */
export interface OrganizationDefaults {
  limits: ZohoLimits
}

const ENTRY_KEYS = ['name', 'subsidiaries', 'organizationId', 'dc', 'accountsUrl', 'apiUrl', 'clientId', 'clientSecret', 'refreshToken', 'credentialsFrom',
  'plan', 'ratePerMinute', 'dailyLimit', 'maxConcurrency', 'defaultAccountId', 'tags', 'edition', 'netsuiteBaseCurrency'] as const
const CREDENTIALS = ['clientId', 'clientSecret', 'refreshToken'] as const

/** A problem in one entry of ZOHO_ORGANIZATIONS: the message names the entry and the field, never a secret's value. */
export class OrganizationsError extends Error {}

/**
 * ZOHO_ORGANIZATIONS: a JSON array, one entry per Zoho organization (docs/operations.md, "Several Zoho
 * organizations"). Every problem is one line naming the entry (`[i]` and its name) and the field.
 */
export function parseOrganizations(text: string, defaults: OrganizationDefaults): OrganizationConfig[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new OrganizationsError(`is not valid JSON (${(err as Error).message}): give an array of entries like [{"subsidiaries":["*"],"organizationId":"…","dc":"eu","clientId":"…","clientSecret":"…","refreshToken":"…"}]`)
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new OrganizationsError('must be a JSON array with at least one entry')
  const raw = parsed.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new OrganizationsError(`[${i}]: must be an object`)
    return entry as Record<string, unknown>
  })
  const entries = raw.map((entry, i) => readEntry(entry, i, defaults))
  // credentialsFrom: another entry's OAuth client and Zoho user, when one user reaches several organizations.
  const byId = new Map(entries.map((e) => [e.config.organizationId, e]))
  for (const e of entries) {
    if (!e.credentialsFrom) continue
    const from = byId.get(e.credentialsFrom)
    const at = `${e.config.label}.credentialsFrom`
    if (!from || from === e) throw new OrganizationsError(`${at}: "${e.credentialsFrom}" is not the organizationId of another entry`)
    if (from.credentialsFrom) throw new OrganizationsError(`${at}: entry ${from.config.label} takes its credentials from another entry too; name the entry that gives clientId, clientSecret and refreshToken`)
    if (e.placeGiven && e.config.target.accountsUrl !== from.config.target.accountsUrl) {
      throw new OrganizationsError(`${e.config.label}.dc: a Zoho user's token is granted by one data centre; this entry is in ${e.config.target.accountsUrl} but ${from.config.label} is in ${from.config.target.accountsUrl}`)
    }
    const { clientId, clientSecret, refreshToken, accountsUrl } = from.config.target
    Object.assign(e.config.target, { clientId, clientSecret, refreshToken, accountsUrl })
    if (!e.placeGiven) {
      e.config.target.defaultApiUrl = from.config.target.defaultApiUrl
      if (from.config.target.dataCentre) e.config.target.dataCentre = from.config.target.dataCentre
    }
  }
  const seenIds = new Map<string, string>()
  const seenSubsidiaries = new Map<string, string>()
  for (const { config } of entries) {
    const other = seenIds.get(config.organizationId)
    if (other) throw new OrganizationsError(`${config.label}.organizationId: ${config.organizationId} is also the organization of ${other}; give each organization one entry`)
    seenIds.set(config.organizationId, config.label)
    for (const s of config.subsidiaries) {
      const key = s === DEFAULT_SUBSIDIARY ? s : subsidiaryKey(s)
      const taken = seenSubsidiaries.get(key)
      if (taken) throw new OrganizationsError(`${config.label}.subsidiaries: "${s}" is also routed to ${taken}; a subsidiary${s === DEFAULT_SUBSIDIARY ? ' default' : ''} goes to one organization`)
      seenSubsidiaries.set(key, config.label)
    }
  }
  return entries.map((e) => e.config)
}

interface ReadEntry { config: OrganizationConfig; credentialsFrom?: string; placeGiven: boolean }

function readEntry(entry: Record<string, unknown>, i: number, defaults: OrganizationDefaults): ReadEntry {
  const name = typeof entry.name === 'string' && entry.name.trim() ? entry.name.trim() : undefined
  const label = name ? `[${i}] ("${name}")` : `[${i}]`
  const fail = (field: string, problem: string): never => {
    throw new OrganizationsError(`${label}.${field}: ${problem}`)
  }
  for (const key of Object.keys(entry)) {
    if (!(ENTRY_KEYS as readonly string[]).includes(key)) fail(key, `is not a field of an entry; the fields are ${ENTRY_KEYS.join(', ')}`)
  }
  if (entry.name !== undefined && (typeof entry.name !== 'string' || !name || name.length > 100)) fail('name', 'must be a text of 1 to 100 characters')
  const str = (field: string, required: boolean): string | undefined => {
    const value = entry[field]
    if (value === undefined || value === null) return required ? fail(field, 'is required') : undefined
    if (typeof value !== 'string' || value.trim() === '') return fail(field, 'must be a non-empty string')
    return value.trim()
  }
  const int = (field: string, min: number, max: number): number | undefined => {
    const value = entry[field]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return fail(field, `must be a whole number between ${min} and ${max}`)
    return value
  }

  const subsidiaries = entry.subsidiaries
  if (!Array.isArray(subsidiaries) || subsidiaries.length === 0) fail('subsidiaries', 'is required: a list of NetSuite subsidiary names as NetSuite shows them on the bill, or ["*"] for every other bill')
  const names = (subsidiaries as unknown[]).map((s, j) => {
    if (typeof s !== 'string' || s.trim() === '' || s.length > 200) return fail(`subsidiaries[${j}]`, 'must be a subsidiary name of 1 to 200 characters, or "*"')
    return s.trim()
  })

  const organizationId = str('organizationId', true)!
  if (!/^\d+$/.test(organizationId)) fail('organizationId', 'must be the numeric Zoho Books organization id (Settings → Organization Profile)')

  const dcRaw = str('dc', false)
  if (dcRaw?.toLowerCase() === 'us') fail('dc', `must be one of ${Object.keys(DATA_CENTRES).join(', ')}; the United States data centre is com`)
  if (dcRaw !== undefined && !(dcRaw in DATA_CENTRES)) fail('dc', `must be one of ${Object.keys(DATA_CENTRES).join(', ')}, got "${dcRaw}"`)
  const dataCentre = dcRaw as DataCentre | undefined
  const url = (field: string): string | undefined => {
    const value = str(field, false)
    if (value === undefined) return undefined
    let parsedUrl: URL
    try {
      parsedUrl = new URL(value)
    } catch {
      return fail(field, 'is not a valid URL')
    }
    if (parsedUrl.protocol !== 'https:' && parsedUrl.protocol !== 'http:') fail(field, 'must start with https:// or http://')
    return value.replace(/\/+$/, '')
  }
  const accountsUrl = url('accountsUrl')
  const apiUrl = url('apiUrl')
  const hosts = DATA_CENTRES[dataCentre ?? 'com']

  const credentialsFrom = str('credentialsFrom', false)
  const given = CREDENTIALS.filter((field) => entry[field] !== undefined)
  if (credentialsFrom !== undefined && given.length > 0) fail(given[0]!, 'must not be given with credentialsFrom: the entry uses the credentials of the entry it names')
  if (credentialsFrom === undefined) for (const field of CREDENTIALS) str(field, true)

  const plan = entry.plan
  if (plan !== undefined && (typeof plan !== 'string' || !(plan in PLANS))) fail('plan', `must be one of ${Object.keys(PLANS).join(', ')}`)
  const planLimits = plan ? PLANS[plan as Plan] : undefined
  const edition = entry.edition
  if (edition !== undefined && (typeof edition !== 'string' || !(EDITIONS as readonly string[]).includes(edition))) fail('edition', `must be one of ${EDITIONS.join(', ')}`)
  let tags = defaults.limits.tags
  if (entry.tags !== undefined) {
    try {
      if (typeof entry.tags === 'string') tags = parseTagConfig(entry.tags)
      else if (typeof entry.tags === 'object' && entry.tags !== null && !Array.isArray(entry.tags)) {
        tags = parseTagConfig(Object.entries(entry.tags).map(([segment, tag]) => `${segment}=${typeof tag === 'string' ? tag : ''}`).join(','))
      } else throw new Error('must be like {"department":"Department"} or "department=Department"')
    } catch (err) {
      fail('tags', (err as Error).message)
    }
  }
  const defaultAccountId = str('defaultAccountId', false)
  const netsuiteBaseCurrency = str('netsuiteBaseCurrency', false)?.toUpperCase()
  if (netsuiteBaseCurrency !== undefined && !/^[A-Z]{3}$/.test(netsuiteBaseCurrency)) fail('netsuiteBaseCurrency', 'must be a three-letter ISO 4217 currency code, like GBP')
  const base = defaults.limits
  const limits: ZohoLimits = {
    ...base,
    ...(plan ? { plan: plan as Plan } : {}),
    ratePerMinute: int('ratePerMinute', 1, 10_000) ?? base.ratePerMinute,
    dailyLimit: int('dailyLimit', 1, 100_000_000) ?? planLimits?.dailyLimit ?? base.dailyLimit,
    maxConcurrency: int('maxConcurrency', 1, 60) ?? planLimits?.maxConcurrency ?? base.maxConcurrency,
    tags,
    ...(edition ? { edition: edition as Edition } : {}),
  }
  if (defaultAccountId) limits.defaultAccountId = defaultAccountId
  else if (entry.defaultAccountId === undefined) delete limits.defaultAccountId
  const target: ZohoTarget = {
    organizationId,
    accountsUrl: accountsUrl ?? hosts.accounts,
    defaultApiUrl: apiUrl ?? `${hosts.api}/books/v3`,
    ...(apiUrl ? { apiUrl } : {}),
    ...(dataCentre ? { dataCentre } : {}),
    clientId: str('clientId', false) ?? '',
    clientSecret: str('clientSecret', false) ?? '',
    refreshToken: str('refreshToken', false) ?? '',
  }
  return {
    config: { organizationId, label, ...(name ? { name } : {}), subsidiaries: names, target, limits, ...(netsuiteBaseCurrency ? { netsuiteBaseCurrency } : {}) },
    ...(credentialsFrom ? { credentialsFrom } : {}),
    placeGiven: dataCentre !== undefined || accountsUrl !== undefined,
  }
}

/** The organization operator tools use when none is named: the "*" entry, else the first. */
export function defaultOrganization(organizations: readonly OrganizationConfig[]): OrganizationConfig {
  const found = organizations.find((o) => o.subsidiaries.includes(DEFAULT_SUBSIDIARY)) ?? organizations[0]
  if (!found) throw new Error('no Zoho organization is configured')
  return found
}

/** The one organization billbridge's sandbox mode delivers to: the local sandbox's, taking every subsidiary. */
export function sandboxOrganization(target: ZohoTarget, limits: ZohoLimits): OrganizationConfig {
  return { organizationId: target.organizationId, label: 'the Zoho sandbox', name: 'Zoho sandbox', subsidiaries: [DEFAULT_SUBSIDIARY], target, limits }
}
