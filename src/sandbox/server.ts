import Fastify, { type FastifyInstance } from 'fastify'
import { booksRoutes } from './books.ts'
import type { DataCentreContext, SandboxContext, SandboxCredentials, SandboxFaults, SandboxLimits } from './context.ts'
import { buildOrganizations, DEFAULT_DATA_CENTRE, resetOrganization, SANDBOX_CREDENTIALS, SandboxOptionsError, type SandboxOrganizationOptions } from './organizations.ts'
import type { BooksState, SandboxBill, SandboxCounters, SandboxSeed } from './state.ts'
import { accountsRoutes } from './tokens.ts'

export type { SandboxClientCredentials, SandboxCredentials, SandboxFaults, SandboxLimits } from './context.ts'
export { nextUtcMidnight } from './limits.ts'
export { SANDBOX_CREDENTIALS, SandboxOptionsError, type SandboxOrganizationOptions } from './organizations.ts'

export interface SandboxOptions extends SandboxLimits {
  host: string
  /** the first organization's data centre's port (0: any free one) */
  port: number
  uniqueFields: string[]
  windowMs: number
  seed: SandboxSeed
  /**
   * The api_domain the first organization's data centre names in its token grants. Default: its own address.
   * A different value stands for an organization in another data centre than the one billbridge was configured for.
   */
  apiDomain?: string
  /**
   * Several organizations, each with its own data, limits, faults and counters, in one or more data centres
   * (each served on its own port). Default: one organization, SANDBOX_CREDENTIALS, in data centre com.
   */
  organizations?: SandboxOrganizationOptions[]
  /** by data centre label: its port and api_domain (the first data centre's default to `port` and `apiDomain`) */
  dataCentres?: Record<string, { port?: number; apiDomain?: string }>
}

/**
 * The ZOHO_* settings that point billbridge at `sandbox` as if it were Zoho. As with a real organization,
 * no ZOHO_API_URL: the Books root comes from the api_domain of the token grant.
 */
export function sandboxZohoEnv(sandbox: ZohoSandbox): Record<string, string> {
  return {
    ZOHO_ACCOUNTS_URL: sandbox.accountsUrl,
    ZOHO_CLIENT_ID: sandbox.clientId,
    ZOHO_CLIENT_SECRET: sandbox.clientSecret,
    ZOHO_REFRESH_TOKEN: sandbox.refreshToken,
    ZOHO_ORGANIZATION_ID: sandbox.organizationId,
  }
}

/**
 * ZOHO_ORGANIZATIONS for billbridge: an entry per organization `routes` names (in the sandbox's order), with
 * the NetSuite subsidiaries routed to it and its data centre's accounts server. An entry whose client an
 * earlier entry already gave names that entry in `credentialsFrom` instead of repeating the credentials.
 */
export function sandboxOrganizationsEnv(sandbox: ZohoSandbox, routes: Record<string, string[]>): { ZOHO_ORGANIZATIONS: string } {
  for (const [id, subsidiaries] of Object.entries(routes)) {
    sandbox.organization(id)
    if (!Array.isArray(subsidiaries) || subsidiaries.length === 0 || !subsidiaries.every((s) => typeof s === 'string' && s.trim() !== '')) {
      throw new SandboxOptionsError(`routes[${id}]: a list of subsidiary names (or ["*"]) is required`)
    }
  }
  const firstWithClient = new Map<string, string>()
  const entries = sandbox.organizations().filter((o) => Object.hasOwn(routes, o.organizationId)).map((o) => {
    const entry = { organizationId: o.organizationId, subsidiaries: routes[o.organizationId]!, accountsUrl: o.accountsUrl }
    const client = `${o.accountsUrl}\n${o.clientId}\n${o.refreshToken}`
    const from = firstWithClient.get(client)
    if (from !== undefined) return { ...entry, credentialsFrom: from }
    firstWithClient.set(client, o.organizationId)
    return { ...entry, clientId: o.clientId, clientSecret: o.clientSecret, refreshToken: o.refreshToken }
  })
  return { ZOHO_ORGANIZATIONS: JSON.stringify(entries) }
}

/** One organization of the sandbox: where it lives, the client that reaches it, its data and its switches. */
export interface SandboxOrganization extends SandboxCredentials {
  name: string
  dataCentre: string
  /** its data centre's address */
  url: string
  accountsUrl: string
  apiUrl: string
  /** the organization's data, to seed or inspect in tests */
  state: BooksState
  counters(): SandboxCounters
  bills(): SandboxBill[]
  setFaults(faults: Partial<SandboxFaults>): void
  /** grantsPerWindow and tokenLifetimeSeconds are its client's when it is the client's first organization */
  setLimits(limits: Partial<SandboxLimits>): void
  /** Makes its client's access tokens invalid: other organizations of that client lose them too. */
  revokeTokens(): void
  /** Its data, counters, rate window, day and faults as at start; its limits and its client's tokens stay. */
  reset(): void
}

/** The sandbox; the fields it shares with SandboxOrganization are its first organization's. */
export interface ZohoSandbox extends SandboxCredentials {
  url: string
  accountsUrl: string
  apiUrl: string
  counters(): SandboxCounters
  bills(): SandboxBill[]
  /** the organization's data, to seed or inspect in tests */
  state: BooksState
  setFaults(faults: Partial<SandboxFaults>): void
  setLimits(limits: Partial<SandboxLimits>): void
  /** Makes every issued access token invalid, as a revocation in Zoho would. */
  revokeTokens(): void
  /** Every organization and every client as at start (limits stay). */
  reset(): void
  close(): Promise<void>
  organizations(): SandboxOrganization[]
  /** throws SandboxOptionsError for an id the sandbox does not serve */
  organization(id: string): SandboxOrganization
}

