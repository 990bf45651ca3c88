import Fastify, { type FastifyInstance } from 'fastify'
import type { Socket } from 'node:net'
import { booksRoutes } from './books.ts'
import type { SandboxContext, SandboxCredentials, SandboxFaults, SandboxLimits } from './context.ts'
import { DailyCounter, SlidingWindow } from './limits.ts'
import { BooksState, emptyCounters, type SandboxBill, type SandboxCounters, type SandboxSeed } from './state.ts'
import { accountsRoutes, TokenRegistry } from './tokens.ts'

export type { SandboxCredentials, SandboxFaults, SandboxLimits } from './context.ts'

export interface SandboxOptions extends SandboxLimits {
  host: string
  port: number
  uniqueFields: string[]
  windowMs: number
  seed: SandboxSeed
  /**
   * The api_domain the token grant names. Default: this sandbox's own address. A different value stands
   * for an organization in another data centre than the one billbridge was configured for.
   */
  apiDomain?: string
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
  reset(): void
  close(): Promise<void>
}

export const SANDBOX_CREDENTIALS: SandboxCredentials = {
  clientId: '1000.BILLBRIDGESANDBOX',
  clientSecret: 'sandbox-client-secret',
  refreshToken: '1000.sandbox.refresh-token',
  organizationId: '60012345678',
}

const NO_FAULTS: SandboxFaults = { latencyMs: 0, errorRate5xx: 0, timeoutRate: 0, dropRate: 0, loseAnswerAfterCreateRate: 0, loseAnswerEndpoint: '', answerDelayMs: 0, rateLimitStormUntil: 0 }

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

/**
 * A local Zoho: the accounts token endpoint under /accounts and Books v3 under /books/v3, with Zoho's
 * envelopes, data rules and per-organization limits, and switches for faults. Counters let tests check
 * what Zoho saw. docs/zoho.md names the source of every rule.
 */
export async function startZohoSandbox(options: Partial<SandboxOptions> = {}): Promise<ZohoSandbox> {
  const opts = { ...DEFAULT_SANDBOX_OPTIONS, ...options }
  const state = new BooksState(opts.seed)
  const held = new Set<Socket>()
  const ctx: SandboxContext = {
    state,
    tokens: new TokenRegistry(),
    limits: { ratePerMinute: opts.ratePerMinute, concurrency: opts.concurrency, dailyLimit: opts.dailyLimit, tokenLifetimeSeconds: opts.tokenLifetimeSeconds, grantsPerWindow: opts.grantsPerWindow, maxAttachmentBytes: opts.maxAttachmentBytes },
    faults: { ...NO_FAULTS },
    credentials: SANDBOX_CREDENTIALS,
    uniqueFields: opts.uniqueFields,
    apiDomain: '',
    window: new SlidingWindow(opts.windowMs),
    daily: new DailyCounter(),
    inFlight: { n: 0 },
    held,
    count(endpoint) {
      state.counters.requestsByEndpoint[endpoint] = (state.counters.requestsByEndpoint[endpoint] ?? 0) + 1
    },
  }
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, forceCloseConnections: true })
  app.addHook('onRequest', async (request) => {
    const socket = request.raw.socket
    if (!held.has(socket)) {
      held.add(socket)
      socket.once('close', () => held.delete(socket))
    }
  })
  await app.register(accountsRoutes, { prefix: '/accounts', ctx })
  await app.register(booksRoutes, { prefix: '/books/v3', ctx })
  const address = await app.listen({ host: opts.host, port: opts.port })
  const url = address.replace('localhost', '127.0.0.1')
  ctx.apiDomain = opts.apiDomain ?? url

  return {
    ...SANDBOX_CREDENTIALS,
    url,
    accountsUrl: `${url}/accounts`,
    apiUrl: `${url}/books/v3`,
    state,
    counters: () => structuredClone(state.counters),
    bills: () => [...state.bills.values()],
    setFaults: (faults) => Object.assign(ctx.faults, faults),
    setLimits: (limits) => Object.assign(ctx.limits, limits),
    revokeTokens: () => ctx.tokens.revokeAll(),
    reset() {
      state.seed()
      state.counters = emptyCounters()
      ctx.tokens.clear()
      ctx.window.clear()
      ctx.daily.clear()
      Object.assign(ctx.faults, NO_FAULTS)
    },
    async close() {
      for (const socket of held) socket.destroy()
      await app.close()
    },
  }
}
