import { sql } from 'kysely'
import type { Db } from '../db/pool.ts'
import { AppError } from '../errors.ts'
import { dayFilter, decodeKeyset, encodeKeyset } from './keyset.ts'

export interface ActivityFilter {
  actor?: string
  action?: string
  from?: string
  to?: string
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

/** The audit trail, newest first, keyset pages by (at, id). */
export function createActivityRepository(db: Db) {
  return {
    async page(filter: ActivityFilter, cursor: string | undefined, limit = 50): Promise<{ rows: ActivityRow[]; next: string | null }> {
      let q = db.selectFrom('operator_audit').select(['id', 'at', 'actor', 'action', 'subject', 'detail', 'address'])
      if (filter.actor) q = q.where('actor', '=', filter.actor)
      if (filter.action) q = q.where('action', '=', filter.action)
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