export const DEFAULT_SANDBOX_OPTIONS: SandboxOptions = {
  host: '127.0.0.1',
  port: 0,
  ratePerMinute: 100,
  concurrency: 10,
  dailyLimit: 1_000_000,
  tokenLifetimeSeconds: 3600,
  grantsPerWindow: 10,
  maxAttachmentBytes: 10 * 1024 * 1024,
  uniqueFields: ['cf_netsuite_id'],
  windowMs: 60_000,
  seed: {},
}

/** One data centre's listener: its accounts server under /accounts and Books v3 under /books/v3. */
async function listenDataCentre(dc: DataCentreContext, host: string, port: number, apiDomain: string | undefined): Promise<{ url: string; app: FastifyInstance }> {
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, forceCloseConnections: true })
  app.addHook('onRequest', async (request) => {
    const socket = request.raw.socket
    if (!dc.held.has(socket)) {
      dc.held.add(socket)
      socket.once('close', () => dc.held.delete(socket))
    }
  })
  await app.register(accountsRoutes, { prefix: '/accounts', dc })
  await app.register(booksRoutes, { prefix: '/books/v3', dc })
  const address = await app.listen({ host, port })
  const url = address.replace('localhost', '127.0.0.1')
  dc.apiDomain = apiDomain ?? url
  return { url, app }
}

async function closeDataCentre(dc: DataCentreContext, app: FastifyInstance): Promise<void> {
  for (const socket of dc.held) socket.destroy()
  await app.close()
}

function organizationHandle(org: SandboxContext, url: string): SandboxOrganization {
  return {
    organizationId: org.organizationId,
    name: org.name,
    dataCentre: org.dataCentre,
    clientId: org.client.clientId,
    clientSecret: org.client.clientSecret,
    refreshToken: org.client.refreshToken,
    url,
    accountsUrl: `${url}/accounts`,
    apiUrl: `${url}/books/v3`,
    state: org.state,
    counters: () => structuredClone(org.state.counters),
    bills: () => [...org.state.bills.values()],
    setFaults: (faults) => Object.assign(org.faults, faults),
    setLimits: (limits) => Object.assign(org.limits, limits),
    revokeTokens: () => org.client.tokens.revokeAll(),
    reset: () => resetOrganization(org),
  }
}

/**
 * A local Zoho: per data centre, the accounts token endpoint under /accounts and Books v3 under /books/v3 on
 * a port of its own, with Zoho's envelopes, data rules and per-organization limits, and switches for faults.
 * Counters let tests check what Zoho saw. docs/zoho.md names the source of every rule.
 */
export async function startZohoSandbox(options: Partial<SandboxOptions> = {}): Promise<ZohoSandbox> {
  const opts = { ...DEFAULT_SANDBOX_OPTIONS, ...options }
  const limits: SandboxLimits = { ratePerMinute: opts.ratePerMinute, concurrency: opts.concurrency, dailyLimit: opts.dailyLimit, tokenLifetimeSeconds: opts.tokenLifetimeSeconds, grantsPerWindow: opts.grantsPerWindow, maxAttachmentBytes: opts.maxAttachmentBytes }
  const entries = opts.organizations ?? [{ organizationId: SANDBOX_CREDENTIALS.organizationId, dataCentre: DEFAULT_DATA_CENTRE }]
  const { organizations, dataCentres } = buildOrganizations(entries, { limits, seed: opts.seed, uniqueFields: opts.uniqueFields, windowMs: opts.windowMs })
  const listening: Array<{ dc: DataCentreContext; app: FastifyInstance }> = []
  const urls = new Map<string, string>()
  try {
    for (const [i, dc] of dataCentres.entries()) {
      const own = opts.dataCentres?.[dc.label]
      const { url, app } = await listenDataCentre(dc, opts.host, own?.port ?? (i === 0 ? opts.port : 0), own?.apiDomain ?? (i === 0 ? opts.apiDomain : undefined))
      listening.push({ dc, app })
      urls.set(dc.label, url)
    }
  } catch (err) {
    await Promise.all(listening.map(({ dc, app }) => closeDataCentre(dc, app)))
    throw err
  }
  const handles = organizations.map((org) => organizationHandle(org, urls.get(org.dataCentre)!))
  const byId = new Map(handles.map((h) => [h.organizationId, h]))
  const first = handles[0]!

  return {
    organizationId: first.organizationId,
    clientId: first.clientId,
    clientSecret: first.clientSecret,
    refreshToken: first.refreshToken,
    url: first.url,
    accountsUrl: first.accountsUrl,
    apiUrl: first.apiUrl,
    state: first.state,
    counters: first.counters,
    bills: first.bills,
    setFaults: first.setFaults,
    setLimits: first.setLimits,
    revokeTokens() {
      for (const dc of dataCentres) for (const client of dc.clients) client.tokens.revokeAll()
    },
    reset() {
      for (const org of organizations) resetOrganization(org)
      for (const dc of dataCentres) for (const client of dc.clients) client.tokens.clear()
    },
    async close() {
      await Promise.all(listening.map(({ dc, app }) => closeDataCentre(dc, app)))
    },
    organizations: () => [...handles],
    organization(id) {
      const handle = byId.get(id)
      if (!handle) throw new SandboxOptionsError(`organization ${id}: the sandbox serves none by this id (it serves ${[...byId.keys()].join(', ')})`)
      return handle
    },
  }
}
