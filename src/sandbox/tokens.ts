import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'
import type { DataCentreContext } from './context.ts'
import { SlidingWindow } from './limits.ts'

// Zoho keeps about 15 live access tokens per refresh token; the 16th evicts the oldest (docs/zoho.md).
export const LIVE_TOKENS_PER_REFRESH_TOKEN = 15
// Zoho grants at most 10 access tokens per refresh token in any 10 minutes (docs/zoho.md).
export const GRANT_WINDOW_MS = 600_000

/** Issued access tokens and their expiry, oldest first. */
export class TokenRegistry {
  private readonly tokens = new Map<string, number>()
  readonly grants = new SlidingWindow(GRANT_WINDOW_MS)
  evicted = 0

  issue(lifetimeSeconds: number): string {
    const token = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`
    const now = Date.now()
    for (const [old, expires] of this.tokens) if (expires <= now) this.tokens.delete(old)
    this.tokens.set(token, now + lifetimeSeconds * 1000)
    if (this.tokens.size > LIVE_TOKENS_PER_REFRESH_TOKEN) {
      this.tokens.delete(this.tokens.keys().next().value!)
      this.evicted++
    }
    return token
  }

  valid(token: string): boolean {
    const expires = this.tokens.get(token)
    return expires !== undefined && expires > Date.now()
  }

  revokeAll(): void {
    this.tokens.clear()
  }

  clear(): void {
    this.tokens.clear()
    this.grants.clear()
    this.evicted = 0
  }
}

/**
 * The accounts server's refresh grant: errors come back with HTTP 200 and an "error" field, as Zoho does. A data
 * centre's accounts server knows only the clients registered there: another centre's client is invalid_client.
 */
export async function accountsRoutes(app: FastifyInstance, { dc }: { dc: DataCentreContext }): Promise<void> {
  await app.register(formbody)
  app.post('/oauth/v2/token', async (request) => {
    const params = { ...(request.query as Record<string, string>), ...((request.body as Record<string, string> | undefined) ?? {}) }
    const sameId = dc.clients.filter((c) => c.clientId === params.client_id)
    const client = sameId.find((c) => c.refreshToken === params.refresh_token)
    const counted = (client ?? sameId[0])?.home ?? dc.first
    counted.count('POST /oauth/v2/token')
    if (params.grant_type !== 'refresh_token') return { error: 'unsupported_grant_type' }
    // A client has one secret per data centre (checked at start), so any of its grants names it.
    if (sameId.length === 0 || sameId[0]!.clientSecret !== params.client_secret) return { error: 'invalid_client' }
    if (!client) return { error: 'invalid_code' }
    const { limits, state } = client.home
    if (client.tokens.grants.count() >= limits.grantsPerWindow) {
      state.counters.refreshDenied++
      return { error: 'Access Denied', error_description: 'You have made too many requests continuously. Please try again after some time.' }
    }
    client.tokens.grants.add()
    state.counters.tokensIssued++
    const token = client.tokens.issue(limits.tokenLifetimeSeconds)
    state.counters.tokensEvicted = client.tokens.evicted
    return { access_token: token, expires_in: limits.tokenLifetimeSeconds, api_domain: dc.apiDomain, token_type: 'Bearer' }
  })
}
