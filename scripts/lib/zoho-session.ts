// What the operator tools that talk to Zoho (`doctor`, `zoho-contract`) share: the same Zoho stack as the
// workers (token row, rate bucket, concurrency slots), and an exact count of the HTTP requests they made.
import diagnostics from 'node:diagnostics_channel'
import { request, type Dispatcher } from 'undici'
import type pg from 'pg'
import type { ZohoLimits } from '../../src/config.ts'
import type { Logger } from '../../src/logger.ts'
import { createZohoStack, type ZohoStack, type ZohoTarget } from '../../src/zoho/stack.ts'

/** Every HTTP request this process makes, counted where undici creates it: Books calls and token grants alike. */
export interface RequestCounter {
  total(): number
  /** e.g. { 'GET /books/v3/organizations/600…': 1, 'POST /accounts/oauth/v2/token': 1 } */
  byPath(): Record<string, number>
  stop(): void
}

export function countRequests(): RequestCounter {
  const seen: Record<string, number> = {}
  let n = 0
  const onCreate = (message: unknown) => {
    const req = (message as { request: { method: string; path: string } }).request
    const key = `${req.method} ${req.path.split('?')[0]}`
    seen[key] = (seen[key] ?? 0) + 1
    n++
  }
  diagnostics.subscribe('undici:request:create', onCreate)
  return {
    total: () => n,
    byPath: () => ({ ...seen }),
    stop: () => diagnostics.unsubscribe('undici:request:create', onCreate),
  }
}

export interface ZohoSession {
  target: ZohoTarget
  limits: ZohoLimits
  stack: ZohoStack
  /** refreshes of the shared token row made by this process */
  refreshes: () => number
  requests: RequestCounter
  close(): Promise<void>
}

/** The workers' Zoho stack for one operator command, with its requests counted. */
export function openZohoSession(options: { pool: pg.Pool; limits: ZohoLimits; target: ZohoTarget; encryptionKey: Buffer; logger: Logger }): ZohoSession {
  const requests = countRequests()
  let refreshes = 0
  const stack = createZohoStack({ ...options, hooks: { onRefresh: () => refreshes++ } })
  return {
    target: options.target,
    limits: options.limits,
    stack,
    refreshes: () => refreshes,
    requests,
    async close() {
      requests.stop()
      await stack.dispatcher.close()
    },
  }
}

export interface TokenGrant {
  status: number
  body: Record<string, unknown>
}

/**
 * One refresh-token grant straight from the accounts server, not stored anywhere: the raw envelope, for
 * checking it (zoho-contract) or for proving the refresh credentials work while a cached token is still
 * valid (doctor). It spends one of Zoho's 10 grants per 10 minutes, like any refresh.
 */
export async function grantOnce(target: ZohoTarget, dispatcher: Dispatcher): Promise<TokenGrant> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: target.clientId, client_secret: target.clientSecret, refresh_token: target.refreshToken })
  const res = await request(`${target.accountsUrl}/oauth/v2/token`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
  const text = await res.body.text()
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    body = { error: `not JSON (HTTP ${res.statusCode})` }
  }
  return { status: res.statusCode, body }
}
