import Fastify, { type FastifyInstance } from 'fastify'
import type { Socket } from 'node:net'
import { accountsRoutes, TokenRegistry } from './accounts.ts'
import { booksRoutes } from './books.ts'
import { DailyCounter, SlidingWindow } from './limits.ts'
import { BooksState, emptyCounters, type SandboxBill, type SandboxCounters } from './state.ts'

export interface SandboxLimits {
  /** requests per window (Zoho: 100 per 60 s) */
  ratePerMinute: number
  concurrency: number
  dailyLimit: number
  tokenLifetimeSeconds: number
  grantsPerMinute: number
  maxAttachmentBytes: number
}

export interface SandboxFaults {
  latencyMs: number | { min: number; max: number }
  errorRate5xx: number
  timeoutRate: number
  dropRate: number
  loseAnswerAfterCreateRate: number
  /** a write is done at once but its answer waits this long (a caller can die in between) */
  answerDelayMs: number
  /** every Books request answers 429 until this time (ms since epoch) */
  rateLimitStormUntil: number
}

export interface SandboxOptions extends SandboxLimits {
  host: string
  port: number
  uniqueFields: string[]
  rejectDuplicateBillNumbers: boolean
  windowMs: number
}

export interface SandboxCredentials {
  clientId: string
  clientSecret: string
  refreshToken: string
  organizationId: string
}

export interface SandboxContext {
  state: BooksState
  tokens: TokenRegistry
  limits: SandboxLimits
  faults: SandboxFaults
  credentials: SandboxCredentials
  uniqueFields: string[]
  rejectDuplicateBillNumbers: boolean
  apiDomain: string
  window: SlidingWindow
  daily: DailyCounter
  inFlight: { n: number }
  held: Set<Socket>
  count(endpoint: string): void
}

/** The ZOHO_* settings that point billbridge at `sandbox` as if it were Zoho. */
export function sandboxZohoEnv(sandbox: ZohoSandbox): Record<string, string> {
  return {
    ZOHO_ACCOUNTS_URL: sandbox.accountsUrl,
    ZOHO_API_URL: sandbox.apiUrl,
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

const NO_FAULTS: SandboxFaults = { latencyMs: 0, errorRate5xx: 0, timeoutRate: 0, dropRate: 0, loseAnswerAfterCreateRate: 0, answerDelayMs: 0, rateLimitStormUntil: 0 }

export const DEFAULT_SANDBOX_OPTIONS: SandboxOptions = {
  host: '127.0.0.1',
  port: 0,
  ratePerMinute: 100,
  concurrency: 10,
  dailyLimit: 1_000_000,
  tokenLifetimeSeconds: 3600,
  grantsPerMinute: 5,
  maxAttachmentBytes: 10 * 1024 * 1024,
  uniqueFields: ['cf_netsuite_id'],
  rejectDuplicateBillNumbers: false,
  windowMs: 60_000,
}

/**
 * A local Zoho: the accounts token endpoint under /accounts and Books v3 under /books/v3, with Zoho's
 * envelopes, its per-organization limits and switches for faults. Counters let tests check what Zoho saw.
 */
export async function startZohoSandbox(options: Partial<SandboxOptions> = {}): Promise<ZohoSandbox> {
  const opts = { ...DEFAULT_SANDBOX_OPTIONS, ...options }
  const state = new BooksState()
  const held = new Set<Socket>()
  const ctx: SandboxContext = {
    state,
    tokens: new TokenRegistry(),
    limits: { ratePerMinute: opts.ratePerMinute, concurrency: opts.concurrency, dailyLimit: opts.dailyLimit, tokenLifetimeSeconds: opts.tokenLifetimeSeconds, grantsPerMinute: opts.grantsPerMinute, maxAttachmentBytes: opts.maxAttachmentBytes },
    faults: { ...NO_FAULTS },
    credentials: SANDBOX_CREDENTIALS,
    uniqueFields: opts.uniqueFields,
    rejectDuplicateBillNumbers: opts.rejectDuplicateBillNumbers,
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
  ctx.apiDomain = url

  return {
    ...SANDBOX_CREDENTIALS,
    url,
    accountsUrl: `${url}/accounts`,
    apiUrl: `${url}/books/v3`,
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
