import type pg from 'pg'
import type { BooksClient } from '../zoho/books-client.ts'
import { accountKey, createChart } from './chart.ts'
import { createCurrencies } from './currencies.ts'
import { createVendorResolver } from './vendors.ts'

export { accountKey, splitAccount } from './chart.ts'
export { mapVendor, vendorKeys, type VendorRef, type ZohoVendor } from './vendors.ts'

/**
 * Resolves NetSuite vendors and accounts to Zoho ids, caching answers in vendor_map and account_map so a
 * known vendor and known accounts cost no Zoho request.
 */
export function createMapper(options: { pool: pg.Pool; books: BooksClient; organizationId: string; createMissingVendors: boolean; defaultAccountId?: string }) {
  const currencies = createCurrencies(options)
  const vendors = createVendorResolver({ ...options, currencies })
  const chart = createChart(options)
  return { resolveVendor: vendors.resolveVendor, resolveAccounts: chart.resolveAccounts, readChart: chart.readChart, currencyId: currencies.idFor }
}

export type Mapper = ReturnType<typeof createMapper>

/** An operator's mapping from a NetSuite account to a Zoho account id (the CLI's `map account`). */
export async function mapAccount(pool: pg.Pool, organizationId: string, account: string, zohoAccountId: string): Promise<void> {
  await pool.query(
    `INSERT INTO account_map (organization_id, account, zoho_account_id, origin) VALUES ($1, $2, $3, 'operator')
     ON CONFLICT (organization_id, account) DO UPDATE SET zoho_account_id = EXCLUDED.zoho_account_id, origin = 'operator', created_at = now()`,
    [organizationId, accountKey(account), zohoAccountId])
}
