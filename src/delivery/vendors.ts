import type pg from 'pg'
import { withSessionLock } from '../db/session-lock.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import type { Currencies } from './currencies.ts'

export interface VendorRef {
  externalId?: string
  name: string
  email?: string
}

/** The Zoho vendor a bill goes to, with the currency Zoho books its bills in. */
export interface ZohoVendor {
  id: string
  currencyCode: string | null
  /** the contact's name in Zoho, when known */
  name: string | null
}

interface Contact {
  contact_id: string
  contact_name: string
  contact_type?: string
  status?: string
  email?: string
  currency_code?: string
}

// Zoho's contact name filters take at most 100 characters (docs/zoho.md).
const NAME_FILTER_MAX = 100

export function vendorKeys(vendor: VendorRef): string[] {
  const byName = `name:${normalName(vendor.name)}`
  return vendor.externalId ? [`id:${vendor.externalId}`, byName] : [byName]
}

function normalName(name: string): string {
  return name.trim().toLowerCase()
}

/**
 * How a vendor_map row was made. A lookup that found exactly one active vendor with the name
 * ('auto_unique_name'), a vendor billbridge created ('created') and an operator's mapping ('operator') speak
 * for the name; an email tie-break between namesakes ('auto_email') speaks for one NetSuite vendor only.
 */
export type VendorSource = 'auto_unique_name' | 'auto_email' | 'created' | 'operator'

const NAME_SOURCES: ReadonlySet<string> = new Set<VendorSource>(['auto_unique_name', 'created', 'operator'])

export interface VendorMapRow {
  vendor_key: string
  zoho_vendor_id: string
  currency_code: string | null
  zoho_vendor_name: string | null
  /** NULL: an id: key found by a lookup before sources were recorded */
  source: VendorSource | null
}

/**
 * Which vendor_map row a bill's vendor takes: an operator's mapping of its id, then of its name; then its
 * own id: key; and only a vendor with no id: key yet may take a name: key, and only one that speaks for the
 * name. So a NetSuite vendor never inherits a namesake's email match.
 */
export function pickVendorRow(vendor: VendorRef, rows: VendorMapRow[]): VendorMapRow | null {
  const own = vendor.externalId ? rows.find((r) => r.vendor_key === `id:${vendor.externalId}`) : undefined
  const byName = rows.find((r) => r.vendor_key === `name:${normalName(vendor.name)}`)
  if (own?.source === 'operator') return own
  if (byName?.source === 'operator') return byName
  if (own) return own
  return byName?.source && NAME_SOURCES.has(byName.source) ? byName : null
}

/**
 * NetSuite vendors → Zoho vendors. Zoho allows several contacts with one name, so the first bill of a new
 * vendor looks it up and, if need be, creates it under a lock per organization and name, and remembers the
 * id in vendor_map before the lock is released: a second process meeting the same vendor finds the id
 * there, never a second vendor.
 */
