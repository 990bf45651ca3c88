import type pg from 'pg'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { refreshReference } from './reference-cache.ts'

interface Currency {
  currency_id: string
  currency_code: string
  is_base_currency?: boolean
}

const CURRENCIES_REFRESH_MS = 5 * 60_000

/** The organization's enabled currencies (GET /settings/currencies), cached in zoho_currencies. */
export function createCurrencies(options: { pool: pg.Pool; books: BooksClient; organizationId: string }) {
  const { pool, books, organizationId: org } = options

  async function read(signal?: AbortSignal): Promise<number> {
    const res = await books.call<{ currencies?: Currency[] }>({ method: 'GET', path: '/settings/currencies', endpoint: 'GET /settings/currencies' }, signal)
    const list = res.currencies ?? []
    await pool.query(
      `INSERT INTO zoho_currencies (organization_id, currency_code, currency_id, is_base) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::boolean[])
       ON CONFLICT (organization_id, currency_code) DO UPDATE SET currency_id = EXCLUDED.currency_id, is_base = EXCLUDED.is_base`,
      [org, list.map((c) => c.currency_code), list.map((c) => c.currency_id), list.map((c) => c.is_base_currency === true)])
    return list.length
  }

  async function cached(code: string): Promise<string | undefined> {
    const { rows } = await pool.query<{ currency_id: string }>('SELECT currency_id FROM zoho_currencies WHERE organization_id = $1 AND currency_code = $2', [org, code])
    return rows[0]?.currency_id
  }

  return {
    /** Zoho's currency_id for an ISO code; a currency the organization has not enabled fails the bill. */
    async idFor(code: string, signal?: AbortSignal, own?: pg.PoolClient): Promise<string> {
      let id = await cached(code)
      // Whether this call re-read the list or waited while another process did, the cache is current now.
      if (!id) {
        await refreshReference(pool, org, 'currencies', CURRENCIES_REFRESH_MS, () => read(signal), signal, own)
        id = await cached(code)
      }
      if (!id) throw new ZohoError('permanent', 'CURRENCY_NOT_ENABLED', `${code} is not enabled in this Zoho Books organization: add it under Settings → Currencies in Zoho Books, then retry`)
      return id
    },
  }
}

export type Currencies = ReturnType<typeof createCurrencies>
