import type pg from 'pg'
import { inTransaction } from '../db/pool.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { accountKey } from './chart.ts'
import { refreshReference } from './reference-cache.ts'

export type Edition = 'us' | 'uk' | 'india' | 'gcc' | 'other'
export const EDITIONS: readonly Edition[] = ['us', 'uk', 'india', 'gcc', 'other']
export type TaxKind = 'standard' | 'zero_rated' | 'exempt' | 'out_of_scope'

export interface OrganizationProfile {
  edition: Edition
  /** ISO 3166 alpha-2 ('' when Zoho's country is not one billbridge knows) */
  countryCode: string
  /** India: the organization's state code */
  state?: string
  currencyCode: string
}

export interface ZohoTaxRef {
  taxId: string
  name: string
  percentage: string
  isGroup: boolean
  kind: TaxKind
  /** Zoho's tax_specific_type: igst, cgst, sgst, … */
  specificType?: string
}

/** A cached Zoho tax or tax group; kind null: a 0% tax whose kind Zoho's answer does not tell. */
export interface CachedTax {
  tax_id: string
  tax_name: string
  percentage: string
  is_group: boolean
  kind: TaxKind | null
  specific_type: string | null
  is_active: boolean
}

// A code missing from the cached taxes re-reads them at most this often; the profile is re-read when older
// than a day (the edition and the base currency cannot change: docs/zoho.md, "The organization and its edition").
export const TAXES_REFRESH_MS = 5 * 60_000
export const ORGANIZATION_REFRESH_MS = 24 * 3600_000

// Zoho documents no edition field: the edition follows the organization's country (docs/zoho.md).
const GCC = ['AE', 'SA', 'BH', 'KW', 'OM', 'QA']
export function editionOf(countryCode: string): Edition {
  if (countryCode === 'GB') return 'uk'
  if (countryCode === 'IN') return 'india'
  if (countryCode === 'US') return 'us'
  return GCC.includes(countryCode) ? 'gcc' : 'other'
}

// address.country / country as Zoho writes them (e.g. "U.S.A"), lower-cased, without dots.
const COUNTRY_NAMES: Record<string, string> = {
  'usa': 'US', 'us': 'US', 'united states': 'US', 'united states of america': 'US', 'united kingdom': 'GB', 'uk': 'GB', 'great britain': 'GB',
  'england': 'GB', 'india': 'IN', 'united arab emirates': 'AE', 'uae': 'AE', 'saudi arabia': 'SA', 'kingdom of saudi arabia': 'SA', 'bahrain': 'BH',
  'kuwait': 'KW', 'oman': 'OM', 'qatar': 'QA', 'canada': 'CA', 'australia': 'AU', 'germany': 'DE', 'france': 'FR', 'mexico': 'MX', 'south africa': 'ZA',
  'singapore': 'SG', 'new zealand': 'NZ', 'ireland': 'IE', 'kenya': 'KE', 'nigeria': 'NG', 'jordan': 'JO', 'egypt': 'EG',
}

/** The organization's ISO country from Zoho's answer: the documented country name first, then a two-letter code. */
export function countryCodeOf(org: { country?: string; country_code?: string; address?: { country?: string } }): string {
  for (const name of [org.address?.country, org.country]) {
    const code = name ? COUNTRY_NAMES[name.trim().toLowerCase().replace(/\./g, '').replace(/\s+/g, ' ')] : undefined
    if (code) return code
  }
  const code = org.country_code?.trim().toUpperCase()
  if (code && /^[A-Z]{2}$/.test(code)) return code === 'UK' ? 'GB' : code
  return ''
}

/** The kind of a Zoho tax: its tax_specific_type, else its name; null for a 0% tax neither tells. */
export function zohoTaxKind(tax: { percentage: number; specificType?: string | null; name: string; isGroup?: boolean }): TaxKind | null {
  const specific = tax.specificType?.trim().toLowerCase()
  if (specific === 'zero_rated' || specific === 'exempt' || specific === 'out_of_scope') return specific
  if (specific === 'nil') return 'zero_rated'
  if (tax.percentage !== 0) return 'standard'
  return kindFromName(tax.name)
}

