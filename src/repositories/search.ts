import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../db/pool.ts'
import { AppError } from '../errors.ts'
import { likePrefix } from './keyset.ts'

export const SEARCH_KEYS = ['billNumber', 'externalId', 'zohoBillId', 'vendor'] as const
export type SearchKey = (typeof SEARCH_KEYS)[number]

export interface SearchRow {
  id: string
  billNumber: string
  externalId: string
  vendorName: string
  status: string
  amount: string
  currency: string
  zohoBillId: string | null
  zohoVendorId: string | null
  zohoVendorName: string | null
  errorCode: string | null
  /** the Zoho organization the bill goes to */
  organizationId: string | null
  createdAt: Date
  /** the matched key's value, lower-cased: the keyset position */
  sortKey: string
}

export interface RejectedMatch {
  batchRowId: string
  batchId: string
  index: number
  externalId: string | null
  billNumber: string | null
  vendorName: string | null
  code: string
  field: string | null
  message: string
  createdAt: Date
}

// The indexed expression of each key (db/migrations/0020): prefix, case-insensitive, C collation.
const KEY_EXPR: Record<SearchKey, RawBuilder<string>> = {
  billNumber: sql<string>`lower(bill_number) COLLATE "C"`,
  externalId: sql<string>`lower(external_id) COLLATE "C"`,
  vendor: sql<string>`lower(vendor_name) COLLATE "C"`,
  zohoBillId: sql<string>`zoho_bill_id`,
}

export function isSearchKey(value: string | undefined): value is SearchKey {
  return (SEARCH_KEYS as readonly string[]).includes(value ?? '')
}

/** One box: a bill by number, NetSuite id or vendor name (prefix, any case) or Zoho bill id (exact), any status. */
export function createSearchRepository(db: Db) {
  /** Bills whose `key` starts with the term (a Zoho bill id: is it), in the key's order; only one organization's when named. */
  async function byKey(key: SearchKey, term: string, cursor: string | undefined, limit: number, organization?: string): Promise<{ rows: SearchRow[]; next: string | null }> {
    const expr = KEY_EXPR[key]
    let q = db.selectFrom('transactions')
      .select(['id', 'bill_number', 'external_id', 'vendor_name', 'status', 'amount', 'currency', 'zoho_bill_id', 'zoho_vendor_id', 'zoho_vendor_name', 'last_error_code', 'organization_id', 'created_at'])
      .select(expr.as('sort_key'))
    q = key === 'zohoBillId' ? q.where('zoho_bill_id', '=', term) : q.where(sql<boolean>`${expr} LIKE ${likePrefix(term)}`)
    // A filter on the prefix index's range: the organization narrows the matches, the key's order still pages them.
    if (organization) q = q.where('organization_id', '=', organization)
    if (cursor) {
      const [value, id] = decodeSearchCursor(cursor)
      q = q.where(sql<boolean>`(${expr}, id) > (${value}, ${id}::uuid)`)
    }
    const rows = await q.orderBy(expr).orderBy('id').limit(limit + 1).execute()
    const page = rows.slice(0, limit).map((r) => ({
      id: r.id, billNumber: r.bill_number, externalId: r.external_id, vendorName: r.vendor_name, status: r.status, amount: r.amount,
      currency: r.currency, zohoBillId: r.zoho_bill_id, zohoVendorId: r.zoho_vendor_id, zohoVendorName: r.zoho_vendor_name, errorCode: r.last_error_code, organizationId: r.organization_id, createdAt: r.created_at, sortKey: r.sort_key,
    }))
    const last = page.at(-1)
    return { rows: page, next: rows.length > limit && last ? Buffer.from(`${last.sortKey}\u0000${last.id}`).toString('base64url') : null }
  }

  /** Items rejected at ingest whose bill number, NetSuite id or vendor name starts with the term, newest first. */
  async function rejected(term: string, limit = 20): Promise<{ rows: RejectedMatch[]; more: boolean }> {
    const like = likePrefix(term)
    // Each arm is one of the rejected_items search indexes (db/migrations/0023), ORed in a bitmap.
    const rows = await db.selectFrom('rejected_items as r').innerJoin('batches as b', 'b.id', 'r.batch_id')
      .select(['r.batch_id', 'b.client_batch_id', 'r.item_index', 'r.external_id', 'r.bill_number', 'r.vendor_name', 'r.code', 'r.field', 'r.message', 'r.created_at'])
      .where((eb) => eb.or([
        eb(sql<string>`lower(r.bill_number) COLLATE "C"`, 'like', like),
        eb(sql<string>`lower(left(r.external_id, 200)) COLLATE "C"`, 'like', like),
        eb(sql<string>`lower(r.vendor_name) COLLATE "C"`, 'like', like),
      ]))
      .orderBy('r.created_at', 'desc').orderBy('r.batch_id', 'desc').orderBy('r.item_index', 'desc').limit(limit + 1).execute()
    return {
      rows: rows.slice(0, limit).map((r) => ({
        batchRowId: r.batch_id, batchId: r.client_batch_id ?? r.batch_id, index: r.item_index, externalId: r.external_id, billNumber: r.bill_number,
        vendorName: r.vendor_name, code: r.code, field: r.field, message: r.message, createdAt: r.created_at,
      })),
      more: rows.length > limit,
    }
  }

  return {
    byKey,
    rejected,
    /** Every key at once, a few rows each: what the search box shows first. */
    async all(term: string, limit = 20, organization?: string): Promise<Record<SearchKey, { rows: SearchRow[]; next: string | null }>> {
      const answers = await Promise.all(SEARCH_KEYS.map((key) => byKey(key, term, undefined, limit, organization)))
      return Object.fromEntries(SEARCH_KEYS.map((key, i) => [key, answers[i]!])) as Record<SearchKey, { rows: SearchRow[]; next: string | null }>
    },
  }
}

function decodeSearchCursor(cursor: string): [string, string] {
  const [value, id] = Buffer.from(cursor, 'base64url').toString().split('\u0000')
  if (value === undefined || !id || !/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('CURSOR_INVALID', 'the page cursor is not valid; start from the first page', 400)
  return [value, id]
}

export type SearchRepository = ReturnType<typeof createSearchRepository>
