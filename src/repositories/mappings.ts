import { sql, type Selectable, type SelectQueryBuilder } from 'kysely'
import type { Db } from '../db/pool.ts'
import type { Database } from '../db/schema.ts'
import { likePrefix } from './keyset.ts'

export type MappingKind = 'account' | 'vendor' | 'tax' | 'department' | 'class' | 'location'
export const TAG_KINDS = ['department', 'class', 'location'] as const
export type TagKind = typeof TAG_KINDS[number]
export const isTagKind = (kind: string): kind is TagKind => (TAG_KINDS as readonly string[]).includes(kind)

export interface ZohoTaxOption {
  tax_id: string
  tax_name: string
  percentage: string
  kind: string
  is_group: boolean
}

export interface ZohoTagOption {
  tag_id: string
  tag_option_id: string
  option_name: string
  full_name: string
}

export interface ChartAccount {
  account_id: string
  account_name: string
  account_code: string | null
  account_type: string | null
}

export interface MappingRow {
  kind: MappingKind
  key: string
  label: string
  vendorExternalId: string | null
  bills: number
  failed: number
  zohoId: string | null
  origin: string | null
  zohoName: string | null
}

/**
 * Accounts and vendors seen on one organization's bills (mapping_usage, a rollup) with that organization's
 * Zoho mapping, those with failed bills first. A vendor's mapping is found by its NetSuite id or by its name,
 * as delivery finds it.
 */
const BY_ID = sql<boolean>`(mi.source = 'operator' OR (mi.zoho_vendor_id IS NOT NULL AND mn.source IS DISTINCT FROM 'operator'))`

type UsageQuery = SelectQueryBuilder<Database, 'mapping_usage', Selectable<Database['mapping_usage']>>

