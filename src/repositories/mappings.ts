import { sql } from 'kysely'
import type { Db } from '../db/pool.ts'

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
 * Accounts and vendors seen on bills (mapping_usage, a rollup) with their Zoho mapping: failing and
 * unmapped first. A vendor's mapping is found by its NetSuite id or by its name, as delivery finds it.
 */
export function createMappingRepository(db: Db, organizationId: string) {
  function base(kind: MappingKind) {
    const q = db.selectFrom('mapping_usage as u').where('u.kind', '=', kind)
    if (kind === 'account') {
      return q.leftJoin('account_map as m', (j) => j.onRef('m.account', '=', 'u.key').on('m.organization_id', '=', organizationId))
        .leftJoin('zoho_accounts as z', (j) => j.onRef('z.account_id', '=', 'm.zoho_account_id').on('z.organization_id', '=', organizationId))
        .select(['m.zoho_account_id as zoho_id', 'm.origin', 'z.account_name as zoho_name'])
    }
    return q.leftJoinLateral(
      (eb) => eb.selectFrom('vendor_map').select(['zoho_vendor_id as zoho_id', 'origin', 'vendor_name as zoho_name'])
        .where('organization_id', '=', organizationId)
        .where((w) => w.or([w('vendor_key', '=', sql<string>`'name:' || u.key`), w('vendor_key', '=', sql<string>`'id:' || u.vendor_external_id`)]))
        .orderBy(sql`vendor_key LIKE 'id:%'`, 'desc').limit(1).as('m'),
      (j) => j.onTrue(),
    ).select(['m.zoho_id', 'm.origin', 'm.zoho_name'])
  }

  const toRow = (kind: MappingKind) => (r: { key: string; label: string; vendor_external_id: string | null; bills: string; failed: string; zoho_id: string | null; origin: string | null; zoho_name: string | null }): MappingRow => ({
    kind, key: r.key, label: r.label, vendorExternalId: r.vendor_external_id, bills: Number(r.bills), failed: Number(r.failed),
    zohoId: r.zoho_id, origin: r.origin, zohoName: r.zoho_name,
  })

  return {
    /** One kind, failing first, then unmapped, then by name; `prefix` narrows by the start of the name. */
    async list(kind: MappingKind, options: { prefix?: string; offset?: number; limit?: number } = {}): Promise<MappingRow[]> {
      let q = base(kind).select(['u.key', 'u.label', 'u.vendor_external_id', 'u.bills', 'u.failed'])
      if (options.prefix) q = q.where('u.key', 'like', `${options.prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      const rows = await q.orderBy(sql`u.failed > 0`, 'desc').orderBy(kind === 'account' ? sql`m.zoho_account_id IS NULL` : sql`m.zoho_id IS NULL`, 'desc').orderBy('u.failed', 'desc').orderBy('u.key')
        .offset(options.offset ?? 0).limit(options.limit ?? 100).execute()
      return rows.map(toRow(kind))
    },

    async find(kind: MappingKind, key: string): Promise<MappingRow | null> {
      const row = await base(kind).select(['u.key', 'u.label', 'u.vendor_external_id', 'u.bills', 'u.failed']).where('u.key', '=', key).executeTakeFirst()
      return row ? toRow(kind)(row) : null
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
        const like = `${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
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