export function createVendorResolver(options: { pool: pg.Pool; books: BooksClient; organizationId: string; createMissingVendors: boolean; currencies: Currencies }) {
  const { pool, books, organizationId: org } = options

  async function cached(vendor: VendorRef): Promise<VendorMapRow | null> {
    const { rows } = await pool.query<VendorMapRow>(
      'SELECT vendor_key, zoho_vendor_id, currency_code, zoho_vendor_name, source FROM vendor_map WHERE organization_id = $1 AND vendor_key = ANY($2::text[])', [org, vendorKeys(vendor)])
    return pickVendorRow(vendor, rows)
  }

  /** The vendor's own id: key always; the name: key only when the name itself decided (see VendorSource). */
  async function remember(vendor: VendorRef, found: ZohoVendor, source: Exclude<VendorSource, 'operator'>): Promise<void> {
    const keys = vendorKeys(vendor).filter((k) => k.startsWith('id:') || NAME_SOURCES.has(source))
    if (keys.length === 0) return
    await pool.query(
      `INSERT INTO vendor_map (organization_id, vendor_key, zoho_vendor_id, origin, source, currency_code, vendor_name, zoho_vendor_name)
       SELECT $1, k, $3, $4, $5, $6, $7, $8 FROM unnest($2::text[]) AS k
       ON CONFLICT (organization_id, vendor_key) DO NOTHING`,
      [org, keys, found.id, source === 'created' ? 'created' : 'lookup', source, found.currencyCode, vendor.name, found.name])
  }

  /** Active Zoho vendors whose name is exactly this one (trimmed, any case), every page of them. */
  async function candidates(name: string, signal?: AbortSignal): Promise<Contact[]> {
    const trimmed = name.trim()
    // A longer name cannot be a filter value: ask for those that start with its first 100 characters.
    const filter: Record<string, string> = trimmed.length <= NAME_FILTER_MAX ? { contact_name: trimmed } : { contact_name_startswith: trimmed.slice(0, NAME_FILTER_MAX) }
    const { items } = await books.callPages<Contact>({ method: 'GET', path: '/contacts', endpoint: 'GET /contacts', query: { contact_type: 'vendor', filter_by: 'Status.Active', ...filter } }, 'contacts', signal, 10)
    return items.filter((c) => normalName(c.contact_name) === normalName(trimmed) && (c.contact_type ?? 'vendor') === 'vendor' && (c.status ?? 'active') === 'active')
  }

  function choose(vendor: VendorRef, found: Contact[]): { contact: Contact; source: 'auto_unique_name' | 'auto_email' } | null {
    if (found.length === 0) return null
    if (found.length === 1) return { contact: found[0]!, source: 'auto_unique_name' }
    const email = vendor.email?.toLowerCase()
    const byEmail = email ? found.filter((c) => c.email?.toLowerCase() === email) : []
    if (byEmail.length === 1) return { contact: byEmail[0]!, source: 'auto_email' }
    const forThisOne = vendor.externalId ? `\`npm run cli -- map vendor "${vendor.externalId}" <contact_id>\` (this NetSuite vendor only) or ` : ''
    throw new ZohoError('permanent', 'VENDOR_AMBIGUOUS',
      `Zoho Books has ${found.length} active vendors named "${vendor.name}" (contact ids ${found.map((c) => c.contact_id).join(', ')})${email ? ` and ${byEmail.length === 0 ? 'none' : 'several'} with email ${vendor.email}` : ''}: choose one with ${forThisOne}\`npm run cli -- map vendor "${vendor.name}" <contact_id>\` (every NetSuite vendor of this name), then retry`)
  }

  /** The contact's currency and name, read from the contact itself when the list did not carry them. */
  async function details(contact: Contact, signal?: AbortSignal): Promise<{ currencyCode: string | null; name: string | null }> {
    if (contact.currency_code && contact.contact_name) return { currencyCode: contact.currency_code, name: contact.contact_name }
    const res = await books.call<{ contact?: Contact }>({ method: 'GET', path: `/contacts/${encodeURIComponent(contact.contact_id)}`, endpoint: 'GET /contacts/:id' }, signal)
    return { currencyCode: res.contact?.currency_code ?? null, name: res.contact?.contact_name || contact.contact_name || null }
  }

  async function create(vendor: VendorRef, currency: string, signal?: AbortSignal, own?: pg.PoolClient): Promise<ZohoVendor> {
    if (!options.createMissingVendors) {
      throw new ZohoError('permanent', 'VENDOR_NOT_FOUND', `no active Zoho vendor named "${vendor.name}": create it in Zoho Books (or set ZOHO_CREATE_MISSING_VENDORS=true), or map it with \`npm run cli -- map vendor "${vendor.name}" <contact_id>\`, then retry`)
    }
    const currencyId = await options.currencies.idFor(currency, signal, own)
    const created = await books.call<{ contact?: Contact }>({
      method: 'POST', path: '/contacts', endpoint: 'POST /contacts',
      json: { contact_name: vendor.name.trim(), company_name: vendor.name.trim(), contact_type: 'vendor', currency_id: currencyId, ...(vendor.email ? { contact_persons: [{ email: vendor.email, is_primary_contact: true }] } : {}) },
    }, signal)
    if (!created.contact?.contact_id) throw new ZohoError('retryable', 'ZOHO_SERVER_ERROR', 'Zoho created the vendor but returned no contact_id')
    return { id: created.contact.contact_id, currencyCode: created.contact.currency_code ?? currency, name: created.contact.contact_name ?? vendor.name.trim() }
  }

  /** The Zoho vendor for a bill in `currency`: cached, found, or created once for the whole fleet. */
  async function resolveVendor(vendor: VendorRef, currency: string, signal?: AbortSignal, own?: pg.PoolClient): Promise<ZohoVendor> {
    const hit = await cached(vendor)
    if (hit) return complete(hit, signal)
    return withSessionLock(pool, `billbridge:vendor:${org}:${normalName(vendor.name)}`, async () => {
      const again = await cached(vendor)
      if (again) return complete(again, signal)
      const chosen = choose(vendor, await candidates(vendor.name, signal))
      if (!chosen) {
        const made = await create(vendor, currency, signal, own)
        await remember(vendor, made, 'created')
        return made
      }
      const found = { id: chosen.contact.contact_id, ...await details(chosen.contact, signal) }
      await remember(vendor, found, chosen.source)
      return found
    }, signal, own)
  }

  /** An operator's mapping names only the contact: its currency and name are read once and kept. */
  async function complete(hit: VendorMapRow, signal?: AbortSignal): Promise<ZohoVendor> {
    if (hit.currency_code && hit.zoho_vendor_name) return { id: hit.zoho_vendor_id, currencyCode: hit.currency_code, name: hit.zoho_vendor_name }
    const read = await details({ contact_id: hit.zoho_vendor_id, contact_name: '' }, signal)
    await pool.query('UPDATE vendor_map SET currency_code = coalesce($3, currency_code), zoho_vendor_name = coalesce($4, zoho_vendor_name) WHERE organization_id = $1 AND zoho_vendor_id = $2',
      [org, hit.zoho_vendor_id, read.currencyCode, read.name])
    return { id: hit.zoho_vendor_id, currencyCode: read.currencyCode ?? hit.currency_code, name: read.name ?? hit.zoho_vendor_name }
  }

  return { resolveVendor }
}

