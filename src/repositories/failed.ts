import { sql } from 'kysely'
import type { Db } from '../db/pool.ts'
import { AppError } from '../errors.ts'
import { recordOperatorAction } from '../audit/operator-actions.ts'
import { isUuid } from './transactions.ts'

export interface FailedFilter {
  from?: string
  to?: string
  vendor?: string
  errorCode?: string
  /** client batchId or batch row id */
  batch?: string
  /** a Zoho organization id: only its bills */
  organization?: string
}

export interface FailedRow {
  id: string
  externalId: string
  billNumber: string
  vendorName: string
  amount: string
  currency: string
  attempts: number
  errorCode: string | null
  errorMessage: string | null
  /** the Zoho vendor the bill was resolved to before it failed, if it got that far */
  zohoVendorId: string | null
  zohoVendorName: string | null
  /** the Zoho organization the bill goes to (NULL only for a bill stored before bills had one) */
  organizationId: string | null
  createdAt: Date
}

const DAY = /^\d{4}-\d{2}-\d{2}$/
/** A Zoho organization id, as ZOHO_ORGANIZATIONS requires it. */
export const ORGANIZATION_ID = /^\d{1,30}$/

function isCalendarDay(value: string): boolean {
  if (!DAY.test(value)) return false
  const day = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(value)
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url')
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|')
  const createdAt = new Date(at ?? '')
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) throw new AppError('CURSOR_INVALID', 'the page cursor is not valid; start from the first page', 400)
  return { createdAt, id }
}

/** The failed list behind the dashboard and the bulk retry API: newest first, keyset pages, indexed filters. */
export function createFailedRepository(db: Db) {
  async function batchRowId(batch: string): Promise<string | null> {
    const row = await db.selectFrom('batches').select('id')
      .where((eb) => (isUuid(batch) ? eb.or([eb('client_batch_id', '=', batch), eb('id', '=', batch)]) : eb('client_batch_id', '=', batch)))
      .executeTakeFirst()
    return row?.id ?? null
  }

  async function query(filter: FailedFilter) {
    for (const [name, value] of [['from', filter.from], ['to', filter.to]] as const) {
      if (value && !isCalendarDay(value)) throw new AppError('FILTER_INVALID', `${name} must be a real date as YYYY-MM-DD, got "${value.slice(0, 40)}"`, 400)
    }
    if (filter.organization && !ORGANIZATION_ID.test(filter.organization)) throw new AppError('FILTER_INVALID', `organization must be a Zoho organization id (digits), got "${filter.organization.slice(0, 40)}"`, 400)
    let q = db.selectFrom('transactions').where('status', '=', 'failed')
    if (filter.organization) q = q.where('organization_id', '=', filter.organization)
    if (filter.from) q = q.where('created_at', '>=', new Date(`${filter.from}T00:00:00Z`))
    if (filter.to) q = q.where('created_at', '<', sql<Date>`${filter.to}::date + 1`)
    if (filter.vendor) q = q.where('vendor_name', '=', filter.vendor)
    if (filter.errorCode) q = q.where('last_error_code', '=', filter.errorCode)
    if (filter.batch) {
      const id = await batchRowId(filter.batch)
      q = q.where('batch_id', '=', id ?? '00000000-0000-0000-0000-000000000000')
    }
    return q
  }

  return {
    async page(filter: FailedFilter, cursor: string | undefined, limit = 50): Promise<{ rows: FailedRow[]; next: string | null }> {
      let q = await query(filter)
      if (cursor) {
        const c = decodeCursor(cursor)
        q = q.where(sql<boolean>`(created_at, id) < (${c.createdAt}, ${c.id}::uuid)`)
      }
      const rows = await q
        .select(['id', 'external_id', 'bill_number', 'vendor_name', 'amount', 'currency', 'attempts', 'last_error_code', 'last_error_message', 'zoho_vendor_id', 'zoho_vendor_name', 'organization_id', 'created_at'])
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute()
      const page = rows.slice(0, limit).map((r) => ({
        id: r.id, externalId: r.external_id, billNumber: r.bill_number, vendorName: r.vendor_name, amount: r.amount, currency: r.currency,
        attempts: r.attempts, errorCode: r.last_error_code, errorMessage: r.last_error_message,
        zohoVendorId: r.zoho_vendor_id, zohoVendorName: r.zoho_vendor_name, organizationId: r.organization_id, createdAt: r.created_at,
      }))
      return { rows: page, next: rows.length > limit ? encodeCursor(page.at(-1)!) : null }
    },

    /** Ids of every failed bill matching the filter, up to max (select-all-matching). */
    async ids(filter: FailedFilter, max = 10_000): Promise<string[]> {
      const rows = await (await query(filter)).select('id').orderBy('created_at', 'desc').orderBy('id', 'desc').limit(max).execute()
      return rows.map((r) => r.id)
    },

    async count(filter: FailedFilter, max = 10_000): Promise<number> {
      const sub = (await query(filter)).select('id').limit(max)
      const row = await db.selectFrom(sub.as('f')).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
      return Number(row.n)
    },
  }
}

export type FailedRepository = ReturnType<typeof createFailedRepository>

/**
 * Marks bills an operator has settled by hand as resolved, with the note saying how, recorded in the same
 * transaction; they leave the failed list.
 */
export async function resolveTransactions(db: Db, ids: string[], who: { actor: string; address?: string | null; note: string }): Promise<string[]> {
  const note = who.note.trim()
  if (!note) throw new AppError('NOTE_REQUIRED', 'say how the bill was settled: a note is required to mark it resolved', 400)
  if (note.length > 2000) throw new AppError('NOTE_TOO_LONG', 'the note is longer than 2,000 characters', 400)
  if (ids.length === 0) return []
  return db.transaction().execute(async (trx) => {
    const rows = await trx.updateTable('transactions').set({ status: 'resolved', updated_at: new Date() }).where('id', 'in', ids).where('status', '=', 'failed').returning('id').execute()
    for (const row of rows) await recordOperatorAction(trx, { actor: who.actor, action: 'resolve', subject: row.id, detail: { note }, address: who.address ?? null })
    return rows.map((r) => r.id)
  })
}
