import type { FastifyReply, FastifyRequest } from 'fastify'
import { admit, type DataCentreContext, type SandboxContext } from './context.ts'

export const BOOKS_PREFIX = '/books/v3'

// Zoho's rate-limit codes in 429 bodies (docs/zoho.md): per minute, per day, concurrent calls.
export const RATE_CODE_MINUTE = 44
export const RATE_CODE_DAILY = 45
export const RATE_CODE_CONCURRENCY = 1070

/** Zoho's error envelope: HTTP status plus { code, message }. */
export class BooksError extends Error {
  readonly status: number
  readonly code: number
  constructor(status: number, code: number, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Auth, organization, limits and injected faults, in the order a caller would meet them. A data centre's API
 * knows only the tokens its own accounts server issued, and serves only its own organizations.
 */
export async function gatekeeper(dc: DataCentreContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const route = (request.routeOptions.url ?? request.url.split('?')[0]!).replace(BOOKS_PREFIX, '')
  const endpoint = `${request.method} ${route}`
  const org = (request.query as Record<string, string | undefined>).organization_id ?? request.headers['x-com-zoho-books-organizationid']
  const named = typeof org === 'string' ? dc.organizations.get(org) : undefined
  // A request is counted by the organization it names; one naming none served here, by the data centre's first.
  const counted = named ?? dc.first
  counted.count(endpoint)
  counted.state.counters.booksRequests++
  const auth = /^Zoho-oauthtoken\s+(\S+)$/.exec(String(request.headers.authorization ?? ''))
  const client = auth ? dc.clients.find((c) => c.tokens.valid(auth[1]!)) : undefined
  // 57 covers an expired token, a missing scope and a wrong data centre or organization (docs/zoho.md).
  if (!client) {
    counted.state.counters.responses401++
    return reply.code(401).send({ code: 57, message: 'You are not authorized to perform this operation' })
  }
  if (!org) return reply.code(400).send({ code: 6041, message: 'organization_id is required.' })
  // Another data centre's organization, or one this client's user is not a member of, is unknown here.
  if (!named || !client.organizations.has(named.organizationId)) return reply.code(400).send({ code: 6041, message: 'This organization does not exist or you are not a member of it.' })
  const ctx = named
  admit(request, ctx, client)
  const counters = ctx.state.counters

  const refuse = (code: number, message: string) => {
    counters.responses429++
    counters.responses429ByCode[code] = (counters.responses429ByCode[code] ?? 0) + 1
    // Zoho sends no Retry-After header with its 429.
    return reply.code(429).send({ code, message })
  }
  if (Date.now() < ctx.faults.rateLimitStormUntil) return refuse(RATE_CODE_MINUTE, 'You have exceeded the maximum number of API requests per minute.')
  if (Date.now() < ctx.faults.dailyQuotaSpentUntil || !ctx.daily.allows(ctx.limits.dailyLimit)) return refuse(RATE_CODE_DAILY, 'You have reached the maximum number of API requests allowed for the day.')
  if (ctx.window.count() >= ctx.limits.ratePerMinute) return refuse(RATE_CODE_MINUTE, 'You have exceeded the maximum number of API requests per minute.')
  if (ctx.inFlight.n >= ctx.limits.concurrency) return refuse(RATE_CODE_CONCURRENCY, 'You have exceeded the maximum number of concurrent API requests.')
  ctx.daily.take()

  const inWindow = ctx.window.add()
  counters.acceptedBooksRequests++
  counters.maxRequestsInAnyWindow = Math.max(counters.maxRequestsInAnyWindow, inWindow)
  ctx.inFlight.n++
  counters.maxConcurrent = Math.max(counters.maxConcurrent, ctx.inFlight.n)
  let done = false
  const release = () => {
    if (!done) ctx.inFlight.n--
    done = true
  }
  reply.raw.once('close', release)

  const latency = ctx.faults.latencyMs
  const ms = typeof latency === 'number' ? latency : latency.min + Math.random() * (latency.max - latency.min)
  if (ms > 0) await sleep(ms)
  if (Math.random() < ctx.faults.dropRate) {
    counters.faults.dropped++
    reply.hijack()
    request.raw.socket.destroy()
    return reply
  }
  if (Math.random() < ctx.faults.timeoutRate) {
    // Never answers: the caller's own timeout has to end it (the socket closes with the sandbox).
    counters.faults.timedOut++
    reply.hijack()
    release()
    return reply
  }
  if (Math.random() < ctx.faults.errorRate5xx) {
    counters.faults.errors++
    counters.responses5xx++
    return reply.code(500).send({ code: 1000, message: 'Internal error' })
  }
  return undefined
}

/** After a successful write, injected faults may hold the answer back or cut the connection before it. */
export async function afterWrite(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (ctx.faults.answerDelayMs > 0) await sleep(ctx.faults.answerDelayMs)
  if (Math.random() >= ctx.faults.loseAnswerAfterCreateRate) return false
  if (ctx.faults.loseAnswerEndpoint && ctx.faults.loseAnswerEndpoint !== `${request.method} ${(request.routeOptions.url ?? '').replace(BOOKS_PREFIX, '')}`) return false
  ctx.state.counters.faults.lostAnswers++
  reply.hijack()
  request.raw.socket.destroy()
  return true
}

/** Zoho's list paging: `page` from 1, `per_page` at most 200 (default 200), and `page_context.has_more_page`. */
export function page<T>(items: T[], query: Record<string, string | undefined>): { items: T[]; page_context: { page: number; per_page: number; has_more_page: boolean } } {
  const perPage = query.per_page === undefined ? 200 : Number(query.per_page)
  const pageNo = query.page === undefined ? 1 : Number(query.page)
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 200) throw new BooksError(400, 2, 'Invalid value passed for per_page')
  if (!Number.isInteger(pageNo) || pageNo < 1) throw new BooksError(400, 2, 'Invalid value passed for page')
  const start = (pageNo - 1) * perPage
  return { items: items.slice(start, start + perPage), page_context: { page: pageNo, per_page: perPage, has_more_page: items.length > start + perPage } }
}