export function createMappingRepository(db: Db, organizationId: string) {
  /** The usage rows `shape` picks (filter, order, page), each with its Zoho mapping, in the same order. */
  async function withMappings(kind: MappingKind, shape: (q: UsageQuery) => UsageQuery): Promise<MappingRow[]> {
    const usage = shape(db.selectFrom('mapping_usage').selectAll().where('organization_id', '=', organizationId).where('kind', '=', kind)).as('u')
    const rows = kind === 'tax'
      ? await db.selectFrom(usage)
        .leftJoin('tax_map as m', (j) => j.onRef('m.tax_code', '=', 'u.key').on('m.organization_id', '=', organizationId))
        .leftJoin('zoho_taxes as z', (j) => j.onRef('z.tax_id', '=', 'm.zoho_tax_id').on('z.organization_id', '=', organizationId))
        .select(['u.key', 'u.label', 'u.vendor_external_id', 'u.bills', 'u.failed', 'm.zoho_tax_id as zoho_id', 'm.origin',
          sql<string | null>`z.tax_name || ' (' || trim_scale(z.percentage) || '%' || CASE WHEN z.kind IN ('standard', 'unknown') THEN '' ELSE ', ' || replace(z.kind, '_', ' ') END || ')'`.as('zoho_name')])
        .orderBy('u.failed', 'desc').orderBy('u.key').execute()
      : isTagKind(kind)
      ? await db.selectFrom(usage)
        .leftJoin('tag_map as m', (j) => j.onRef('m.value', '=', 'u.key').on('m.organization_id', '=', organizationId).on('m.segment', '=', kind))
        .leftJoin('zoho_tag_options as z', (j) => j.onRef('z.tag_option_id', '=', 'm.tag_option_id').onRef('z.tag_id', '=', 'm.tag_id').on('z.organization_id', '=', organizationId))
        .select(['u.key', 'u.label', 'u.vendor_external_id', 'u.bills', 'u.failed', 'm.tag_option_id as zoho_id', 'm.origin', 'z.full_name as zoho_name'])
        .orderBy('u.failed', 'desc').orderBy('u.key').execute()
      : kind === 'account'
      ? await db.selectFrom(usage)
        .leftJoin('account_map as m', (j) => j.onRef('m.account', '=', 'u.key').on('m.organization_id', '=', organizationId))
        .leftJoin('zoho_accounts as z', (j) => j.onRef('z.account_id', '=', 'm.zoho_account_id').on('z.organization_id', '=', organizationId))
        .select(['u.key', 'u.label', 'u.vendor_external_id', 'u.bills', 'u.failed', 'm.zoho_account_id as zoho_id', 'm.origin', 'z.account_name as zoho_name'])
        .orderBy('u.failed', 'desc').orderBy('u.key').execute()
      // As delivery picks (pickVendorRow): an operator's mapping of the id, then of the name, then the id's
      // own lookup, then the name; each join is one primary-key probe.
      : await db.selectFrom(usage)
        .leftJoin('vendor_map as mi', (j) => j.on('mi.organization_id', '=', organizationId).on('mi.vendor_key', '=', sql<string>`'id:' || u.vendor_external_id`))
        .leftJoin('vendor_map as mn', (j) => j.on('mn.organization_id', '=', organizationId).on('mn.vendor_key', '=', sql<string>`'name:' || u.key`))
        .select(['u.key', 'u.label', 'u.vendor_external_id', 'u.bills', 'u.failed',
          sql<string | null>`CASE WHEN ${BY_ID} THEN mi.zoho_vendor_id ELSE mn.zoho_vendor_id END`.as('zoho_id'),
          sql<string | null>`CASE WHEN ${BY_ID} THEN mi.origin ELSE mn.origin END`.as('origin'),
          sql<string | null>`CASE WHEN ${BY_ID} THEN mi.zoho_vendor_name ELSE mn.zoho_vendor_name END`.as('zoho_name')])
        .orderBy('u.failed', 'desc').orderBy('u.key').execute()
    return rows.map((r) => ({
      kind, key: r.key, label: r.label, vendorExternalId: r.vendor_external_id, bills: Number(r.bills), failed: Number(r.failed),
      zohoId: r.zoho_id, origin: r.origin, zohoName: r.zoho_name,
    }))
  }

  /** Ids of the organization's bills failed now that carry this account or vendor (what "retry the N bills" retries). */
  async function failedIds(kind: MappingKind, key: string, max = 10_000): Promise<string[]> {
    let q = db.selectFrom('transactions').select('id').where(sql<string>`organization_id`, '=', organizationId).where('status', '=', 'failed')
    q = kind === 'vendor' ? q.where(sql<string>`lower(btrim(vendor_name))`, '=', key)
      : kind === 'account' ? q.where(sql<boolean>`EXISTS (SELECT 1 FROM jsonb_array_elements(bill->'lines') l WHERE account_key(l->>'account') = ${key})`)
      // Tax codes and segments as migration 0024 counts them (a line's segment falls back to the bill's).
      : q.where(sql<boolean>`EXISTS (SELECT 1 FROM bill_reference_keys(bill) k WHERE k.kind = ${kind} AND k.key = ${key})`)
    const rows = await q.orderBy('created_at', 'desc').limit(max).execute()
    return rows.map((r) => r.id)
  }

  return {
    /** One kind, most failed bills first, then by name; `prefix` narrows by the start of the name. */
    async list(kind: MappingKind, options: { prefix?: string; offset?: number; limit?: number } = {}): Promise<MappingRow[]> {
      // Failing first (an unmapped or ambiguous account or vendor shows as failed bills), in index order
      // (mapping_usage_order_idx), so a page joins its own rows only, not every vendor seen.
      return withMappings(kind, (q) => {
        const narrowed = options.prefix ? q.where('key', 'like', likePrefix(options.prefix)) : q
        return narrowed.orderBy('failed', 'desc').orderBy('key').offset(options.offset ?? 0).limit(options.limit ?? 100)
      })
    },

    async find(kind: MappingKind, key: string): Promise<MappingRow | null> {
      return (await withMappings(kind, (q) => q.where('key', '=', key)))[0] ?? null
    },

    failedIds,

    /**
     * The cached chart of accounts: active accounts whose name or code contains the term (those where it
     * starts the name or code first), the first `limit` of them, and how many match in all.
     */
    async chart(term: string, limit = 50): Promise<{ rows: ChartAccount[]; total: number }> {
      let q = db.selectFrom('zoho_accounts').where('organization_id', '=', organizationId).where('is_active', '=', true)
      const prefix = likePrefix(term)
      if (term) q = q.where((eb) => eb.or([eb(sql`lower(account_name)`, 'like', `%${prefix}`), eb(sql`lower(coalesce(account_code, ''))`, 'like', `%${prefix}`)]))
      const [rows, count] = await Promise.all([
        q.select(['account_id', 'account_name', 'account_code', 'account_type'])
          .orderBy(sql`lower(account_name) LIKE ${prefix} OR lower(coalesce(account_code, '')) LIKE ${prefix}`, 'desc').orderBy('account_name').limit(limit).execute(),
        q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ])
      return { rows, total: Number(count.n) }
    },

    /**
     * Why the bills failed now for this account or vendor: their codes, the Zoho contact ids a
     * VENDOR_AMBIGUOUS message names, and the email the NetSuite vendor carries on those bills.
     */
    async failedSummary(kind: MappingKind, key: string): Promise<{ codes: string[]; ambiguousIds: string[]; vendorEmail: string | null }> {
      const ids = await failedIds(kind, key, 200)
      if (ids.length === 0) return { codes: [], ambiguousIds: [], vendorEmail: null }
      const rows = await db.selectFrom('transactions').select(['last_error_code', 'last_error_message', sql<string | null>`vendor->>'email'`.as('email')])
        .where('id', 'in', ids).execute()
      const contactIds = new Set<string>()
      for (const r of rows) {
        if (r.last_error_code !== 'VENDOR_AMBIGUOUS') continue
        // delivery/vendors.ts names them as "(contact ids 123, 456)".
        for (const id of /contact ids ([\d, ]+)/.exec(r.last_error_message ?? '')?.[1]?.match(/\d+/g) ?? []) contactIds.add(id)
      }
      return {
        codes: [...new Set(rows.map((r) => r.last_error_code ?? 'UNKNOWN'))],
        ambiguousIds: [...contactIds],
        vendorEmail: rows.find((r) => r.email)?.email ?? null,
      }
    },

    /** The cached Zoho taxes and tax groups that are active, by rate then name (the Taxes picker). */
    async taxes(): Promise<ZohoTaxOption[]> {
      const rows = await db.selectFrom('zoho_taxes').select(['tax_id', 'tax_name', sql<string>`trim_scale(percentage)::text`.as('percentage'), 'kind', 'is_group'])
        .where('organization_id', '=', organizationId).where('is_active', '=', true).orderBy('percentage').orderBy('tax_name').limit(500).execute()
      return rows
    },

    /** The active options of the cached reporting tag of that name (the Tags picker); `term` narrows by part of the name. */
    async tagOptions(tagName: string, term = ''): Promise<ZohoTagOption[]> {
      let q = db.selectFrom('zoho_tag_options as o').innerJoin('zoho_tags as t', (j) => j.onRef('t.tag_id', '=', 'o.tag_id').onRef('t.organization_id', '=', 'o.organization_id'))
        .select(['o.tag_id', 'o.tag_option_id', 'o.option_name', 'o.full_name']).where('o.organization_id', '=', organizationId).where('o.is_active', '=', true)
        .where(sql<string>`lower(btrim(t.tag_name))`, '=', tagName.trim().toLowerCase())
      if (term) q = q.where(sql<string>`lower(o.full_name)`, 'like', `%${likePrefix(term)}`)
      return q.orderBy('o.full_name').limit(term ? 200 : 1000).execute()
    },

    async chartState() {
      return db.selectFrom('zoho_reference_state').select(['fetched_at', 'item_count']).where('organization_id', '=', organizationId).where('list', '=', 'accounts').executeTakeFirst()
    },
  }
}

export type MappingRepository = ReturnType<typeof createMappingRepository>
