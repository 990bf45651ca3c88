import type pg from 'pg'
import type { Alerter } from '../delivery/alerts.ts'
import type { Logger } from '../logger.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { compareBill, markerOf, strangerDifference, type DeliveredBill, type Difference, type DifferenceKind, type ZohoListedBill } from './compare.ts'
import { deliveredByZohoIds, deliveriesWaiting, finishRun, openCounts, openRun, pauseRun, recordRead, spendRequest, unseenDelivered, type RunRow } from './store.ts'

export const RECONCILE_LOCK = 'billbridge:reconcile'
/** One run at a time per organization, across the fleet: each organization has its own bills, budget and Zoho. */
const lockKey = (organizationId: string) => `${RECONCILE_LOCK}:${organizationId}`
const PER_PAGE = 200

export interface ReconcileDeps {
  pool: pg.Pool
  /** the organization's Books client */
  books: BooksClient
  /** the Zoho organization whose bills this run reads: the run, its differences and its daily share are its own */
  organizationId: string
  /** ZOHO_UNIQUE_FIELD: the custom field billbridge marks its bills with, when configured */
  uniqueField?: string
  /** the organization's ZOHO_DAILY_LIMIT (or its entry's dailyLimit) */
  dailyLimit: number
  /** RECONCILE_MAX_DAILY_SHARE */
  maxDailyShare: number
  logger: Logger
  alerts?: Alerter
  /** how long a run waits for queued deliveries to drain before it stops until its next run */
  yieldMs?: number
  signal?: AbortSignal
}

export interface ReconcileResult {
  /** done: every bill compared; paused: stopped (budget spent, deliveries waiting, Zoho unavailable) and resumed by the next run; busy: another run holds the lock */
  state: 'done' | 'paused' | 'busy'
  runId: string | null
  resumed: boolean
  /** why a paused run stopped */
  note?: string
  requests: number
  billsRead: number
  newDifferences: number
  closed: number
  open: Record<DifferenceKind, number>
}

class Stop extends Error {}

/** The requests one day's reconciliation may spend: its share of the organization's daily quota. */
export function dailyCap(dailyLimit: number, share: number): number {
  return Math.floor(dailyLimit * share)
}

/**
 * One reconciliation run of an organization, or the rest of its run left unfinished: reads the organization's
 * Zoho bills over its delivered bills' dates, page by page, and records where they differ from what billbridge
 * delivered to it. Only one run per organization at a time across the fleet (an advisory lock); a second
 * caller is answered `busy`.
 */
export async function reconcile(deps: ReconcileDeps, trigger = 'schedule'): Promise<ReconcileResult> {
  let result: ReconcileResult | null = null
  const lockHolder = await deps.pool.connect()
  try {
    const held = (await lockHolder.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [lockKey(deps.organizationId)])).rows[0]!.ok
    if (!held) return { state: 'busy', runId: null, resumed: false, requests: 0, billsRead: 0, newDifferences: 0, closed: 0, open: await openCounts(deps.pool, deps.organizationId) }
    try {
      result = await runLocked(deps, trigger)
    } finally {
      await lockHolder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(deps.organizationId)])
    }
  } finally {
    lockHolder.release()
  }
  return result
}

async function runLocked(deps: ReconcileDeps, trigger: string): Promise<ReconcileResult> {
  const { pool, logger } = deps
  const { run, resumed } = await openRun(pool, deps.organizationId, trigger)
  const before = { requests: run.requests, billsRead: run.bills_read, added: run.new_differences }
  const cap = dailyCap(deps.dailyLimit, deps.maxDailyShare)
  let closed = 0
  let note: string | undefined
  try {
    if (run.range_start && run.range_end) {
      if (!run.listing_done) await listPages(deps, run, cap)
      await readUnseen(deps, run, cap)
    }
    closed = await finishRun(pool, run)
  } catch (err) {
    if (!(err instanceof Stop) && !(err instanceof ZohoError)) throw err
    note = err instanceof Stop ? err.message : `Zoho did not answer (${err.code}): ${err.message}; the next run resumes here`
    await pauseRun(pool, run.id, note)
  }
  const after = (await pool.query<{ requests: number; bills_read: number; new_differences: number }>('SELECT requests, bills_read, new_differences FROM reconciliation_runs WHERE id = $1', [run.id])).rows[0]!
  const newDifferences = after.new_differences - before.added
  const result: ReconcileResult = {
    state: note ? 'paused' : 'done', runId: run.id, resumed, ...(note ? { note } : {}),
    requests: after.requests - before.requests, billsRead: after.bills_read - before.billsRead, newDifferences, closed, open: await openCounts(pool, deps.organizationId),
  }
  logger.info({ runId: run.id, organizationId: deps.organizationId, state: result.state, note, requests: result.requests, newDifferences, closed }, 'reconciliation run')
  if (newDifferences > 0) {
    await deps.alerts?.notify({ transactionId: run.id, code: 'RECONCILIATION_DIFFERENCES', message: `reconciliation with Zoho organization ${deps.organizationId} found ${newDifferences} new difference(s)`, count: newDifferences, organizationId: deps.organizationId })
  }
  return result
}

