import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import type { Logger } from '../logger.ts'
import type { ConcurrencyGate } from './concurrency.ts'
import { ZohoError } from './errors.ts'
import type { RateLimiter } from './rate-limiter.ts'
import type { AccessToken, TokenCache } from './token-cache.ts'

export interface BooksRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  /** label for counters and logs, e.g. 'POST /bills' */
  endpoint: string
  query?: Record<string, string>
  json?: unknown
  /** sends multipart/form-data: the JSON as the JSONString field and the PDF as the attachment part */
  attachment?: { fileName: string; open: () => Promise<AsyncIterable<Uint8Array>> }
  headers?: Record<string, string>
}

export type RequestOutcome = 'ok' | 'rejected' | 'rate_limited' | 'unauthorized' | 'server_error' | 'network_error'

export interface BooksClientOptions {
  /** ZOHO_API_URL: overrides the api_domain of the token grant */
  apiUrl?: string
  /** the configured data centre's Books root, used until a token grant names the api_domain */
  defaultApiUrl: string
  organizationId: string
  tokens: TokenCache
  limiter: RateLimiter
  gate: ConcurrencyGate
  dispatcher: Dispatcher
  logger: Logger
  /** a permit wait longer than this is handed back to the caller (the job is re-scheduled) */
  maxPermitWaitMs?: number
  onRequest?: (endpoint: string, outcome: RequestOutcome) => void
  /** Zoho said the day's request quota is spent (code 45); called once a day across every process */
  onDailyLimit?: (until: Date) => void
}

// Zoho's 429 codes (docs/zoho.md): per-minute budget, daily quota, concurrent requests.
const DAILY_LIMIT_CODE = 45
const CONCURRENCY_CODE = 1070
// An organization the token's user does not reach, or none of that id in the data centre (docs/zoho.md).
const ORGANIZATION_UNKNOWN_CODE = 6041
// After a 1070 the organization runs with one slot fewer for this long, then returns to its configured slots.
const CONCURRENCY_BACKOFF_SECONDS = 60

/** The Books v3 root for an api_domain from a token grant. */
export function booksRootFor(apiDomain: string): string {
  return `${apiDomain.replace(/\/+$/, '')}/books/v3`
}

/** Thrown when the organization's budget has no permit for a while; the caller re-schedules. */
export class PermitWait extends ZohoError {
  readonly retryAt: Date
  constructor(waitMs: number) {
    super('rate_limited', 'ZOHO_RATE_BUDGET_WAIT', `no Zoho request budget for ${Math.ceil(waitMs / 1000)} s`)
    this.retryAt = new Date(Date.now() + waitMs)
  }
}

interface Envelope {
  code?: number
  message?: string
  [key: string]: unknown
}

/**
 * Zoho Books v3 over undici. Every request, lookups included, takes a permit from the organization's
 * bucket and a concurrency slot; a 401 drops the cached token and retries once with a new one.
 */