/**
 * The kind a NetSuite tax code names: "exempt" or a code starting E- (VAT:E-GB), "zero"/"nil" or Z-,
 * "out of scope" or O-; null when the name tells none of these.
 */
export function kindFromName(name: string): TaxKind | null {
  const text = name.toLowerCase()
  const code = text.split(':').pop()!.trim()
  if (/out[\s_-]*of[\s_-]*scope|\boos\b/.test(text) || /^(o|oos)[-_\s]/.test(code)) return 'out_of_scope'
  if (/exempt/.test(text) || /^e[-_\s]/.test(code)) return 'exempt'
  if (/zero|\bnil\b/.test(text) || /^z[-_\s]/.test(code)) return 'zero_rated'
  return null
}

/** A NetSuite code's kind: standard at a rate above 0; for 0% (or no rate) what its name says, else null. */
export function netsuiteTaxKind(taxCode: string, rate: number | null): TaxKind | null {
  if (rate !== null && rate !== 0) return 'standard'
  return kindFromName(taxCode)
}

export function parseRate(taxRate: string | undefined): number | null {
  if (taxRate === undefined || taxRate.trim() === '') return null
  const rate = Number(taxRate.trim().replace(/%$/, ''))
  return Number.isFinite(rate) ? rate : null
}

const describe = (t: CachedTax) => `${t.tax_id} "${t.tax_name}" (${Number(t.percentage)}%${t.kind && t.kind !== 'standard' ? `, ${t.kind.replace(/_/g, ' ')}` : ''}${t.is_group ? ', group' : ''})`

export type TaxMatch = { tax: CachedTax } | { problem: string; candidates: CachedTax[] }

/**
 * The one active Zoho tax for a NetSuite code: same rate and same kind. A 0% code of unknown kind is never
 * matched (zero-rated, exempt and out of scope are told apart by kind, never by rate). Among several, an
 * India code naming IGST picks the IGST tax and one naming CGST/SGST (or GST) the group.
 */
export function matchTax(taxes: CachedTax[], taxCode: string, taxRate: string | undefined): TaxMatch {
  const active = taxes.filter((t) => t.is_active)
  let rate = parseRate(taxRate)
  const kind = netsuiteTaxKind(taxCode, rate)
  if (rate === null && kind && kind !== 'standard') rate = 0
  if (rate === null) return { problem: taxRate === undefined ? 'NetSuite sent no taxRate for it' : `its taxRate "${taxRate}" is not a number`, candidates: [] }
  const sameRate = active.filter((t) => Number(t.percentage) === rate)
  if (!kind) {
    return { problem: `it is ${rate}% and its name does not say whether it is zero-rated, exempt or out of scope (name it with "zero"/Z-, "exempt"/E- or "out of scope"/O-, or map it)`, candidates: sameRate }
  }
  let candidates = sameRate.filter((t) => t.kind === kind)
  // India: a code naming IGST is never put on a CGST+SGST group, nor one naming CGST/SGST on IGST.
  const code = taxCode.toLowerCase()
  if (/igst/.test(code)) candidates = candidates.filter((t) => t.specific_type === 'igst')
  else if (/cgst|sgst|utgst/.test(code)) candidates = candidates.filter((t) => t.is_group)
  else if (candidates.length > 1 && /\bgst\b/.test(code) && candidates.some((t) => t.is_group)) candidates = candidates.filter((t) => t.is_group)
  if (candidates.length === 1) return { tax: candidates[0]! }
  if (candidates.length > 1) return { problem: `${candidates.length} active Zoho taxes are ${rate}% ${kind.replace(/_/g, ' ')}`, candidates }
  return { problem: `no active Zoho tax is ${rate}% ${kind.replace(/_/g, ' ')}`, candidates: sameRate }
}

