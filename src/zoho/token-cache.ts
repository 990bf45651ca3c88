import type pg from 'pg'
import { request, type Dispatcher } from 'undici'
import type { Logger } from '../logger.ts'
import { ZohoError } from './errors.ts'
import { decryptToken, encryptToken } from './token-crypto.ts'

export interface ZohoCredentials {
  accountsUrl: string
  clientId: string
  clientSecret: string
  refreshToken: string
}

export interface AccessToken {
  token: string
  expiresAt: Date
  /** where the organization's API lives, as the token grant said (e.g. https://www.zohoapis.eu) */
  apiDomain: string | null
  /** this token replaced one that Zoho refused with 401: a 401 for it too is a configuration problem */
  issuedAfter401: boolean
}

/** What to do after Zoho answered 401 for a token: try once more with a new one, or stop refreshing. */
export type UnauthorizedDecision = 'retry' | 'give-up'

// Refresh ahead of expiry: five minutes, or a quarter of the lifetime for short-lived test tokens.
const REFRESH_AHEAD_MAX_MS = 300_000

/**
 * One access token per OAuth grant (client, data centre, Zoho user) for every process: a row in oauth_tokens. A refresh happens under
 * a transaction-scoped advisory lock, and the row is read again after the lock is taken, so concurrent
 * callers wait for one refresh instead of each making their own.
 */