export function createBooksClient(options: BooksClientOptions) {
  const maxWait = options.maxPermitWaitMs ?? 15_000

  async function permit(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const decision = await options.limiter.take()
      if (decision.granted) return
      if (decision.waitMs > maxWait) throw new PermitWait(decision.waitMs)
      if (signal?.aborted) throw new ZohoError('retryable', 'DELIVERY_ABORTED', 'the job was stopped while waiting for Zoho budget')
      await new Promise((resolve) => setTimeout(resolve, Math.max(5, decision.waitMs)))
    }
  }

  function rootFor(token: AccessToken): string {
    return options.apiUrl ?? (token.apiDomain ? booksRootFor(token.apiDomain) : options.defaultApiUrl)
  }

  async function send(req: BooksRequest, token: AccessToken): Promise<{ status: number; body: Envelope | null }> {
    const url = new URL(rootFor(token) + req.path)
    url.searchParams.set('organization_id', options.organizationId)
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v)
    const headers: Record<string, string> = { authorization: `Zoho-oauthtoken ${token.token}`, accept: 'application/json', ...req.headers }
    let body: string | Readable | undefined
    if (req.attachment) {
      const boundary = `----billbridge${randomBytes(12).toString('hex')}`
      headers['content-type'] = `multipart/form-data; boundary=${boundary}`
      body = Readable.from(multipart(boundary, JSON.stringify(req.json ?? {}), req.attachment.fileName, await req.attachment.open()))
    } else if (req.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(req.json)
    }
    const res = await request(url, { method: req.method, headers, body, dispatcher: options.dispatcher })
    const text = await res.body.text()
    let parsed: Envelope | null = null
    try {
      parsed = text ? (JSON.parse(text) as Envelope) : null
    } catch {
      parsed = null
    }
    return { status: res.statusCode, body: parsed }
  }

  async function call<T extends Envelope>(req: BooksRequest, signal?: AbortSignal): Promise<T> {
    for (let authTry = 0; ; authTry++) {
      let token: AccessToken | undefined
      let res
      try {
        // The concurrency slot first, then the permit, then at once the request: a permit taken before
        // waiting for a slot would let requests bunch up behind the gate and crowd one Zoho window. The
        // token is read last, so a short-lived one cannot expire while the request waits its turn.
        res = await options.gate.run(async () => {
          await permit(signal)
          token = await options.tokens.get()
          return send(req, token)
        }, signal)
      } catch (err) {
        if (err instanceof ZohoError) throw err
        options.onRequest?.(req.endpoint, 'network_error')
        throw new ZohoError('retryable', 'ZOHO_UNREACHABLE', `${req.endpoint}: no answer from Zoho (${(err as Error).message})`)
      }
      const zohoCode = typeof res.body?.code === 'number' ? res.body.code : null
      const message = res.body?.message ?? `HTTP ${res.status}`
      if (res.status === 401) {
        options.onRequest?.(req.endpoint, 'unauthorized')
        const decision = await options.tokens.unauthorized(token!.token)
        if (decision === 'retry' && authTry < 2) continue
        throw new ZohoError('permanent', 'ZOHO_UNAUTHORIZED', `Zoho refused a freshly issued token (code ${zohoCode ?? 'none'}: ${message}) at ${rootFor(token!)}: check the OAuth scopes (ZohoBooks.bills, contacts, accountants, settings), ZOHO_ORGANIZATION_ID, and that ZOHO_DC / ZOHO_API_URL name the organization's data centre`, 401, zohoCode)
      }
      if (res.status === 429) {
        options.onRequest?.(req.endpoint, 'rate_limited')
        throw await rateLimited(req, zohoCode, message)
      }
      if (res.status >= 500 || (res.status >= 200 && res.status < 300 && res.body === null)) {
        options.onRequest?.(req.endpoint, 'server_error')
        throw new ZohoError('retryable', 'ZOHO_SERVER_ERROR', `${req.endpoint}: Zoho answered HTTP ${res.status}: ${message}`, res.status, zohoCode)
      }
      if (zohoCode === ORGANIZATION_UNKNOWN_CODE) {
        options.onRequest?.(req.endpoint, 'rejected')
        throw new ZohoError('permanent', 'ZOHO_ORGANIZATION_UNKNOWN', `Zoho at ${rootFor(token!)} does not know organization ${options.organizationId}, or the Zoho user of its refresh token is not a member of it (code 6041: ${message}): check the organization's id, data centre and credentials (its entry of ZOHO_ORGANIZATIONS, or ZOHO_ORGANIZATION_ID and ZOHO_DC), then retry its bills`, res.status, zohoCode)
      }
      if (res.status >= 400 || (zohoCode !== null && zohoCode !== 0)) {
        options.onRequest?.(req.endpoint, 'rejected')
        throw new ZohoError('permanent', 'ZOHO_REJECTED', `${req.endpoint}: Zoho refused the request (code ${zohoCode ?? 'none'}): ${message}`, res.status, zohoCode)
      }
      options.onRequest?.(req.endpoint, 'ok')
      await options.tokens.accepted(token!)
      return res.body as T
    }
  }

  /** A 429 pauses what its code says: the minute window, the rest of the day, or one concurrency slot. */
  async function rateLimited(req: BooksRequest, zohoCode: number | null, message: string): Promise<ZohoError> {
    let until: Date
    let what: string
    if (zohoCode === DAILY_LIMIT_CODE) {
      const blocked = await options.limiter.blockForTheDay()
      until = blocked.until
      what = `the organization's daily Zoho quota is spent; every request waits until ${until.toISOString()}`
      if (blocked.claimed) options.onDailyLimit?.(until)
    } else if (zohoCode === CONCURRENCY_CODE) {
      await options.limiter.narrowConcurrency(CONCURRENCY_BACKOFF_SECONDS)
      until = new Date(Date.now() + 500 + Math.random() * 2_000)
      what = `too many requests in flight; the organization runs with one slot fewer for ${CONCURRENCY_BACKOFF_SECONDS} s`
    } else {
      until = await options.limiter.block()
      what = `every request for the organization waits until ${until.toISOString()}`
    }
    const err = new ZohoError('rate_limited', 'ZOHO_RATE_LIMITED', `${req.endpoint}: Zoho answered 429 (code ${zohoCode ?? 'none'}: ${message}); ${what}`, 429, zohoCode)
    return Object.assign(err, { retryAt: until })
  }

  /** Every page of a list (`page`, `per_page` ≤ 200, `page_context.has_more_page`), up to `maxPages`. */
  async function callPages<T>(req: BooksRequest, listKey: string, signal?: AbortSignal, maxPages = 50): Promise<{ items: T[]; complete: boolean }> {
    const items: T[] = []
    for (let pageNo = 1; pageNo <= maxPages; pageNo++) {
      const res = await call<Envelope>({ ...req, query: { ...req.query, page: String(pageNo), per_page: '200' } }, signal)
      items.push(...((res[listKey] as T[] | undefined) ?? []))
      const context = res.page_context as { has_more_page?: boolean } | undefined
      if (!context?.has_more_page) return { items, complete: true }
    }
    return { items, complete: false }
  }

  return { call, callPages, rootFor }
}

export type BooksClient = ReturnType<typeof createBooksClient>

async function* multipart(boundary: string, json: string, fileName: string, file: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const safeName = fileName.replace(/["\r\n\\]/g, '_')
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="JSONString"\r\n\r\n${json}\r\n`)
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="${safeName}"\r\nContent-Type: application/pdf\r\n\r\n`)
  yield* file
  yield Buffer.from(`\r\n--${boundary}--\r\n`)
}
