import type pg from 'pg'
import { recordOperatorAction } from '../audit/operator-actions.ts'
import { inTransaction } from '../db/pool.ts'
import { AppError } from '../errors.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { accountKey, createChart } from './chart.ts'
import { createCurrencies } from './currencies.ts'
import { createVendorResolver, mapVendor } from './vendors.ts'

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

/**
 * An operator's mapping from a NetSuite account to a Zoho account id (the CLI's `map account` and the
 * dashboard's mappings page). Give it the transaction's client to record the change with it; returns
 * the Zoho account id the account was mapped to before, if any.
 */
export async function mapAccount(db: pg.Pool | pg.ClientBase, organizationId: string, account: string, zohoAccountId: string): Promise<string | null> {
  const key = accountKey(account)
  const before = await db.query<{ zoho_account_id: string }>('SELECT zoho_account_id FROM account_map WHERE organization_id = $1 AND account = $2 FOR UPDATE', [organizationId, key])
  await db.query(
    `INSERT INTO account_map (organization_id, account, zoho_account_id, origin) VALUES ($1, $2, $3, 'operator')
     ON CONFLICT (organization_id, account) DO UPDATE SET zoho_account_id = EXCLUDED.zoho_account_id, origin = 'operator', created_at = now()`,
    [organizationId, key, zohoAccountId])
  return before.rows[0]?.zoho_account_id ?? null
}

export interface MappingChange {
  kind: 'account' | 'vendor'
  /** the NetSuite account, or the NetSuite vendor name or id */
  netsuite: string
  zohoId: string
}

/**
 * The one path for an operator's mapping, from the CLI or the dashboard: the change and its audit entry
 * (old → new) in one transaction. Returns the Zoho id it replaced.
 */
export async function saveMapping(pool: pg.Pool, organizationId: string, change: MappingChange, who: { actor: string; address?: string | null }): Promise<string | null> {
  if (!/^\d{1,32}$/.test(change.zohoId)) throw new AppError('ZOHO_ID_INVALID', `a Zoho ${change.kind === 'account' ? 'account_id' : 'contact_id'} is a number; got "${change.zohoId}"`, 400)
  if (!change.netsuite.trim()) throw new AppError('MAPPING_INVALID', `the NetSuite ${change.kind} is empty`, 400)
  return inTransaction(pool, async (client) => {
    const previous = change.kind === 'account'
      ? await mapAccount(client, organizationId, change.netsuite, change.zohoId)
      : (await mapVendor(client, organizationId, change.netsuite, change.zohoId)).previous
    await recordOperatorAction(client, {
      actor: who.actor, action: change.kind === 'account' ? 'map_account' : 'map_vendor', subject: change.netsuite.trim(),
      detail: { old: previous, new: change.zohoId }, address: who.address ?? null,
    })
    return previous
  })
}

/**
 * Why a Zoho contact id cannot be the vendor of a mapping, or null when it is an active vendor: one
 * GET /contacts/{id} through the shared stack. Any refusal from Zoho counts as "no such contact", whatever
 * its status code (Zoho does not document the answer for an unknown id).
 */
export async function zohoVendorProblem(books: BooksClient, contactId: string): Promise<string | null> {
  let contact: { contact_name?: string; contact_type?: string; status?: string } | undefined
  try {
    contact = (await books.call<{ contact?: typeof contact }>({ method: 'GET', path: `/contacts/${contactId}`, endpoint: 'GET /contacts/:id' })).contact
  } catch (err) {
    if (err instanceof ZohoError && err.code === 'ZOHO_REJECTED') return `Zoho has no contact ${contactId} in this organization (${err.message})`
    if (err instanceof ZohoError) return `could not check contact ${contactId} in Zoho: ${err.message}`
    throw err
  }
  if (!contact) return `Zoho has no contact ${contactId} in this organization`
  const name = contact.contact_name ? ` "${contact.contact_name}"` : ''
  if ((contact.contact_type ?? 'vendor') !== 'vendor') return `Zoho contact ${contactId}${name} is a ${contact.contact_type}, not a vendor`
  if ((contact.status ?? 'active') !== 'active') return `Zoho vendor ${contactId}${name} is ${contact.status}: make it active in Zoho Books first, or choose another`
  return null
}