export function unmappedMessage(taxCode: string, problem: string, candidates: CachedTax[]): string {
  const named = candidates.length > 0 ? `; candidates: ${candidates.slice(0, 10).map(describe).join(', ')}` : ''
  return `the NetSuite tax code "${taxCode.trim()}" maps to no Zoho tax: ${problem}${named}. ` +
    `Map it on the dashboard's Mappings page (Taxes) or with \`npm run cli -- map tax "${taxCode.trim()}" <zoho tax id>\`, then retry`
}

export function taxRef(t: CachedTax): ZohoTaxRef {
  return {
    taxId: t.tax_id, name: t.tax_name, percentage: String(Number(t.percentage)), isGroup: t.is_group, kind: t.kind ?? 'zero_rated',
    ...(t.specific_type ? { specificType: t.specific_type } : {}),
  }
}

export interface ZohoTax { tax_id: string; tax_name: string; tax_percentage: number | string; tax_type?: string; tax_specific_type?: string; status?: string; is_inactive?: boolean }
export interface ZohoTaxGroup { tax_group_id: string; tax_group_name: string; tax_group_percentage?: number | string; status?: string; taxes?: ZohoTax[] }
interface ZohoOrganization { country?: string; country_code?: string; currency_code?: string; address?: { country?: string; state?: string; state_code?: string } }

/** Zoho's taxes list (groups included as tax_type tax_group) and its groups list, as cached rows. */
export function taxesFromZoho(list: ZohoTax[], groups: ZohoTaxGroup[]): CachedTax[] {
  const rows = new Map<string, CachedTax>()
  const active = (x: { status?: string; is_inactive?: boolean }) => x.is_inactive !== true && (x.status === undefined || x.status === 'active')
  for (const t of list) {
    const isGroup = t.tax_type === 'tax_group'
    const percentage = Number(t.tax_percentage)
    rows.set(t.tax_id, {
      tax_id: t.tax_id, tax_name: t.tax_name, percentage: String(percentage), is_group: isGroup, specific_type: t.tax_specific_type || null, is_active: active(t),
      kind: zohoTaxKind({ percentage, specificType: t.tax_specific_type ?? null, name: t.tax_name, isGroup }),
    })
  }
  for (const g of groups) {
    if (rows.has(g.tax_group_id)) continue
    const percentage = Number(g.tax_group_percentage ?? (g.taxes ?? []).reduce((s, t) => s + Number(t.tax_percentage), 0))
    rows.set(g.tax_group_id, {
      tax_id: g.tax_group_id, tax_name: g.tax_group_name, percentage: String(percentage), is_group: true, specific_type: null, is_active: active(g),
      kind: zohoTaxKind({ percentage, name: g.tax_group_name, isGroup: true }),
    })
  }
  return [...rows.values()]
}

/**
 * The organization's profile and its taxes, cached in zoho_organization and zoho_taxes; NetSuite tax codes
 * resolved through tax_map (an operator's mapping, or an automatic match remembered).
 */
