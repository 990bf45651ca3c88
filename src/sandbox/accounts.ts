import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import formbody from '@fastify/formbody'
import { SlidingWindow } from './limits.ts'
import type { SandboxContext } from './server.ts'

// Zoho keeps at most 30 active access tokens per refresh token; the 31st invalidates the oldest.
const ACTIVE_TOKENS_PER_REFRESH_TOKEN = 30

/** Issued access tokens and their expiry. */
export class TokenRegistry {
  private readonly tokens = new Map<string, number>()
  readonly grants = new SlidingWindow(60_000)

  issue(lifetimeSeconds: number): string {
    const token = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`
    this.tokens.set(token, Date.now() + lifetimeSeconds * 1000)
    if (this.tokens.size > ACTIVE_TOKENS_PER_REFRESH_TOKEN) this.tokens.delete(this.tokens.keys().next().value!)
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
  }
}

/** The accounts server's refresh grant: errors come back with HTTP 200 and an "error" field, as Zoho does. */
export async function accountsRoutes(app: FastifyInstance, { ctx }: { ctx: SandboxContext }): Promise<void> {
  await app.register(formbody)
  app.post('/oauth/v2/token', async (request) => {
    ctx.count('POST /oauth/v2/token')
    const params = { ...(request.query as Record<string, string>), ...((request.body as Record<string, string> | undefined) ?? {}) }
    if (params.grant_type !== 'refresh_token') return { error: 'unsupported_grant_type' }
    if (params.client_id !== ctx.credentials.clientId || params.client_secret !== ctx.credentials.clientSecret) return { error: 'invalid_client' }
    if (params.refresh_token !== ctx.credentials.refreshToken) return { error: 'invalid_code' }
    if (ctx.tokens.grants.count() >= ctx.limits.grantsPerMinute) {
      ctx.state.counters.refreshDenied++
      return { error: 'Access Denied', error_description: 'You have made too many requests continuously. Please try again after some time.' }
    }
    ctx.tokens.grants.add()
    ctx.state.counters.tokensIssued++
    return { access_token: ctx.tokens.issue(ctx.limits.tokenLifetimeSeconds), expires_in: ctx.limits.tokenLifetimeSeconds, api_domain: ctx.apiDomain, token_type: 'Bearer' }
  })
}
