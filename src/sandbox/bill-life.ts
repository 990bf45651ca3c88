import type { FastifyInstance } from 'fastify'
import { billFields, detail, findBill, numberTakenError, TAX_FIELDS } from './books.ts'
import { orgOf, type SandboxContext } from './context.ts'
import { afterWrite, BooksError } from './gatekeeper.ts'
import { billBalance, newId, paidStatus, type SandboxBill, type SandboxVendorPayment } from './state.ts'

// A bill's life after creation: update in place, void, mark open, delete, remove an attachment, and vendor
// payments that make a bill partly or fully paid (docs/zoho.md rule 11). Zoho documents the endpoints and the
// refusals but not their error codes: the codes below are the sandbox's own, and billbridge must not depend
// on them (it decides from the HTTP status and reads the bill back when it needs to know why).
export const TRANSACTION_LOCKED_CODE = 13020
export const BILL_PAID_BELOW_CODE = 13021
export const BILL_IS_VOID_CODE = 13022
export const BILL_HAS_PAYMENTS_CODE = 13023
export const BILL_NOT_VOID_CODE = 13024

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** A bill or payment dated before the organization's transaction lock date (Zoho Books help "Transaction Locking"). */
export function lockedError(ctx: SandboxContext, date: string): BooksError {
  return new BooksError(400, TRANSACTION_LOCKED_CODE,
    `Transactions dated before ${ctx.state.organization.transactionLockDate} are locked (Settings > Transaction Locking): a bill or payment dated ${date} cannot be created, edited, voided or deleted. Unlock the period in Zoho Books first.`)
}

function hasPaymentsError(bill: SandboxBill, action: 'voided' | 'deleted' | 'moved to another vendor'): BooksError {
  return new BooksError(400, BILL_HAS_PAYMENTS_CODE,
    `The bill ${bill.bill_number} has payments of ${bill.payment_made} ${bill.currency_code} applied: it cannot be ${action}. Delete the payments in Zoho Books first.`)
}

function voidError(bill: SandboxBill): BooksError {
  return new BooksError(400, BILL_IS_VOID_CODE, `The bill ${bill.bill_number} is void: it cannot be changed. Mark it as open first.`)
}

/**
 * Updates a bill in place (PUT /bills/{id}, and the upsert when it finds a bill): same bill_id, lines, taxes
 * and total computed as on create. Refuses a void bill, a bill dated (before or after the change) in a locked
 * period, a total below what has been paid, and another vendor once payments are applied.
 */
export function updateBill(ctx: SandboxContext, bill: SandboxBill, json: Record<string, unknown>): SandboxBill {
  if (bill.status === 'void') throw voidError(bill)
  if (ctx.state.isLocked(bill.date)) throw lockedError(ctx, bill.date)
  const vendorId = json.vendor_id === undefined ? bill.vendor_id : String(json.vendor_id)
  if (vendorId !== bill.vendor_id && bill.payment_made > 0) throw hasPaymentsError(bill, 'moved to another vendor')
  const fields = billFields(ctx, { ...json, bill_number: json.bill_number ?? bill.bill_number, date: json.date ?? bill.date }, vendorId)
  if (ctx.state.isLocked(fields.date)) throw lockedError(ctx, fields.date)
  if (ctx.state.numberTaken(vendorId, fields.bill_number, fields.date, bill.bill_id)) throw numberTakenError(fields.bill_number)
  if (fields.total < bill.payment_made) {
    throw new BooksError(400, BILL_PAID_BELOW_CODE,
      `The bill total (${fields.total} ${fields.currency_code}) cannot be less than the payments already made on it (${bill.payment_made} ${bill.currency_code}).`)
  }
  // Custom fields the update names take their new value; the others keep theirs.
  const given = (json.custom_fields as SandboxBill['custom_fields'] | undefined) ?? []
  const customFields = [...bill.custom_fields.filter((f) => !given.some((g) => g.api_name === f.api_name)), ...given]
  // An update replaces the bill: tax, adjustment and edition fields it no longer names are gone.
  for (const key of TAX_FIELDS) delete bill[key]
  Object.assign(bill, fields, { custom_fields: customFields })
  bill.status = paidStatus(bill)
  ctx.state.touch(bill)
  ctx.state.counters.billsUpdated++
  return bill
}