export type VendorResolver = ReturnType<typeof createVendorResolver>

/**
 * An operator's choice of Zoho vendor for a NetSuite vendor, given by name or NetSuite vendor id. A name
 * replaces any earlier mapping of that name and of the NetSuite vendor ids that bills waiting or failed
 * carry with it (and, being an operator's, wins over every NetSuite vendor's own lookup); an id maps that
 * vendor only. The cached currency is cleared so the contact's own is read on the next bill.
 */
export async function mapVendor(pool: pg.Pool | pg.ClientBase, organizationId: string, netsuiteVendor: string, zohoContactId: string): Promise<{ keys: string[]; previous: string | null }> {
  const wanted = netsuiteVendor.trim()
  const { rows } = await pool.query<{ ext: string | null; name: string }>(
    `SELECT DISTINCT vendor->>'externalId' AS ext, vendor->>'name' AS name FROM transactions
      WHERE status IN ('failed', 'queued', 'processing') AND (lower(btrim(vendor->>'name')) = lower($1) OR vendor->>'externalId' = $1)`, [wanted])
  const keys = new Set<string>()
  for (const row of rows) {
    // Given a NetSuite vendor id, only that vendor is mapped; given a name, the name and the ids carrying it.
    const byName = normalName(row.name) === normalName(wanted)
    if (byName) keys.add(`name:${normalName(row.name)}`)
    if (row.ext && (byName || row.ext === wanted)) keys.add(`id:${row.ext}`)
  }
  if (keys.size === 0) {
    // No bill waits for it: a NetSuite vendor id already known keeps its id key, anything else is a name.
    const known = await pool.query<{ vendor_key: string }>('SELECT vendor_key FROM vendor_map WHERE organization_id = $1 AND vendor_key = $2', [organizationId, `id:${wanted}`])
    keys.add(known.rows.length ? `id:${wanted}` : `name:${normalName(wanted)}`)
  }
  const before = await pool.query<{ zoho_vendor_id: string }>(
    `SELECT zoho_vendor_id FROM vendor_map WHERE organization_id = $1 AND vendor_key = ANY($2::text[]) ORDER BY vendor_key LIKE 'id:%' DESC LIMIT 1`, [organizationId, [...keys]])
  await pool.query(
    `INSERT INTO vendor_map (organization_id, vendor_key, zoho_vendor_id, origin, source, currency_code, vendor_name, zoho_vendor_name) SELECT $1, k, $3, 'operator', 'operator', NULL, $4, NULL FROM unnest($2::text[]) AS k
     ON CONFLICT (organization_id, vendor_key) DO UPDATE SET zoho_vendor_id = EXCLUDED.zoho_vendor_id, origin = 'operator', source = 'operator', currency_code = NULL, vendor_name = EXCLUDED.vendor_name, zoho_vendor_name = NULL, created_at = now()`,
    [organizationId, [...keys], zohoContactId, wanted])
  return { keys: [...keys], previous: before.rows[0]?.zoho_vendor_id ?? null }
}
