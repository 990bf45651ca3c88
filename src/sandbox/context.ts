import type { Socket } from 'node:net'
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
}

export interface SandboxCredentials {
  clientId: string
  clientSecret: string
  refreshToken: string
  organizationId: string
}

/** What the accounts and Books routes share: the organization's data, its limits and the fault switches. */
export interface SandboxContext {
  state: BooksState
  tokens: TokenRegistry
  limits: SandboxLimits
  faults: SandboxFaults
  credentials: SandboxCredentials
  uniqueFields: string[]
  apiDomain: string
  window: SlidingWindow
  daily: DailyCounter
  inFlight: { n: number }
  held: Set<Socket>
  count(endpoint: string): void
}