export async function billLifeRoutes(app: FastifyInstance): Promise<void> {
  // The Bills page documents a JSON body for the update; the sandbox refuses a file part rather than guess.
  app.put('/bills/:id', async (request, reply) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    if (request.isMultipart()) throw new BooksError(400, 2, 'The request passed is not valid: PUT /bills/{bill_id} takes a JSON body; attach files with POST /bills/{bill_id}/attachment.')
    updateBill(ctx, bill, (request.body ?? {}) as Record<string, unknown>)
    if (await afterWrite(ctx, request, reply)) return reply
    return { code: 0, message: 'Bill information has been updated.', bill: detail(ctx, bill) }
  })

  app.post('/bills/:id/status/void', async (request, reply) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    if (bill.status === 'void') throw new BooksError(400, BILL_IS_VOID_CODE, `The bill ${bill.bill_number} is already void.`)
    if (bill.payment_made > 0) throw hasPaymentsError(bill, 'voided')
    if (ctx.state.isLocked(bill.date)) throw lockedError(ctx, bill.date)
    bill.status = 'void'
    ctx.state.touch(bill)
    ctx.state.counters.billsVoided++
    if (await afterWrite(ctx, request, reply)) return reply
    return { code: 0, message: 'The bill has been marked as void.' }
  })

  app.post('/bills/:id/status/open', async (request, reply) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    if (bill.status !== 'void') throw new BooksError(400, BILL_NOT_VOID_CODE, `The bill ${bill.bill_number} is ${bill.status}: only a void bill can be marked as open.`)
    if (ctx.state.isLocked(bill.date)) throw lockedError(ctx, bill.date)
    // A void bill frees its number (rule 3); taking it back needs the number to be free again.
    if (ctx.state.numberTaken(bill.vendor_id, bill.bill_number, bill.date, bill.bill_id)) throw numberTakenError(bill.bill_number)
    bill.status = paidStatus(bill)
    ctx.state.touch(bill)
    ctx.state.counters.billsReopened++
    if (await afterWrite(ctx, request, reply)) return reply
    return { code: 0, message: 'The bill has been marked as open.' }
  })

  app.delete('/bills/:id', async (request, reply) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    if (bill.payment_made > 0) throw hasPaymentsError(bill, 'deleted')
    if (ctx.state.isLocked(bill.date)) throw lockedError(ctx, bill.date)
    ctx.state.bills.delete(bill.bill_id)
    ctx.state.counters.billsDeleted++
    if (await afterWrite(ctx, request, reply)) return reply
    return { code: 0, message: 'The bill has been deleted.' }
  })

  // One call removes one file, the oldest; a bill with two copies needs two calls (docs/zoho.md rule 11).
  app.delete('/bills/:id/attachment', async (request, reply) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    if (bill.attachments.length === 0) throw new BooksError(404, 1002, 'No attachment found.')
    bill.attachments.shift()
    ctx.state.touch(bill)
    ctx.state.counters.attachmentsDeleted++
    if (await afterWrite(ctx, request, reply)) return reply
    return { code: 0, message: 'The attachment has been deleted.' }
  })

  // Books v3 Vendor Payments: `amount` is required; `bills` applies parts of it to the vendor's bills.
  app.post('/vendorpayments', async (request, reply) => {
    const ctx = orgOf(request)
    const json = (request.body ?? {}) as { vendor_id?: string; amount?: number; date?: string; bills?: Array<{ bill_id?: string; amount_applied?: number }> }
    const vendor = ctx.state.contacts.get(String(json.vendor_id ?? ''))
    if (!vendor) throw new BooksError(400, 4, `Invalid value passed for vendor_id: ${json.vendor_id ?? '(none)'}`)
    const amount = Number(json.amount)
    if (!(amount > 0)) throw new BooksError(400, 4, 'Please enter the amount paid (amount), above 0.')
    const date = json.date ?? new Date().toISOString().slice(0, 10)
    if (!DAY.test(date)) throw new BooksError(400, 4, 'Invalid value passed for date: expected yyyy-mm-dd')
    if (ctx.state.isLocked(date)) throw lockedError(ctx, date)
    if (json.bills !== undefined && !Array.isArray(json.bills)) throw new BooksError(400, 4, 'Invalid value passed for bills')
    const applied = (json.bills ?? []).map((entry) => {
      const bill = ctx.state.bills.get(String(entry.bill_id ?? ''))
      if (!bill || bill.vendor_id !== vendor.contact_id) throw new BooksError(400, 4, `Invalid value passed for bill_id: ${entry.bill_id ?? '(none)'} is not a bill of ${vendor.contact_name}`)
      if (bill.status === 'void') throw voidError(bill)
      const share = Number(entry.amount_applied)
      if (!(share > 0) || share > billBalance(bill) + 1e-9) throw new BooksError(400, 4, `The amount applied to bill ${bill.bill_number} (${entry.amount_applied}) must be above 0 and at most its balance, ${billBalance(bill)}.`)
      return { bill_payment_id: newId(), bill_id: bill.bill_id, amount_applied: share }
    })
    if (new Set(applied.map((a) => a.bill_id)).size !== applied.length) throw new BooksError(400, 4, 'A bill can be named only once in a payment.')
    if (applied.reduce((s, a) => s + a.amount_applied, 0) > amount + 1e-9) throw new BooksError(400, 4, 'The amounts applied to bills exceed the amount paid.')
    const payment: SandboxVendorPayment = { payment_id: newId(), vendor_id: vendor.contact_id, date, amount, bills: applied }
    ctx.state.applyPayment(payment)
    if (await afterWrite(ctx, request, reply)) return reply
    return reply.code(201).send({ code: 0, message: 'The payment made to the vendor has been recorded.', vendorpayment: { ...payment, vendor_name: vendor.contact_name } })
  })

  // Books v3 Bills: "List bill payments" — the payments applied to one bill.
  app.get('/bills/:id/payments', async (request) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    const payments = [...ctx.state.vendorPayments.values()].flatMap((p) => p.bills.filter((b) => b.bill_id === bill.bill_id)
      .map((b) => ({ payment_id: p.payment_id, bill_payment_id: b.bill_payment_id, bill_id: bill.bill_id, vendor_id: p.vendor_id, date: p.date, amount: b.amount_applied })))
    return { code: 0, message: 'success', payments }
  })

  app.get('/vendorpayments/:id', async (request) => {
    const ctx = orgOf(request)
    const payment = ctx.state.vendorPayments.get((request.params as { id: string }).id)
    if (!payment) throw new BooksError(404, 1002, 'The vendor payment does not exist.')
    return { code: 0, message: 'success', vendorpayment: payment }
  })
}
