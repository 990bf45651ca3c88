import type { Socket } from 'node:net'
import type { FastifyRequest } from 'fastify'
import type { TokenRegistry } from './tokens.ts'
import type { DailyCounter, SlidingWindow } from './limits.ts'
import type { BooksState } from './state.ts'

export interface SandboxLimits {
  /** requests per window (Zoho: 100 per 60 s) */
  ratePerMinute: number
  concurrency: number
  dailyLimit: number
  tokenLifetimeSeconds: number
  /** access tokens one refresh token may obtain per grant window (Zoho: 10 per 10 minutes) */
  grantsPerWindow: number
  maxAttachmentBytes: number
}

export interface SandboxFaults {
  latencyMs: number | { min: number; max: number }
  errorRate5xx: number
  timeoutRate: number
  dropRate: number
  loseAnswerAfterCreateRate: number
  /** when set, only answers of this endpoint (e.g. 'POST /bills/:id/attachment') are lost */
  loseAnswerEndpoint: string
  /** a write is done at once but its answer waits this long (a caller can die in between) */
  answerDelayMs: number
  /** every Books request answers 429 until this time (ms since epoch) */
  rateLimitStormUntil: number
  /** every Books request answers 429 code 45, as when the day's quota is spent, until this time (ms since epoch; see nextUtcMidnight) */
  dailyQuotaSpentUntil: number
}

/** What signs a client in at the accounts server: one Zoho user's grant to one OAuth client. */
export interface SandboxClientCredentials {
  clientId: string
  clientSecret: string
  refreshToken: string
}

export interface SandboxCredentials extends SandboxClientCredentials {
  organizationId: string
}

/**
 * An OAuth client with one user's refresh token: it lives in one data centre and reaches the organizations
 * that user is a member of. Its tokens, grant window and grant counters are its own.
 */
export interface SandboxClient extends SandboxClientCredentials {
  dataCentre: string
  tokens: TokenRegistry
  /** the organizations its user is a member of, by id, in the order given */
  organizations: Map<string, SandboxContext>
  /** its first organization: whose limits (grants per window, token lifetime) and counters its grants use */
  home: SandboxContext
}

/** One organization: its data, limits, fault switches and counters. The Books routes act on one per request. */
export interface SandboxContext {
  organizationId: string
  name: string
  dataCentre: string
  client: SandboxClient
  state: BooksState
  limits: SandboxLimits
  faults: SandboxFaults
  uniqueFields: string[]
  window: SlidingWindow
  daily: DailyCounter
  inFlight: { n: number }
  count(endpoint: string): void
}

/** One data centre: its own listener, accounts server and Books API, and the organizations and clients living there. */
export interface DataCentreContext {
  label: string
  /** what its token grants name as api_domain (its own address unless set otherwise) */
  apiDomain: string
  organizations: Map<string, SandboxContext>
  /** counts the requests that name no organization of this data centre */
  first: SandboxContext
  clients: SandboxClient[]
  held: Set<Socket>
}

const admitted = new WeakMap<FastifyRequest, { org: SandboxContext; client: SandboxClient }>()

/** The gatekeeper lets a request in for one organization, with the client its token belongs to. */
export function admit(request: FastifyRequest, org: SandboxContext, client: SandboxClient): void {
  admitted.set(request, { org, client })
}

/** The organization a Books request was let in for. */
export function orgOf(request: FastifyRequest): SandboxContext {
  const entry = admitted.get(request)
  if (!entry) throw new Error('sandbox: a Books route ran before the gatekeeper admitted its request')
  return entry.org
}

/** The client whose token a Books request carried. */
export function clientOf(request: FastifyRequest): SandboxClient {
  const entry = admitted.get(request)
  if (!entry) throw new Error('sandbox: a Books route ran before the gatekeeper admitted its request')
  return entry.client
}
