import { sql } from 'kysely'
import type { Db } from '../db/pool.ts'
import { AppError } from '../errors.ts'
import { dayFilter, decodeKeyset, encodeKeyset } from './keyset.ts'

export interface ActivityFilter {
  actor?: string
  action?: string
  from?: string
  to?: string
  /** a Zoho organization id: actions on its bills, or naming it (a mapping of it, a retry filtered to it) */
  organization?: string
}

export interface ActivityRow {
  id: string
  at: Date
  actor: string
  action: string
  subject: string | null
  detail: Record<string, unknown>
  address: string | null
}

/** A bill an action was about, as the page names it. */
export interface ActivityBill {
  id: string
  billNumber: string
  vendorName: string
  organizationId: string | null
}

/** What the page shows instead of raw ids: the bills (by id) and the Zoho accounts (by id) the rows name. */
export interface ActivityNames {
  bills: Map<string, ActivityBill>
  zohoAccounts: Map<string, string>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Bills named per bulk retry row: the page lists these few and counts the rest. */
export const BULK_IDS_SHOWN = 10

/** The audit trail, newest first, keyset pages by (at, id). */
export function createActivityRepository(db: Db, organizationId: string) {
  return {
    /** The bill numbers, vendors and Zoho account names behind a page's ids: primary-key lookups only. */
    async names(rows: ActivityRow[]): Promise<ActivityNames> {
      const billIds = new Set<string>()
      const accountIds = new Set<string>()
      for (const r of rows) {
        if (r.subject && UUID.test(r.subject)) billIds.add(r.subject)
        if (r.action === 'retry_bulk' && Array.isArray(r.detail.ids)) for (const id of r.detail.ids.slice(0, BULK_IDS_SHOWN)) if (typeof id === 'string' && UUID.test(id)) billIds.add(id)
        if (r.action === 'map_account') for (const id of [r.detail.old, r.detail.new]) if (typeof id === 'string') accountIds.add(id)
      }
      const [bills, accounts] = await Promise.all([
        billIds.size ? db.selectFrom('transactions').select(['id', 'bill_number', 'vendor_name', 'organization_id']).where('id', 'in', [...billIds]).execute() : [],
        accountIds.size ? db.selectFrom('zoho_accounts').select(['account_id', 'account_name']).where('organization_id', '=', organizationId).where('account_id', 'in', [...accountIds]).execute() : [],
      ])
      return {
        bills: new Map(bills.map((b) => [b.id, { id: b.id, billNumber: b.bill_number, vendorName: b.vendor_name, organizationId: b.organization_id }])),
        zohoAccounts: new Map(accounts.map((a) => [a.account_id, a.account_name])),
      }
    },

    async page(filter: ActivityFilter, cursor: string | undefined, limit = 50): Promise<{ rows: ActivityRow[]; next: string | null }> {
      let q = db.selectFrom('operator_audit').select(['id', 'at', 'actor', 'action', 'subject', 'detail', 'address'])
      if (filter.actor) q = q.where('actor', '=', filter.actor)
      if (filter.action) q = q.where('action', '=', filter.action)
      if (filter.organization) {
        if (!/^\d{1,30}$/.test(filter.organization)) throw new AppError('FILTER_INVALID', 'organization must be a Zoho organization id (digits)', 400)
        // The bill a row is about by its primary key; rows about no bill name the organization in their detail.
        q = q.where(sql<boolean>`(EXISTS (SELECT 1 FROM transactions t WHERE t.id = CASE WHEN subject ~* ${UUID.source} THEN subject::uuid END AND t.organization_id = ${filter.organization})
          OR detail->>'organizationId' = ${filter.organization} OR detail->'filter'->>'organization' = ${filter.organization})`)
      }
      const { from, to } = dayFilter(filter)
      if (from) q = q.where('at', '>=', from)
      if (to) q = q.where('at', '<', to)
      if (cursor) {
        const [at, id] = decodeKeyset(cursor)
        if (!/^\d+$/.test(id)) throw new AppError('CURSOR_INVALID', 'the page cursor is not valid; start from the first page', 400)
        q = q.where(sql<boolean>`(at, id) < (${new Date(at)}, ${id}::bigint)`)
      }
      const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute()
      const page = rows.slice(0, limit).map((r) => ({ ...r, detail: (r.detail ?? {}) as Record<string, unknown> }))
      return { rows: page, next: rows.length > limit ? encodeKeyset(page.at(-1)!.at, page.at(-1)!.id) : null }
    },
  }
}

export type ActivityRepository = ReturnType<typeof createActivityRepository>

/** The Zoho organization an action was about: its bill's, or the one its detail names; null for none (a login, a key). */
export function activityOrganization(row: ActivityRow, names: ActivityNames): string | null {
  const bill = row.subject ? names.bills.get(row.subject) : undefined
  if (bill?.organizationId) return bill.organizationId
  const named = row.detail.organizationId ?? (row.detail.filter as Record<string, unknown> | undefined)?.organization
  return typeof named === 'string' ? named : null
}