/**
 * Before each request: the organization's share of the day must have a request left, and none of its bills
 * may be waiting for delivery (deliveries come first: the run waits for them up to yieldMs, then stops until
 * its next run). Another organization's deliveries take from another bucket, so they do not hold it up.
 */
async function mayRequest(deps: ReconcileDeps, cap: number): Promise<void> {
  const until = Date.now() + (deps.yieldMs ?? 300_000)
  while (await deliveriesWaiting(deps.pool, deps.organizationId)) {
    if (Date.now() >= until || deps.signal?.aborted) throw new Stop('bills are waiting for delivery, which come first; the next run resumes here')
    await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, Math.max(10, until - Date.now()))))
  }
  if (!(await spendRequest(deps.pool, deps.organizationId, cap))) {
    throw new Stop(`today's share of the Zoho quota for reconciliation is spent (${cap} requests: RECONCILE_MAX_DAILY_SHARE of organization ${deps.organizationId}'s daily limit); the next run resumes here`)
  }
}

async function listPages(deps: ReconcileDeps, run: RunRow, cap: number): Promise<void> {
  for (let page = run.next_page; ; page++) {
    await mayRequest(deps, cap)
    // Oldest first by creation: bills created while the run pages fall at the end instead of shifting pages.
    const res = await deps.books.call<{ bills?: ZohoListedBill[]; page_context?: { has_more_page?: boolean } }>({
      method: 'GET', path: '/bills', endpoint: 'GET /bills',
      query: { date_start: run.range_start!, date_end: run.range_end!, filter_by: 'Status.All', sort_column: 'created_time', sort_order: 'A', page: String(page), per_page: String(PER_PAGE) },
    }, deps.signal)
    const bills = res.bills ?? []
    const more = res.page_context?.has_more_page === true
    const client = await deps.pool.connect()
    try {
      const known = await deliveredByZohoIds(client, deps.organizationId, bills.map((b) => b.bill_id))
      const differences = bills.flatMap((b) => compareListed(b, known.get(b.bill_id), deps.uniqueField))
      await recordRead(client, run, { zohoIds: bills.map((b) => b.bill_id), differences, nextPage: page + 1, listingDone: !more })
    } finally {
      client.release()
    }
    if (!more) return
  }
}

function compareListed(bill: ZohoListedBill, delivered: DeliveredBill | undefined, uniqueField: string | undefined): Difference[] {
  if (delivered) return compareBill(delivered, bill)
  const marker = markerOf(bill, uniqueField)
  return marker ? [strangerDifference(bill, marker)] : []
}

/** Delivered bills no page listed: read each by id; a 404 means deleted in Zoho. */
async function readUnseen(deps: ReconcileDeps, run: RunRow, cap: number): Promise<void> {
  for (;;) {
    const unseen = await unseenDelivered(deps.pool, run, 100)
    if (unseen.length === 0) return
    for (const bill of unseen) {
      await mayRequest(deps, cap)
      let differences: Difference[]
      try {
        const res = await deps.books.call<{ bill?: ZohoListedBill }>({ method: 'GET', path: `/bills/${encodeURIComponent(bill.zoho_bill_id)}`, endpoint: 'GET /bills/:id' }, deps.signal)
        differences = res.bill ? compareBill(bill, res.bill) : []
      } catch (err) {
        if (!(err instanceof ZohoError) || err.httpStatus !== 404) throw err
        differences = bill.status === 'cancelled' ? [] : [{
          kind: 'missing_in_zoho', transactionId: bill.id, externalId: bill.external_id, zohoBillId: bill.zoho_bill_id,
          billbridgeValue: `${bill.amount} ${bill.currency} · ${bill.date ?? ''}`, zohoValue: null,
        }]
      }
      const client = await deps.pool.connect()
      try {
        await recordRead(client, run, { zohoIds: [bill.zoho_bill_id], differences })
      } finally {
        client.release()
      }
    }
  }
}
