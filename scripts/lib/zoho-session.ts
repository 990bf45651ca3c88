// What the operator tools that talk to Zoho (`doctor`, `zoho-contract`) share: the same Zoho stack as the
// workers (token row, rate bucket, concurrency slots), and an exact count of the HTTP requests they made.
import diagnostics from 'node:diagnostics_channel'
import { request, type Dispatcher } from 'undici'
import type pg from 'pg'
import type { Config, ZohoLimits } from '../../src/config.ts'
import type { Logger } from '../../src/logger.ts'
import { SANDBOX_CREDENTIALS } from '../../src/sandbox/server.ts'
import { defaultOrganization, sandboxOrganization, type OrganizationConfig } from '../../src/zoho/organizations.ts'
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

/** The organizations an operator command works on: the configured ones, or in sandbox mode the sandbox's one. */
export function configuredOrganizations(config: Config): OrganizationConfig[] {
  if (config.zoho.mode === 'remote') return config.organizations
  return [sandboxOrganization({ ...SANDBOX_CREDENTIALS, accountsUrl: '', defaultApiUrl: '' }, config.zoho)]
}

/** How messages list organizations: "id (name)", the entry's name or else its label. */
export function organizationNames(organizations: readonly OrganizationConfig[]): string {
  return organizations.map((o) => `${o.organizationId} (${o.name ?? o.label})`).join(', ')
}

/** An --organization a command cannot use (unknown, or missing where several are configured): one line, exit 2. */
export class OrganizationChoiceError extends Error {}

/**
 * The organization a command names with --organization: one of the configured ones. Without it, the only
 * one, or the default one when `fallback` is 'default'; with several and no default allowed, the command
 * must name it, since a mapping or a check of the wrong organization would be silently wrong.
 */
export function chooseOrganization(organizations: readonly OrganizationConfig[], id: string | undefined, command: string, fallback: 'only' | 'default' = 'only'): OrganizationConfig {
  if (id !== undefined) {
    const found = organizations.find((o) => o.organizationId === id.trim())
    if (!found) throw new OrganizationChoiceError(`no Zoho organization ${id} is configured; ${organizations.length === 1 ? 'the configured one is' : 'the configured ones are'} ${organizationNames(organizations)}`)
    return found
  }
  if (organizations.length === 1 || fallback === 'default') return defaultOrganization(organizations)
  throw new OrganizationChoiceError(`${command} needs --organization <id>: billbridge delivers to ${organizations.length} Zoho organizations, ${organizationNames(organizations)}`)
}
