import type pg from 'pg'
import { recordOperatorAction } from '../audit/operator-actions.ts'
import { inTransaction } from '../db/pool.ts'
import { AppError } from '../errors.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { accountKey, createChart } from './chart.ts'
import { createCurrencies } from './currencies.ts'
import { createTags, type Segment, type TagConfig } from './tags.ts'
import { createTaxes, type Edition } from './taxes.ts'
import { createVendorResolver, mapVendor } from './vendors.ts'

export { accountKey, splitAccount } from './chart.ts'
export { mapVendor, vendorKeys, type VendorRef, type ZohoVendor } from './vendors.ts'
export type { OrganizationProfile, ZohoTaxRef, Edition, TaxKind } from './taxes.ts'
export type { Segment, TagConfig } from './tags.ts'

/**
 * Resolves NetSuite vendors, accounts, tax codes and segments to Zoho ids, caching answers (vendor_map,
 * account_map, tax_map; the organization, its taxes and reporting tags) so known ones cost no Zoho request.
 */
export function createMapper(options: { pool: pg.Pool; books: BooksClient; organizationId: string; createMissingVendors: boolean; defaultAccountId?: string; edition?: Edition; tags?: TagConfig }) {
  const currencies = createCurrencies(options)
  const vendors = createVendorResolver({ ...options, currencies })
  const chart = createChart(options)
  const taxes = createTaxes(options)
  const tags = createTags({ ...options, tags: options.tags ?? {} })
  return {
    resolveVendor: vendors.resolveVendor, resolveAccounts: chart.resolveAccounts, readChart: chart.readChart, currencyId: currencies.idFor,
    organization: taxes.organization, resolveTax: taxes.resolveTax, resolveTags: tags.resolveTags,
  }
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

/**
 * An operator's mapping from a NetSuite tax code to a Zoho tax or tax group id; returns the id it replaced.
 * The id must be in the cached taxes (the CLI and the dashboard read them first).
 */
export async function mapTax(db: pg.Pool | pg.ClientBase, organizationId: string, taxCode: string, zohoTaxId: string): Promise<string | null> {
  const known = await db.query('SELECT 1 FROM zoho_taxes WHERE organization_id = $1 AND tax_id = $2', [organizationId, zohoTaxId])
  if (known.rowCount === 0) throw new AppError('ZOHO_ID_UNKNOWN', `Zoho lists no tax or tax group ${zohoTaxId} for this organization`, 400)
  const key = accountKey(taxCode)
  const before = await db.query<{ zoho_tax_id: string }>('SELECT zoho_tax_id FROM tax_map WHERE organization_id = $1 AND tax_code = $2 FOR UPDATE', [organizationId, key])
  await db.query(
    `INSERT INTO tax_map (organization_id, tax_code, zoho_tax_id, origin) VALUES ($1, $2, $3, 'operator')
     ON CONFLICT (organization_id, tax_code) DO UPDATE SET zoho_tax_id = EXCLUDED.zoho_tax_id, origin = 'operator', created_at = now()`,
    [organizationId, key, zohoTaxId])
  return before.rows[0]?.zoho_tax_id ?? null
}

/** An operator's choice of a reporting tag option for a NetSuite segment value; returns the option it replaced. */
export async function mapTag(db: pg.Pool | pg.ClientBase, organizationId: string, segment: Segment, value: string, tagOptionId: string): Promise<string | null> {
  const option = await db.query<{ tag_id: string }>('SELECT tag_id FROM zoho_tag_options WHERE organization_id = $1 AND tag_option_id = $2', [organizationId, tagOptionId])
  if (!option.rows[0]) throw new AppError('ZOHO_ID_UNKNOWN', `no reporting tag option ${tagOptionId} of the tags ZOHO_TAGS names is listed by Zoho`, 400)
  const key = accountKey(value)
  const before = await db.query<{ tag_option_id: string }>('SELECT tag_option_id FROM tag_map WHERE organization_id = $1 AND segment = $2 AND value = $3 FOR UPDATE', [organizationId, segment, key])
  await db.query(
    `INSERT INTO tag_map (organization_id, segment, value, tag_id, tag_option_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (organization_id, segment, value) DO UPDATE SET tag_id = EXCLUDED.tag_id, tag_option_id = EXCLUDED.tag_option_id, created_at = now()`,
    [organizationId, segment, key, option.rows[0].tag_id, tagOptionId])
  return before.rows[0]?.tag_option_id ?? null
}

export type MappingChange =
  | {
      kind: 'account' | 'vendor' | 'tax'
      /** the NetSuite account, the NetSuite vendor name or id, or the NetSuite tax code */
      netsuite: string
      zohoId: string
    }
  | {
      kind: 'tag'
      segment: Segment
      /** the NetSuite segment value, e.g. "Sales : EMEA" */
      netsuite: string
      /** the tag option id */
      zohoId: string
    }

const ID_NAMES = { account: 'account_id', vendor: 'contact_id', tax: 'tax_id', tag: 'tag_option_id' } as const
const ACTIONS = { account: 'map_account', vendor: 'map_vendor', tax: 'map_tax', tag: 'map_tag' } as const

/**
 * The one path for an operator's mapping, from the CLI or the dashboard: the change and its audit entry
 * (old → new) in one transaction. Returns the Zoho id it replaced.
 */
export async function saveMapping(pool: pg.Pool, organizationId: string, change: MappingChange, who: { actor: string; address?: string | null }): Promise<string | null> {
  if (!/^\d{1,32}$/.test(change.zohoId)) throw new AppError('ZOHO_ID_INVALID', `a Zoho ${ID_NAMES[change.kind]} is a number; got "${change.zohoId}"`, 400)
  if (!change.netsuite.trim()) throw new AppError('MAPPING_INVALID', `the NetSuite ${change.kind === 'tag' ? change.segment : change.kind === 'tax' ? 'tax code' : change.kind} is empty`, 400)
  if (change.kind === 'tag' && !['department', 'class', 'location'].includes(change.segment)) throw new AppError('MAPPING_INVALID', `"${change.segment}" is not a NetSuite segment: department, class or location`, 400)
  return inTransaction(pool, async (client) => {
    const previous = change.kind === 'account' ? await mapAccount(client, organizationId, change.netsuite, change.zohoId)
      : change.kind === 'vendor' ? (await mapVendor(client, organizationId, change.netsuite, change.zohoId)).previous
      : change.kind === 'tax' ? await mapTax(client, organizationId, change.netsuite, change.zohoId)
      : await mapTag(client, organizationId, (change as Extract<MappingChange, { kind: 'tag' }>).segment, change.netsuite, change.zohoId)
    await recordOperatorAction(client, {
      actor: who.actor, action: ACTIONS[change.kind], subject: change.kind === 'tag' ? `${change.segment}: ${change.netsuite.trim()}` : change.netsuite.trim(),
      detail: { old: previous, new: change.zohoId, organizationId }, address: who.address ?? null,
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
