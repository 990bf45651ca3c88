import { createHash } from 'node:crypto'
import type pg from 'pg'
import { Agent } from 'undici'
import type { ZohoLimits } from '../config.ts'
import type { Logger } from '../logger.ts'
import type { DataCentre } from './data-centres.ts'
import { createBooksClient, type RequestOutcome } from './books-client.ts'
import { createConcurrencyGate } from './concurrency.ts'
import { createRateLimiter } from './rate-limiter.ts'
import { grantKey, type OrganizationConfig } from './organizations.ts'
import { createTokenCache, type TokenCache, type ZohoCredentials } from './token-cache.ts'

/** Where one organization's Zoho lives and how billbridge signs in to it. */
export interface ZohoTarget extends ZohoCredentials {
  organizationId: string
  /** ZOHO_API_URL: overrides the api_domain the token grant names */
  apiUrl?: string
  /** the Books root until a token grant names the organization's api_domain */
  defaultApiUrl: string
  /** ZOHO_DC or the entry's dc, when given */
  dataCentre?: DataCentre
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
export function createZohoStack(options: { pool: pg.Pool; limits: ZohoLimits; target: ZohoTarget; encryptionKey: Buffer; logger: Logger; hooks?: ZohoStackHooks; tokens?: TokenCache }) {
  const { pool, limits, target, logger, hooks = {} } = options
  const dispatcher = new Agent({ connections: limits.maxConcurrency * 2, connectTimeout: Math.min(10_000, limits.timeoutMs), headersTimeout: limits.timeoutMs, bodyTimeout: limits.timeoutMs, keepAliveTimeout: 30_000 })
  const tokens = options.tokens ?? createTokenCache({ pool, credentials: target, key: grantKeyOf(target), encryptionKey: options.encryptionKey, dispatcher, logger, ...(hooks.onRefresh ? { onRefresh: hooks.onRefresh } : {}) })
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

/** The token cache key of a target's OAuth grant (a hash: the row never names a secret). */
export function grantKeyOf(target: ZohoTarget): string {
  return grantKey(target, (text) => createHash('sha256').update(text).digest('hex').slice(0, 32))
}

/**
 * One stack per organization. Organizations reached through the same OAuth grant (one Zoho user in several
 * organizations of a data centre) share one token cache, so the fleet refreshes that token once per lifetime;
 * each keeps its own bucket, slots and daily counter, since Zoho counts those per organization.
 */
export function createZohoStacks(options: { pool: pg.Pool; organizations: readonly OrganizationConfig[]; encryptionKey: Buffer; logger: Logger; hooks?: (organization: OrganizationConfig) => ZohoStackHooks }): Map<string, ZohoStack> {
  const byGrant = new Map<string, TokenCache>()
  const stacks = new Map<string, ZohoStack>()
  for (const organization of options.organizations) {
    const hooks = options.hooks?.(organization) ?? {}
    const key = grantKeyOf(organization.target)
    const stack = createZohoStack({ pool: options.pool, limits: organization.limits, target: organization.target, encryptionKey: options.encryptionKey, logger: options.logger.child({ organizationId: organization.organizationId }), hooks, ...(byGrant.has(key) ? { tokens: byGrant.get(key)! } : {}) })
    byGrant.set(key, stack.tokens)
    stacks.set(organization.organizationId, stack)
  }
  return stacks
}
