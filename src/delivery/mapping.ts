import type pg from 'pg'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'

export interface VendorRef {
  externalId?: string
  name: string
  email?: string
}

interface Contact {
  contact_id: string
  contact_name: string
}

interface Account {
  account_id: string
  account_name: string
  account_code?: string
  is_active?: boolean
}

export function vendorKeys(vendor: VendorRef): string[] {
  const byName = `name:${vendor.name.trim().toLowerCase()}`
  return vendor.externalId ? [`id:${vendor.externalId}`, byName] : [byName]
}

export function accountKey(account: string): string {
  return account.trim().replace(/\s+/g, ' ').toLowerCase()
}

/** NetSuite sends "6100 Office Supplies": the leading number is the account code, the rest its name. */
export function splitAccount(account: string): { code?: string; name: string } {
  const match = /^(\d[\w.-]*)\s+(.+)$/.exec(account.trim())
  return match ? { code: match[1]!, name: match[2]!.trim() } : { name: account.trim() }
}

/**
 * Resolves NetSuite vendors and accounts to Zoho ids, caching answers in vendor_map and account_map so a
 * known vendor and known accounts cost no Zoho request.
 */
export function createMapper(options: { pool: pg.Pool; books: BooksClient; organizationId: string; createMissingVendors: boolean; defaultAccountId?: string }) {
  const { pool, books, organizationId: org } = options

  async function cachedVendor(keys: string[]): Promise<string | null> {
    const { rows } = await pool.query<{ zoho_vendor_id: string; vendor_key: string }>(
      'SELECT vendor_key, zoho_vendor_id FROM vendor_map WHERE organization_id = $1 AND vendor_key = ANY($2::text[])', [org, keys])
    return (keys.map((k) => rows.find((r) => r.vendor_key === k)).find(Boolean))?.zoho_vendor_id ?? null
  }

  async function remember(keys: string[], vendorId: string): Promise<void> {
    await pool.query(
      `INSERT INTO vendor_map (organization_id, vendor_key, zoho_vendor_id) SELECT $1, k, $3 FROM unnest($2::text[]) AS k
       ON CONFLICT (organization_id, vendor_key) DO NOTHING`, [org, keys, vendorId])
  }

  async function lookupVendor(name: string, signal?: AbortSignal): Promise<string | null> {
    const res = await books.call<{ contacts?: Contact[] }>({ method: 'GET', path: '/contacts', endpoint: 'GET /contacts', query: { contact_type: 'vendor', contact_name: name } }, signal)
    const exact = (res.contacts ?? []).find((c) => c.contact_name.trim().toLowerCase() === name.trim().toLowerCase())
    return exact?.contact_id ?? null
  }

  async function resolveVendor(vendor: VendorRef, signal?: AbortSignal): Promise<string> {
    const keys = vendorKeys(vendor)
    const cached = await cachedVendor(keys)
    if (cached) return cached
    let vendorId = await lookupVendor(vendor.name, signal)
    if (!vendorId) {
      if (!options.createMissingVendors) {
        throw new ZohoError('permanent', 'VENDOR_NOT_FOUND', `no Zoho vendor named "${vendor.name}": create it in Zoho Books (or set ZOHO_CREATE_MISSING_VENDORS=true), then retry`)
      }
      try {
        const created = await books.call<{ contact?: Contact }>({
          method: 'POST', path: '/contacts', endpoint: 'POST /contacts',
          json: { contact_name: vendor.name, company_name: vendor.name, contact_type: 'vendor', ...(vendor.email ? { contact_persons: [{ email: vendor.email, is_primary_contact: true }] } : {}) },
        }, signal)
        vendorId = created.contact?.contact_id ?? null
      } catch (err) {
        // Contact names are unique in Zoho: a create that lost a race with another worker finds the winner's.
        if (!(err instanceof ZohoError) || err.kind !== 'permanent') throw err
        vendorId = await lookupVendor(vendor.name, signal)
        if (!vendorId) throw err
      }
      if (!vendorId) throw new ZohoError('retryable', 'ZOHO_SERVER_ERROR', 'Zoho created the vendor but returned no contact_id')
    }
    await remember(keys, vendorId)
    return vendorId
  }

  async function resolveAccounts(accounts: string[], signal?: AbortSignal): Promise<Map<string, string>> {
    const wanted = [...new Set(accounts.map(accountKey))]
    const { rows } = await pool.query<{ account: string; zoho_account_id: string }>(
      'SELECT account, zoho_account_id FROM account_map WHERE organization_id = $1 AND account = ANY($2::text[])', [org, wanted])
    const found = new Map(rows.map((r) => [r.account, r.zoho_account_id]))
    const missing = wanted.filter((a) => !found.has(a))
    if (missing.length > 0) {
      const chart = await books.call<{ chartofaccounts?: Account[] }>({ method: 'GET', path: '/chartofaccounts', endpoint: 'GET /chartofaccounts', query: { filter_by: 'AccountType.All' } }, signal)
      const active = (chart.chartofaccounts ?? []).filter((a) => a.is_active !== false)
      for (const account of missing) {
        const { code, name } = splitAccount(account)
        const match = (code ? active.find((a) => a.account_code?.toLowerCase() === code.toLowerCase()) : undefined)
          ?? active.find((a) => a.account_name.trim().toLowerCase() === name.toLowerCase())
          ?? active.find((a) => a.account_name.trim().toLowerCase() === account)
        if (!match) continue
        found.set(account, match.account_id)
        await pool.query(`INSERT INTO account_map (organization_id, account, zoho_account_id, origin) VALUES ($1, $2, $3, 'lookup') ON CONFLICT DO NOTHING`, [org, account, match.account_id])
      }
    }
    const unmapped = wanted.filter((a) => !found.has(a))
    if (unmapped.length > 0) {
      if (!options.defaultAccountId) {
        throw new ZohoError('permanent', 'ACCOUNT_UNMAPPED', `no Zoho account matches ${unmapped.map((a) => `"${a}"`).join(', ')}: add a mapping with \`npm run cli -- map account "<NetSuite account>" <Zoho account_id>\`, then retry`)
      }
      for (const account of unmapped) found.set(account, options.defaultAccountId)
    }
    return found
  }

  return { resolveVendor, resolveAccounts }
}

export type Mapper = ReturnType<typeof createMapper>

/** An operator's mapping from a NetSuite account to a Zoho account id (the CLI's `map account`). */
export async function mapAccount(pool: pg.Pool, organizationId: string, account: string, zohoAccountId: string): Promise<void> {
  await pool.query(
    `INSERT INTO account_map (organization_id, account, zoho_account_id, origin) VALUES ($1, $2, $3, 'operator')
     ON CONFLICT (organization_id, account) DO UPDATE SET zoho_account_id = EXCLUDED.zoho_account_id, origin = 'operator', created_at = now()`,
    [organizationId, accountKey(account), zohoAccountId])
}
