import { sql } from 'kysely'
import type { Db } from '../db/pool.ts'
import { AppError } from '../errors.ts'
import { dayFilter } from './keyset.ts'

export interface RejectedFilter {
  code?: string
  from?: string
  to?: string
}

export interface RejectedRow {
  batchRowId: string
  batchId: string
  index: number
  externalId: string | null
  code: string
  field: string | null
  message: string
  createdAt: Date
}

function encode(row: RejectedRow): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.batchRowId}|${row.index}`).toString('base64url')
}

function decode(cursor: string): { at: Date; batch: string; index: number } {
  const [at, batch, index] = Buffer.from(cursor, 'base64url').toString().split('|')
  const date = new Date(at ?? '')
  if (!batch || !/^[0-9a-f-]{36}$/i.test(batch) || !/^\d+$/.test(index ?? '') || Number.isNaN(date.getTime())) {
    throw new AppError('CURSOR_INVALID', 'the page cursor is not valid; start from the first page', 400)
  }
  return { at: date, batch, index: Number(index) }
}

/** Items rejected at ingest across batches, newest first, by code and date. */
export function createRejectedRepository(db: Db) {
  return {
    async page(filter: RejectedFilter, cursor: string | undefined, limit = 50): Promise<{ rows: RejectedRow[]; next: string | null }> {
      let q = db.selectFrom('rejected_items as r').innerJoin('batches as b', 'b.id', 'r.batch_id')
        .select(['r.batch_id', 'b.client_batch_id', 'r.item_index', 'r.external_id', 'r.code', 'r.field', 'r.message', 'r.created_at'])
      if (filter.code) q = q.where('r.code', '=', filter.code)
      const { from, to } = dayFilter(filter)
      if (from) q = q.where('r.created_at', '>=', from)
      if (to) q = q.where('r.created_at', '<', to)
      if (cursor) {
        const c = decode(cursor)
        q = q.where(sql<boolean>`(r.created_at, r.batch_id, r.item_index) < (${c.at}, ${c.batch}::uuid, ${c.index}::int)`)
      }
      const rows = await q.orderBy('r.created_at', 'desc').orderBy('r.batch_id', 'desc').orderBy('r.item_index', 'desc').limit(limit + 1).execute()
      const page = rows.slice(0, limit).map((r) => ({
        batchRowId: r.batch_id, batchId: r.client_batch_id ?? r.batch_id, index: r.item_index, externalId: r.external_id,
        code: r.code, field: r.field, message: r.message, createdAt: r.created_at,
      }))
      return { rows: page, next: rows.length > limit ? encode(page.at(-1)!) : null }
    },
  }
}

export type RejectedRepository = ReturnType<typeof createRejectedRepository>
