import type { DataCentreContext, SandboxClient, SandboxClientCredentials, SandboxContext, SandboxCredentials, SandboxFaults, SandboxLimits } from './context.ts'
import { DailyCounter, SlidingWindow } from './limits.ts'
import { BooksState, emptyCounters, type SandboxSeed } from './state.ts'
import { TokenRegistry } from './tokens.ts'

/** The data centre an organization lives in when its entry names none (Zoho's United States centre is `com`). */
export const DEFAULT_DATA_CENTRE = 'com'

export const SANDBOX_CREDENTIALS: SandboxCredentials = {
  clientId: '1000.BILLBRIDGESANDBOX',
  clientSecret: 'sandbox-client-secret',
  refreshToken: '1000.sandbox.refresh-token',
  organizationId: '60012345678',
}

export const NO_FAULTS: SandboxFaults = {
  latencyMs: 0, errorRate5xx: 0, timeoutRate: 0, dropRate: 0, loseAnswerAfterCreateRate: 0, loseAnswerEndpoint: '', answerDelayMs: 0, rateLimitStormUntil: 0, dailyQuotaSpentUntil: 0,
}

/** One organization of a sandbox serving several (startZohoSandbox's `organizations`). */
export interface SandboxOrganizationOptions {
  organizationId: string
  /** a label for its data centre (default 'com'); each data centre in use listens on its own port */
  dataCentre?: string
  /** the OAuth client (one Zoho user's grant) reaching it; entries giving the same client share it. Default: its own */
  client?: SandboxClientCredentials
  /** over the sandbox-wide limits */
  limits?: Partial<SandboxLimits>
  /** default: the sandbox-wide seed */
  seed?: SandboxSeed
  /** what GET /organizations calls it */
  name?: string
}

/** A sandbox option that cannot describe a Zoho account; the message names the entry and the field. */
export class SandboxOptionsError extends Error {
  readonly code = 'SANDBOX_OPTIONS_INVALID'
}

export interface SandboxDefaults {
  limits: SandboxLimits
  seed: SandboxSeed
  uniqueFields: string[]
  windowMs: number
}

/** The client of an entry that names none: the first entry's is SANDBOX_CREDENTIALS', the others' are made from their id. */
function ownClient(index: number, organizationId: string): SandboxClientCredentials {
  if (index === 0) return { clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: SANDBOX_CREDENTIALS.clientSecret, refreshToken: SANDBOX_CREDENTIALS.refreshToken }
  return { clientId: `1000.BILLBRIDGESANDBOX${organizationId}`, clientSecret: `sandbox-client-secret-${organizationId}`, refreshToken: `1000.sandbox.refresh-token.${organizationId}` }
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== ''

function checkEntry(entry: SandboxOrganizationOptions, where: string, seen: Set<string>): void {
  if (!nonEmpty(entry?.organizationId)) throw new SandboxOptionsError(`${where}.organizationId: a non-empty string is required`)
  if (seen.has(entry.organizationId)) throw new SandboxOptionsError(`${where}.organizationId: ${entry.organizationId} is given twice`)
  seen.add(entry.organizationId)
  if (entry.dataCentre !== undefined && !/^[a-z0-9][a-z0-9.-]*$/i.test(entry.dataCentre)) throw new SandboxOptionsError(`${where}.dataCentre: a label such as com, eu or in is required (got "${entry.dataCentre}")`)
  if (entry.client !== undefined) {
    for (const key of ['clientId', 'clientSecret', 'refreshToken'] as const) {
      if (!nonEmpty(entry.client[key])) throw new SandboxOptionsError(`${where}.client.${key}: a non-empty string is required`)
    }
  }
  for (const [key, value] of Object.entries(entry.limits ?? {})) {
    if (typeof value !== 'number' || !(value >= 0)) throw new SandboxOptionsError(`${where}.limits.${key}: a number of 0 or more is required`)
  }
}

function newOrganization(entry: SandboxOrganizationOptions, index: number, defaults: SandboxDefaults): Omit<SandboxContext, 'client'> {
  const state = new BooksState(entry.seed ?? defaults.seed)
  return {
    organizationId: entry.organizationId,
    name: entry.name ?? (index === 0 ? 'billbridge sandbox organization' : `billbridge sandbox organization ${index + 1}`),
    dataCentre: entry.dataCentre ?? DEFAULT_DATA_CENTRE,
    state,
    limits: { ...defaults.limits, ...entry.limits },
    faults: { ...NO_FAULTS },
    uniqueFields: [...defaults.uniqueFields],
    window: new SlidingWindow(defaults.windowMs),
    daily: new DailyCounter(),
    inFlight: { n: 0 },
    count(endpoint) {
      state.counters.requestsByEndpoint[endpoint] = (state.counters.requestsByEndpoint[endpoint] ?? 0) + 1
    },
  }
}

/**
 * The organizations, their OAuth clients and the data centres they live in, from the entries in order. A
 * client is known by its id and refresh token: it lives in one data centre and has one secret there.
 */
export function buildOrganizations(entries: SandboxOrganizationOptions[], defaults: SandboxDefaults): { organizations: SandboxContext[]; dataCentres: DataCentreContext[] } {
  if (!Array.isArray(entries) || entries.length === 0) throw new SandboxOptionsError('organizations: at least one entry is required')
  const seen = new Set<string>()
  const clients = new Map<string, SandboxClient>()
  const dataCentres = new Map<string, DataCentreContext>()
  const organizations = entries.map((entry, index) => {
    const where = `organizations[${index}]`
    checkEntry(entry, where, seen)
    const org = newOrganization(entry, index, defaults) as SandboxContext
    const credentials = entry.client ?? ownClient(index, entry.organizationId)
    let client = clients.get(`${credentials.clientId}\n${credentials.refreshToken}`)
    if (client && client.dataCentre !== org.dataCentre) {
      throw new SandboxOptionsError(`${where}.client: its refresh token was granted in data centre ${client.dataCentre}; a Zoho user's grant reaches organizations of one data centre only`)
    }
    if (client && client.clientSecret !== credentials.clientSecret) throw new SandboxOptionsError(`${where}.client.clientSecret: differs from the one given with this client before`)
    let dc = dataCentres.get(org.dataCentre)
    if (!dc) {
      dc = { label: org.dataCentre, apiDomain: '', organizations: new Map(), first: org, clients: [], held: new Set() }
      dataCentres.set(org.dataCentre, dc)
    }
    if (!client) {
      if (dc.clients.some((c) => c.clientId === credentials.clientId && c.clientSecret !== credentials.clientSecret)) {
        throw new SandboxOptionsError(`${where}.client.clientSecret: client ${credentials.clientId} has another secret in data centre ${org.dataCentre}; a client has one secret per data centre`)
      }
      client = { ...credentials, dataCentre: org.dataCentre, tokens: new TokenRegistry(), organizations: new Map(), home: org }
      clients.set(`${credentials.clientId}\n${credentials.refreshToken}`, client)
      dc.clients.push(client)
    }
    org.client = client
    client.organizations.set(org.organizationId, org)
    dc.organizations.set(org.organizationId, org)
    return org
  })
  return { organizations, dataCentres: [...dataCentres.values()] }
}

/** An organization as it was at start: its seed data, no counters, an empty rate window and day, no faults (its limits stay). */
export function resetOrganization(org: SandboxContext): void {
  org.state.seed()
  org.state.counters = emptyCounters()
  org.window.clear()
  org.daily.clear()
  Object.assign(org.faults, NO_FAULTS)
}
