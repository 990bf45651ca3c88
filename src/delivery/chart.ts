import type pg from 'pg'
import { inTransaction } from '../db/pool.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { refreshReference } from './reference-cache.ts'

interface Account {
  account_id: string
  account_name: string
  account_code?: string
  account_type?: string
  is_active?: boolean
}

// An account missing from the cached chart re-reads it at most this often (every page spends the budget).
export const CHART_REFRESH_MS = 5 * 60_000

export function accountKey(account: string): string {
  return account.trim().replace(/\s+/g, ' ').toLowerCase()
}

/** NetSuite sends "6100 Office Supplies": the leading number is the account code, the rest its name. */
export function splitAccount(account: string): { code?: string; name: string } {
  const match = /^(\d[\w.-]*)\s+(.+)$/.exec(account.trim())
  return match ? { code: match[1]!, name: match[2]!.trim() } : { name: account.trim() }
}

/** The active Zoho account for a NetSuite account key: by its leading code, then by its name, then by the whole text. */
export function matchAccount<A extends { account_name: string; account_code?: string | null }>(active: A[], account: string): A | undefined {
  const { code, name } = splitAccount(account)
  return (code ? active.find((a) => a.account_code?.toLowerCase() === code.toLowerCase()) : undefined)
    ?? active.find((a) => a.account_name.trim().toLowerCase() === name.toLowerCase())
    ?? active.find((a) => a.account_name.trim().toLowerCase() === account)
}

/**
 * NetSuite accounts → Zoho account ids: an operator's or an earlier match in account_map first, then the
 * organization's whole chart (every page), cached in zoho_accounts and re-read when an account is missing.
 */
export function createChart(options: { pool: pg.Pool; books: BooksClient; organizationId: string; defaultAccountId?: string; refreshMs?: number }) {
  const { pool, books, organizationId: org } = options

  async function readChart(signal?: AbortSignal): Promise<number> {
    const { items, complete } = await books.callPages<Account>({ method: 'GET', path: '/chartofaccounts', endpoint: 'GET /chartofaccounts', query: { filter_by: 'AccountType.All' } }, 'chartofaccounts', signal)
    if (!complete) throw new ZohoError('retryable', 'ZOHO_CHART_TOO_LONG', `the chart of accounts has more than ${items.length} accounts; only that many were read`)
    await inTransaction(pool, async (client) => {
      await client.query('DELETE FROM zoho_accounts WHERE organization_id = $1', [org])
      await client.query(
        `INSERT INTO zoho_accounts (organization_id, account_id, account_name, account_code, account_type, is_active)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[]) ON CONFLICT DO NOTHING`,
        [org, items.map((a) => a.account_id), items.map((a) => a.account_name), items.map((a) => a.account_code ?? null), items.map((a) => a.account_type ?? null), items.map((a) => a.is_active !== false)])
    })
    return items.length
  }

  /** Matches accounts against the cached chart; saves each match in account_map. */
  async function matchCached(missing: string[], found: Map<string, string>): Promise<void> {
    const { rows } = await pool.query<Account>('SELECT account_id, account_name, account_code FROM zoho_accounts WHERE organization_id = $1 AND is_active', [org])
    for (const account of missing) {
      const match = matchAccount(rows, account)
      if (!match) continue
      found.set(account, match.account_id)
      await pool.query(`INSERT INTO account_map (organization_id, account, zoho_account_id, origin) VALUES ($1, $2, $3, 'lookup') ON CONFLICT DO NOTHING`, [org, account, match.account_id])
    }
  }

  async function resolveAccounts(accounts: string[], signal?: AbortSignal, own?: pg.PoolClient): Promise<Map<string, string>> {
    const wanted = [...new Set(accounts.map(accountKey))]
    const { rows } = await pool.query<{ account: string; zoho_account_id: string }>(
      'SELECT account, zoho_account_id FROM account_map WHERE organization_id = $1 AND account = ANY($2::text[])', [org, wanted])
    const found = new Map(rows.map((r) => [r.account, r.zoho_account_id]))
    const missing = () => wanted.filter((a) => !found.has(a))
    if (missing().length > 0) await matchCached(missing(), found)
    if (missing().length > 0) {
      // Whether this call re-read the chart or waited while another process did, the cache is current now.
      await refreshReference(pool, org, 'accounts', options.refreshMs ?? CHART_REFRESH_MS, () => readChart(signal), signal, own)
      await matchCached(missing(), found)
    }
    const unmapped = missing()
    if (unmapped.length > 0) {
      if (!options.defaultAccountId) {
        throw new ZohoError('permanent', 'ACCOUNT_UNMAPPED', `no active Zoho account matches ${unmapped.map((a) => `"${a}"`).join(', ')}: map it on the dashboard's Mappings page (or \`npm run cli -- map account "<NetSuite account>" <Zoho account_id>\`), then retry`)
      }
      for (const account of unmapped) found.set(account, options.defaultAccountId)
    }
    return found
  }

  return { resolveAccounts, readChart }
}
