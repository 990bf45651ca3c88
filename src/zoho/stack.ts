import type pg from 'pg'
import { Agent } from 'undici'
import type { ZohoLimits } from '../config.ts'
import type { Logger } from '../logger.ts'
import { createBooksClient, type RequestOutcome } from './books-client.ts'
import { createConcurrencyGate } from './concurrency.ts'
import { createRateLimiter } from './rate-limiter.ts'
import { createTokenCache, type ZohoCredentials } from './token-cache.ts'

/** Where one organization's Zoho lives and how billbridge signs in to it. */
export interface ZohoTarget extends ZohoCredentials {
  /** ZOHO_API_URL: overrides the api_domain the token grant names */
  apiUrl?: string
  /** the Books root until a token grant names the organization's api_domain */
  defaultApiUrl: string
}

export interface ZohoStackHooks {
  onRequest?: (endpoint: string, outcome: RequestOutcome) => void
  onRefresh?: () => void
  onDailyLimit?: (until: Date) => void
}

/**
 * The shared pieces every Zoho request goes through: the fleet-wide token, the organization's rate bucket
 * and concurrency slots, and the Books client over them. Workers, `doctor` and `zoho-contract` use the same.
 */
export function createZohoStack(options: { pool: pg.Pool; limits: ZohoLimits; target: ZohoTarget; encryptionKey: Buffer; logger: Logger; hooks?: ZohoStackHooks }) {
  const { pool, limits, target, logger, hooks = {} } = options
  const dispatcher = new Agent({ connections: limits.maxConcurrency * 2, connectTimeout: Math.min(10_000, limits.timeoutMs), headersTimeout: limits.timeoutMs, bodyTimeout: limits.timeoutMs, keepAliveTimeout: 30_000 })
  const tokens = createTokenCache({ pool, credentials: target, encryptionKey: options.encryptionKey, dispatcher, logger, ...(hooks.onRefresh ? { onRefresh: hooks.onRefresh } : {}) })
  const limiter = createRateLimiter(pool, { key: `zoho:${target.organizationId}`, perMinute: limits.ratePerMinute, dailyLimit: limits.dailyLimit, windowSeconds: limits.rateWindowSeconds, maxConcurrency: limits.maxConcurrency })
  const gate = createConcurrencyGate(pool, { organizationId: target.organizationId, slots: limits.maxConcurrency })
  const books = createBooksClient({
    ...(target.apiUrl ? { apiUrl: target.apiUrl } : {}), defaultApiUrl: target.defaultApiUrl, organizationId: target.organizationId,
    tokens, limiter, gate, dispatcher, logger,
    ...(hooks.onDailyLimit ? { onDailyLimit: hooks.onDailyLimit } : {}), ...(hooks.onRequest ? { onRequest: hooks.onRequest } : {}),
  })
  return { dispatcher, tokens, limiter, gate, books }
}

export type ZohoStack = ReturnType<typeof createZohoStack>
