import { sql, type Selectable, type SelectQueryBuilder } from 'kysely'
import type { Db } from '../db/pool.ts'
import type { Database } from '../db/schema.ts'
import { likePrefix } from './keyset.ts'

export type MappingKind = 'account' | 'vendor'

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
 * Accounts and vendors seen on bills (mapping_usage, a rollup) with their Zoho mapping, those with
 * failed bills first. A vendor's mapping is found by its NetSuite id or by its name, as delivery finds it.
 */
const BY_ID = sql<boolean>`(mi.source = 'operator' OR (mi.zoho_vendor_id IS NOT NULL AND mn.source IS DISTINCT FROM 'operator'))`

type UsageQuery = SelectQueryBuilder<Database, 'mapping_usage', Selectable<Database['mapping_usage']>>

export function createMappingRepository(db: Db, organizationId: string) {
  /** The usage rows `shape` picks (filter, order, page), each with its Zoho mapping, in the same order. */
  async function withMappings(kind: MappingKind, shape: (q: UsageQuery) => UsageQuery): Promise<MappingRow[]> {
    const usage = shape(db.selectFrom('mapping_usage').selectAll().where('kind', '=', kind)).as('u')
    const rows = kind === 'account'
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

    /** Ids of the bills failed now that carry this account or vendor (what "retry the N bills" retries). */
    async failedIds(kind: MappingKind, key: string, max = 10_000): Promise<string[]> {
      let q = db.selectFrom('transactions').select('id').where('status', '=', 'failed')
      q = kind === 'vendor'
        ? q.where(sql<string>`lower(btrim(vendor_name))`, '=', key)
        : q.where(sql<boolean>`EXISTS (SELECT 1 FROM jsonb_array_elements(bill->'lines') l WHERE account_key(l->>'account') = ${key})`)
      const rows = await q.orderBy('created_at', 'desc').limit(max).execute()
      return rows.map((r) => r.id)
    },

    /** The cached chart of accounts, active accounts whose name or code starts with the term. */
    async chart(term: string, limit = 50) {
      let q = db.selectFrom('zoho_accounts').select(['account_id', 'account_name', 'account_code', 'account_type'])
        .where('organization_id', '=', organizationId).where('is_active', '=', true)
      if (term) {
        const like = likePrefix(term)
        q = q.where((eb) => eb.or([eb(sql`lower(account_name)`, 'like', like), eb(sql`lower(coalesce(account_code, ''))`, 'like', like), eb(sql`lower(account_name)`, 'like', `%${like}`)]))
      }
      return q.orderBy('account_name').limit(limit).execute()
    },

    async chartState() {
      return db.selectFrom('zoho_reference_state').select(['fetched_at', 'item_count']).where('organization_id', '=', organizationId).where('list', '=', 'accounts').executeTakeFirst()
    },
  }
}

export type MappingRepository = ReturnType<typeof createMappingRepository>
