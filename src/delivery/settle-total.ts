import type pg from 'pg'
import type { Logger } from '../logger.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { formatMilli, modeShown, rememberMode, toMilli, type TaxPlan } from './tax-rounding.ts'

export interface SettleDeps {
  pool: pg.Pool
  books: BooksClient
  logger: Logger
  organizationId: string
}

export interface ZohoBillTotals {
  bill_id: string
  total?: number | string
  adjustment?: number | string
}

/**
 * After Zoho made (or, on a later attempt, holds) a taxed bill: its total must be NetSuite's. When Zoho
 * rounded the other way than predicted, one update corrects the adjustment (within the tolerance) and the
 * organization's rounding setting is remembered; a bill still off is deleted (voided if Zoho refuses) so no
 * wrong bill stays open, and the bill fails TAX_DIFFERS.
 */
export async function settleTotal(deps: SettleDeps, transactionId: string, billId: string, answer: ZohoBillTotals | undefined,
  update: (adjustment: number) => unknown, plan: TaxPlan, signal: AbortSignal): Promise<void> {
  let bill = answer?.total === undefined ? await readBill(deps, billId, signal) : answer
  const zohoTotal = toMilli(bill.total ?? NaN)
  const sentAdjustment = bill.adjustment === undefined || bill.adjustment === '' ? plan.adjustment : toMilli(bill.adjustment)
  const ownTotal = zohoTotal - sentAdjustment
  const shown = modeShown(plan, ownTotal)
  if (shown) await rememberMode(deps.pool, deps.organizationId, shown, transactionId)
  if (zohoTotal === plan.netsuiteTotal) return

  const corrected = plan.netsuiteTotal - ownTotal
  if (Number.isFinite(corrected) && Math.abs(corrected) <= plan.tolerance) {
    deps.logger.info({ transactionId, billId, zohoTotal: zohoTotal / 1000, adjustment: corrected / 1000, roundingShown: shown }, 'Zoho rounded the tax the other way: correcting the adjustment')
    const res = await deps.books.call<{ bill?: ZohoBillTotals }>({ method: 'PUT', path: `/bills/${encodeURIComponent(billId)}`, endpoint: 'PUT /bills/:id', json: update(corrected) }, signal)
    bill = res.bill?.total === undefined ? await readBill(deps, billId, signal) : res.bill
    if (toMilli(bill.total ?? NaN) === plan.netsuiteTotal) return
  }
  await withdrawBill(deps, transactionId, billId, signal)
  const d = plan.prediction.decimals
  throw new ZohoError('permanent', 'TAX_DIFFERS',
    `Zoho booked the bill at ${plan.currency} ${formatMilli(toMilli(bill.total ?? NaN), d)} where NetSuite's total is ${plan.currency} ${formatMilli(plan.netsuiteTotal, d)}, ` +
    `more than an adjustment within TAX_ROUNDING_TOLERANCE (${plan.currency} ${formatMilli(plan.tolerance, d)}) can absorb; the bill was removed from Zoho (${billId}). ` +
    'A tax code probably maps to a Zoho tax of another rate: check the mapping (`npm run cli -- map tax "<code>" <zoho tax id>`) and the tax on the bill in NetSuite, then retry')
}

async function readBill(deps: SettleDeps, billId: string, signal: AbortSignal): Promise<ZohoBillTotals> {
  const res = await deps.books.call<{ bill?: ZohoBillTotals }>({ method: 'GET', path: `/bills/${encodeURIComponent(billId)}`, endpoint: 'GET /bills/:id' }, signal)
  if (!res.bill) throw new ZohoError('retryable', 'ZOHO_SERVER_ERROR', `Zoho answered success without bill ${billId}`)
  return res.bill
}

/** Deletes the bill, or voids it when Zoho refuses the delete; then the transaction no longer points at it. */
async function withdrawBill(deps: SettleDeps, transactionId: string, billId: string, signal: AbortSignal): Promise<void> {
  const path = `/bills/${encodeURIComponent(billId)}`
  try {
    await deps.books.call({ method: 'DELETE', path, endpoint: 'DELETE /bills/:id' }, signal)
  } catch (err) {
    if (!(err instanceof ZohoError) || err.kind !== 'permanent') throw err
    deps.logger.warn({ transactionId, billId, zohoCode: err.zohoCode }, 'Zoho refused to delete a bill with the wrong total: voiding it')
    await deps.books.call({ method: 'POST', path: `${path}/status/void`, endpoint: 'POST /bills/:id/status/void' }, signal)
  }
  await deps.pool.query('UPDATE transactions SET zoho_bill_id = NULL, zoho_attachment = false, updated_at = now() WHERE id = $1 AND zoho_bill_id = $2', [transactionId, billId])
}