export function createTaxes(options: { pool: pg.Pool; books: BooksClient; organizationId: string; edition?: Edition; refreshMs?: number }) {
  const { pool, books, organizationId: org } = options

  async function readOrganization(signal?: AbortSignal): Promise<number> {
    const res = await books.call<{ organization?: ZohoOrganization }>({ method: 'GET', path: `/organizations/${org}`, endpoint: 'GET /organizations/{id}' }, signal)
    const o = res.organization ?? {}
    const countryCode = countryCodeOf(o)
    const state = o.address?.state_code ?? o.address?.state
    await pool.query(
      `INSERT INTO zoho_organization (organization_id, edition, country, country_code, state, currency_code, fetched_at) VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (organization_id) DO UPDATE SET edition = EXCLUDED.edition, country = EXCLUDED.country, country_code = EXCLUDED.country_code,
         state = EXCLUDED.state, currency_code = EXCLUDED.currency_code, fetched_at = EXCLUDED.fetched_at`,
      [org, editionOf(countryCode), o.address?.country ?? o.country ?? null, countryCode, state || null, o.currency_code ?? ''])
    return 1
  }

  /** The organization's edition (ZOHO_EDITION wins), country, India state and base currency. */
  async function organization(signal?: AbortSignal): Promise<OrganizationProfile> {
    const cached = async () => (await pool.query<{ edition: Edition; country_code: string; state: string | null; currency_code: string; stale: boolean }>(
      `SELECT edition, country_code, state, currency_code, fetched_at < clock_timestamp() - make_interval(secs => $2) AS stale FROM zoho_organization WHERE organization_id = $1`,
      [org, ORGANIZATION_REFRESH_MS / 1000])).rows[0]
    let row = await cached()
    if (!row || row.stale) {
      await refreshReference(pool, org, 'organization', ORGANIZATION_REFRESH_MS, () => readOrganization(signal), signal)
      row = await cached()
    }
    if (!row) throw new ZohoError('retryable', 'ZOHO_SERVER_ERROR', 'GET /organizations/{id}: the organization profile was not stored; retrying')
    const edition = options.edition ?? row.edition
    return { edition, countryCode: row.country_code, ...(row.state ? { state: row.state } : {}), currencyCode: row.currency_code }
  }


  async function store(all: CachedTax[], replace: boolean): Promise<void> {
    await inTransaction(pool, async (client) => {
      if (replace) await client.query('DELETE FROM zoho_taxes WHERE organization_id = $1', [org])
      await client.query(
        `INSERT INTO zoho_taxes (organization_id, tax_id, tax_name, percentage, is_group, kind, specific_type, is_active)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::numeric[], $5::boolean[], $6::text[], $7::text[], $8::boolean[])
         ON CONFLICT (organization_id, tax_id) DO UPDATE SET tax_name = EXCLUDED.tax_name, percentage = EXCLUDED.percentage, is_group = EXCLUDED.is_group,
           kind = EXCLUDED.kind, specific_type = EXCLUDED.specific_type, is_active = EXCLUDED.is_active`,
        [org, all.map((t) => t.tax_id), all.map((t) => t.tax_name), all.map((t) => t.percentage), all.map((t) => t.is_group),
          all.map((t) => t.kind ?? 'unknown'), all.map((t) => t.specific_type), all.map((t) => t.is_active)])
    })
  }

  /** Every tax (all pages) and every group, replacing the cache. */
  async function readTaxes(signal?: AbortSignal): Promise<number> {
    const list = await books.callPages<ZohoTax>({ method: 'GET', path: '/settings/taxes', endpoint: 'GET /settings/taxes' }, 'taxes', signal)
    if (!list.complete) throw new ZohoError('retryable', 'ZOHO_TAXES_TOO_LONG', `the organization has more than ${list.items.length} taxes; only that many were read`)
    const groups = await books.callPages<ZohoTaxGroup>({ method: 'GET', path: '/settings/taxgroups', endpoint: 'GET /settings/taxgroups' }, 'tax_groups', signal)
    const all = taxesFromZoho(list.items, groups.items)
    await store(all, true)
    return all.length
  }

  /** One request (the first page of the taxes list, groups included as Zoho lists them): adds what it finds to the cache. */
  async function readTaxesOnce(signal?: AbortSignal): Promise<number> {
    const list = await books.callPages<ZohoTax>({ method: 'GET', path: '/settings/taxes', endpoint: 'GET /settings/taxes' }, 'taxes', signal, 1)
    const all = taxesFromZoho(list.items, [])
    await store(all, false)
    return all.length
  }

  async function cachedTaxes(): Promise<CachedTax[]> {
    const { rows } = await pool.query<Omit<CachedTax, 'kind'> & { kind: string }>(
      'SELECT tax_id, tax_name, percentage::text AS percentage, is_group, kind, specific_type, is_active FROM zoho_taxes WHERE organization_id = $1 ORDER BY percentage, tax_name', [org])
    return rows.map((r) => ({ ...r, kind: r.kind === 'unknown' ? null : r.kind as TaxKind }))
  }

  async function everRead(list: 'taxes' | 'tags'): Promise<boolean> {
    const { rowCount } = await pool.query('SELECT 1 FROM zoho_reference_state WHERE organization_id = $1 AND list = $2', [org, list])
    return (rowCount ?? 0) > 0
  }

  /** Re-reads the taxes unless they were read within the refresh interval (by this or another process). */
  async function refreshTaxes(signal?: AbortSignal, force = false): Promise<boolean> {
    return refreshReference(pool, org, 'taxes', force ? 0 : options.refreshMs ?? TAXES_REFRESH_MS, () => readTaxes(signal), signal)
  }

  async function mapped(key: string): Promise<{ zoho_tax_id: string; origin: string } | undefined> {
    return (await pool.query<{ zoho_tax_id: string; origin: string }>('SELECT zoho_tax_id, origin FROM tax_map WHERE organization_id = $1 AND tax_code = $2', [org, key])).rows[0]
  }

  /** A NetSuite tax code and rate → the Zoho tax or tax group to put on the line. */
  async function resolveTax(taxCode: string, taxRate: string | undefined, signal?: AbortSignal): Promise<ZohoTaxRef> {
    const key = accountKey(taxCode)
    if (!key) throw new ZohoError('permanent', 'TAX_UNMAPPED', 'a line has an empty taxCode')
    // The steady state: one indexed query, no request.
    const hit = (await pool.query<Omit<CachedTax, 'kind'> & { kind: string }>(
      `SELECT z.tax_id, z.tax_name, z.percentage::text AS percentage, z.is_group, z.kind, z.specific_type, z.is_active
         FROM tax_map m JOIN zoho_taxes z ON z.organization_id = m.organization_id AND z.tax_id = m.zoho_tax_id
        WHERE m.organization_id = $1 AND m.tax_code = $2 AND z.is_active`, [org, key])).rows[0]
    if (hit) return taxRef({ ...hit, kind: hit.kind === 'unknown' ? null : hit.kind as TaxKind })
    if (!await everRead('taxes')) await refreshTaxes(signal)
    const byId = async () => new Map((await cachedTaxes()).map((t) => [t.tax_id, t]))
    const chosen = await mapped(key)
    if (chosen) {
      let tax = (await byId()).get(chosen.zoho_tax_id)
      if (!tax?.is_active && await refreshTaxes(signal)) tax = (await byId()).get(chosen.zoho_tax_id)
      if (tax?.is_active) return taxRef(tax)
      if (chosen.origin === 'operator') {
        throw new ZohoError('permanent', 'TAX_UNMAPPED', unmappedMessage(taxCode, `it is mapped to Zoho tax ${chosen.zoho_tax_id}, which Zoho ${tax ? 'marks inactive' : 'no longer lists'}`, []))
      }
      // An automatic match whose tax is gone: forget it and match again.
      await pool.query(`DELETE FROM tax_map WHERE organization_id = $1 AND tax_code = $2 AND origin = 'auto'`, [org, key])
    }
    let match = matchTax(await cachedTaxes(), taxCode, taxRate)
    if (!('tax' in match) && await refreshTaxes(signal)) match = matchTax(await cachedTaxes(), taxCode, taxRate)
    if (!('tax' in match)) throw new ZohoError('permanent', 'TAX_UNMAPPED', unmappedMessage(taxCode, match.problem, match.candidates))
    // Remembered, so a later change of the Zoho list does not silently move the code to another tax.
    await pool.query(`INSERT INTO tax_map (organization_id, tax_code, zoho_tax_id, origin) VALUES ($1, $2, $3, 'auto') ON CONFLICT DO NOTHING`, [org, key, match.tax.tax_id])
    const now = await mapped(key)
    if (now && now.zoho_tax_id !== match.tax.tax_id) {
      // An operator mapped it meanwhile: theirs wins.
      const theirs = (await byId()).get(now.zoho_tax_id)
      if (theirs?.is_active) return taxRef(theirs)
    }
    return taxRef(match.tax)
  }

  return { organization, readOrganization, readTaxes, readTaxesOnce, refreshTaxes, cachedTaxes, resolveTax }
}