export function createTokenCache(options: { pool: pg.Pool; credentials: ZohoCredentials; key: string; encryptionKey: Buffer; dispatcher: Dispatcher; logger: Logger; onRefresh?: () => void }) {
  const { pool, credentials, encryptionKey, logger } = options
  const grantId = options.key

  async function readFresh(client: pg.Pool | pg.PoolClient): Promise<AccessToken | null> {
    const { rows } = await client.query<{ access_token_enc: Buffer; expires_at: Date; lifetime_seconds: number; api_domain: string | null; issued_after_401: boolean }>(
      'SELECT access_token_enc, expires_at, lifetime_seconds, api_domain, issued_after_401 FROM oauth_tokens WHERE grant_key = $1', [grantId])
    const row = rows[0]
    if (!row) return null
    const ahead = Math.min(REFRESH_AHEAD_MAX_MS, (row.lifetime_seconds * 1000) / 4)
    if (row.expires_at.getTime() - ahead <= Date.now()) return null
    try {
      return { token: decryptToken(encryptionKey, grantId, row.access_token_enc), expiresAt: row.expires_at, apiDomain: row.api_domain, issuedAfter401: row.issued_after_401 }
    } catch {
      // Written under another TOKEN_ENCRYPTION_KEY: treat as absent and refresh.
      return null
    }
  }

  async function refresh(): Promise<AccessToken> {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`billbridge:zoho-token:${grantId}`])
      const fresh = await readFresh(client)
      if (fresh) {
        await client.query('COMMIT')
        return fresh
      }
      const granted = await grant()
      const expiresAt = new Date(Date.now() + granted.expiresIn * 1000)
      // A token that replaces one refused with 401 says so, so that a 401 for it too stops the refreshing.
      const { rows } = await client.query<{ issued_after_401: boolean }>(
        `INSERT INTO oauth_tokens (grant_key, access_token_enc, api_domain, lifetime_seconds, expires_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (grant_key) DO UPDATE SET access_token_enc = EXCLUDED.access_token_enc, api_domain = EXCLUDED.api_domain,
           lifetime_seconds = EXCLUDED.lifetime_seconds, expires_at = EXCLUDED.expires_at, refreshed_at = now(),
           refresh_count = oauth_tokens.refresh_count + 1, issued_after_401 = oauth_tokens.invalidated_by_401, invalidated_by_401 = false
         RETURNING issued_after_401`,
        [grantId, encryptToken(encryptionKey, grantId, granted.accessToken), granted.apiDomain, granted.expiresIn, expiresAt])
      await client.query('COMMIT')
      options.onRefresh?.()
      logger.info({ grant: grantId, expiresAt, apiDomain: granted.apiDomain }, 'Zoho access token refreshed')
      return { token: granted.accessToken, expiresAt, apiDomain: granted.apiDomain, issuedAfter401: rows[0]?.issued_after_401 ?? false }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      client.release()
    }
  }

  async function grant(): Promise<{ accessToken: string; expiresIn: number; apiDomain: string | null }> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: credentials.clientId, client_secret: credentials.clientSecret, refresh_token: credentials.refreshToken })
    let res
    try {
      res = await request(`${credentials.accountsUrl}/oauth/v2/token`, {
        method: 'POST',
        dispatcher: options.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      })
    } catch (err) {
      throw new ZohoError('retryable', 'ZOHO_TOKEN_UNREACHABLE', `Zoho accounts server unreachable: ${(err as Error).message}`)
    }
    const text = await res.body.text()
    let parsed: { access_token?: string; expires_in?: number; api_domain?: string; error?: string; error_description?: string }
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new ZohoError('retryable', 'ZOHO_TOKEN_UNREACHABLE', `Zoho accounts server answered HTTP ${res.statusCode} without JSON`, res.statusCode)
    }
    // Zoho reports token errors with HTTP 200 and an "error" field: check the body, not the status.
    if (parsed.error || !parsed.access_token) {
      const error = parsed.error ?? 'no access_token'
      if (/access denied|too many/i.test(`${error} ${parsed.error_description ?? ''}`)) {
        throw new ZohoError('retryable', 'ZOHO_TOKEN_THROTTLED', `Zoho refused to issue a token for now: ${parsed.error_description ?? error}`, res.statusCode)
      }
      if (res.statusCode >= 500) throw new ZohoError('retryable', 'ZOHO_TOKEN_UNREACHABLE', `Zoho accounts server answered HTTP ${res.statusCode}`, res.statusCode)
      throw new ZohoError('permanent', 'ZOHO_CREDENTIALS_INVALID', `Zoho rejected the OAuth credentials (${error}): check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN`, res.statusCode)
    }
    return { accessToken: parsed.access_token, expiresIn: Number(parsed.expires_in ?? 3600), apiDomain: parsed.api_domain ?? null }
  }

  return {
    /** A valid access token, refreshed (once, fleet-wide) when missing or about to expire. */
    async get(): Promise<AccessToken> {
      return (await readFresh(pool)) ?? refresh()
    },

    /**
     * After Zoho answered 401 for `token`: a token is refreshed once because of a 401, never once per bill.
     * The first 401 for a token marks it stale (the next get() refreshes); a 401 for a token that itself
     * replaced a refused one means the credentials, scopes, organization or data centre are wrong.
     */
    async unauthorized(token: string): Promise<UnauthorizedDecision> {
      const { rows } = await pool.query<{ access_token_enc: Buffer; issued_after_401: boolean; invalidated_by_401: boolean }>(
        'SELECT access_token_enc, issued_after_401, invalidated_by_401 FROM oauth_tokens WHERE grant_key = $1', [grantId])
      const row = rows[0]
      if (!row) return 'retry'
      let current: string | null = null
      try {
        current = decryptToken(encryptionKey, grantId, row.access_token_enc)
      } catch {
        current = null
      }
      // Another process already replaced the refused token: try with the new one.
      if (current !== null && current !== token) return 'retry'
      if (row.issued_after_401) return 'give-up'
      if (!row.invalidated_by_401) {
        await pool.query(`UPDATE oauth_tokens SET expires_at = to_timestamp(0), invalidated_by_401 = true WHERE grant_key = $1 AND access_token_enc = $2`, [grantId, row.access_token_enc])
      }
      return 'retry'
    },

    /** A request with a token issued after a 401 succeeded: the next 401 gets its one refresh again. */
    async accepted(token: AccessToken): Promise<void> {
      if (!token.issuedAfter401) return
      token.issuedAfter401 = false
      await pool.query('UPDATE oauth_tokens SET issued_after_401 = false WHERE grant_key = $1 AND issued_after_401', [grantId])
    },
  }
}

export type TokenCache = ReturnType<typeof createTokenCache>
