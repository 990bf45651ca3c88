import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import multipart from '@fastify/multipart'
import { orgOf, type DataCentreContext, type SandboxContext } from './context.ts'
import { referenceRoutes } from './contacts.ts'
import { afterWrite, BooksError, gatekeeper, page } from './gatekeeper.ts'
import { settingsRoutes } from './settings.ts'
import { billLifeRoutes, lockedError, updateBill } from './bill-life.ts'
import { billBalance, newId, zohoTime, type SandboxAttachment, type SandboxBill, type SandboxBillLine, type SandboxTax, type SandboxTaxGroup } from './state.ts'
import { computeTaxes, editionFields, roundAmount } from './tax.ts'

const ALLOWED_EXTENSIONS = /\.(pdf|gif|png|jpe?g|bmp)$/i
// The sandbox's code for a bill number already used by this vendor this financial year; Zoho's own code
// is not documented, so billbridge never relies on it (docs/zoho.md).
export const BILL_NUMBER_TAKEN_CODE = 13011

type Query = Record<string, string | undefined>

export const TAX_FIELDS = ['is_inclusive_tax', 'sub_total', 'tax_total', 'adjustment', 'adjustment_description', 'taxes', 'vat_treatment', 'vat_reg_no', 'gst_treatment', 'gst_no',
  'source_of_supply', 'destination_of_supply', 'tax_treatment', 'place_of_supply', 'is_reverse_charge_applied'] as const

export async function booksRoutes(app: FastifyInstance, { dc }: { dc: DataCentreContext }): Promise<void> {
  // The file size limit is the organization's, set per request (readBillRequest).
  await app.register(multipart, { limits: { files: 1, fields: 5, fieldSize: 1024 * 1024 } })
  app.addHook('onRequest', (request, reply) => gatekeeper(dc, request, reply))
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof BooksError) return reply.code(err.status).send({ code: err.code, message: err.message })
    const status = (err as { statusCode?: number }).statusCode ?? 500
    return reply.code(status).send({ code: status >= 500 ? 1000 : 2, message: status >= 500 ? 'Internal error' : 'The request passed is not valid.' })
  })
  await app.register(referenceRoutes)
  await app.register(settingsRoutes)
  await app.register(billLifeRoutes)

  // List entries carry has_attachment and attachment_name, never documents; the date, status and
  // last-modified filters and the sort follow the Bills page (docs/zoho.md rules 5 and 11).
  app.get('/bills', async (request) => {
    const ctx = orgOf(request)
    const q = request.query as Query
    const bills = sortBills(ctx, listFilter(ctx.state.billsFor(q.bill_number, q.vendor_id), q), q)
    const { items, page_context } = page(bills, q)
    return { code: 0, message: 'success', bills: items.map((b) => summary(ctx, b)), page_context }
  })

  app.get('/bills/:id', async (request) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    return { code: 0, message: 'success', bill: detail(ctx, bill) }
  })

  app.post('/bills', async (request, reply) => {
    const ctx = orgOf(request)
    const { json, attachment } = await readBillRequest(ctx, request)
    const bill = createBill(ctx, json, attachment)
    if (await afterWrite(ctx, request, reply)) return reply
    return reply.code(201).send({ code: 0, message: 'The bill has been created.', bill: detail(ctx, bill) })
  })

  // The upsert documents a JSON body only; the sandbox refuses a file part rather than guess what Zoho does with one.
  app.put('/bills', async (request, reply) => {
    const ctx = orgOf(request)
    const key = String(request.headers['x-unique-identifier-key'] ?? '')
    const value = String(request.headers['x-unique-identifier-value'] ?? '')
    if (!ctx.uniqueFields.includes(key)) throw new BooksError(400, 4, `The custom field ${key || '(none)'} is not marked unique in this organization.`)
    if (!value) throw new BooksError(400, 4, 'X-Unique-Identifier-Value is required.')
    if (request.isMultipart()) throw new BooksError(400, 2, 'The request passed is not valid: PUT /bills takes a JSON body.')
    const json = (request.body ?? {}) as Record<string, unknown>
    const existing = [...ctx.state.bills.values()].find((b) => b.custom_fields.some((f) => f.api_name === key && f.value === value))
    if (existing) {
      updateBill(ctx, existing, { ...json, vendor_id: existing.vendor_id, custom_fields: existing.custom_fields })
      if (await afterWrite(ctx, request, reply)) return reply
      return reply.code(200).send({ code: 0, message: 'Bill information has been updated.', bill: detail(ctx, existing) })
    }
    if (String(request.headers['x-upsert']).toLowerCase() !== 'true') throw new BooksError(404, 1002, 'Bill does not exist.')
    const fields = (json.custom_fields as Array<{ api_name: string; value: string }> | undefined) ?? []
    const bill = createBill(ctx, { ...json, custom_fields: [...fields.filter((f) => f.api_name !== key), { api_name: key, value }] }, undefined)
    if (await afterWrite(ctx, request, reply)) return reply
    return reply.code(201).send({ code: 0, message: 'The bill has been created.', bill: detail(ctx, bill) })
  })

  // Each call adds a file: attaching twice leaves two copies, as in Zoho.
  app.post('/bills/:id/attachment', async (request, reply) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    const { attachment } = await readBillRequest(ctx, request)
    if (!attachment) throw new BooksError(400, 4, 'Please attach a file.')
    if (bill.status === 'paid') throw new BooksError(400, 4, 'Files cannot be attached to a paid bill.')
    bill.attachments.push(attachment)
    ctx.state.touch(bill)
    ctx.state.counters.attachmentsAdded++
    if (await afterWrite(ctx, request, reply)) return reply
    return { code: 0, message: 'Your file has been attached to the bill.' }
  })

  app.get('/bills/:id/attachment', async (request) => {
    const ctx = orgOf(request)
    const bill = findBill(ctx, (request.params as { id: string }).id)
    if (bill.attachments.length === 0) throw new BooksError(404, 1002, 'No attachment found.')
    return { code: 0, message: 'success', documents: bill.attachments }
  })

}

function summary(ctx: SandboxContext, b: SandboxBill) {
  const vendor = ctx.state.contacts.get(b.vendor_id)
  return {
    bill_id: b.bill_id, bill_number: b.bill_number, vendor_id: b.vendor_id, vendor_name: vendor?.contact_name ?? '', status: b.status, date: b.date,
    due_date: b.due_date ?? b.date, reference_number: b.reference_number ?? '', currency_id: b.currency_id, currency_code: b.currency_code, total: b.total, balance: billBalance(b),
    has_attachment: b.attachments.length > 0, attachment_name: b.attachments[0]?.file_name ?? '', created_time: b.created_time, last_modified_time: b.last_modified_time,
    custom_fields: b.custom_fields,
  }
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** GET /bills filters: date and its variants date_start, date_end, date_before, date_after; status / filter_by; last_modified_time. */
function listFilter(bills: SandboxBill[], q: Query): SandboxBill[] {
  for (const key of ['date', 'date_start', 'date_end', 'date_before', 'date_after'] as const) {
    if (q[key] !== undefined && !DAY.test(q[key])) throw new BooksError(400, 2, `Invalid value passed for ${key}: expected yyyy-mm-dd`)
  }
  const byFilter: Record<string, SandboxBill['status'] | 'all'> = { 'Status.All': 'all', 'Status.Open': 'open', 'Status.PartiallyPaid': 'partially_paid', 'Status.Paid': 'paid', 'Status.Void': 'void' }
  if (q.filter_by !== undefined && !(q.filter_by in byFilter)) throw new BooksError(400, 2, `Invalid value passed for filter_by: ${q.filter_by}`)
  const status = q.status ?? (q.filter_by === undefined ? undefined : byFilter[q.filter_by])
  let since: number | undefined
  if (q.last_modified_time !== undefined) {
    since = parseZohoTime(q.last_modified_time)
    if (Number.isNaN(since)) throw new BooksError(400, 2, 'Invalid value passed for last_modified_time')
  }
  return bills.filter((b) => (q.reference_number === undefined || b.reference_number === q.reference_number)
    && (q.date === undefined || b.date === q.date)
    && (q.date_start === undefined || b.date >= q.date_start)
    && (q.date_end === undefined || b.date <= q.date_end)
    && (q.date_before === undefined || b.date < q.date_before)
    && (q.date_after === undefined || b.date > q.date_after)
    && (status === undefined || status === 'all' || b.status === status)
    && (since === undefined || parseZohoTime(b.last_modified_time) >= since))
}

export function parseZohoTime(time: string): number {
  return Date.parse(time.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
}

const SORT_COLUMNS = ['vendor_name', 'bill_number', 'date', 'due_date', 'total', 'balance', 'created_time', 'last_modified_time'] as const

/** sort_column (default created_time) and sort_order A or D (default D); ties keep bill_id order so pages never overlap. */
function sortBills(ctx: SandboxContext, bills: SandboxBill[], q: Query): SandboxBill[] {
  const column = q.sort_column ?? 'created_time'
  if (!(SORT_COLUMNS as readonly string[]).includes(column)) throw new BooksError(400, 2, `Invalid value passed for sort_column: ${column}`)
  if (q.sort_order !== undefined && q.sort_order !== 'A' && q.sort_order !== 'D') throw new BooksError(400, 2, 'Invalid value passed for sort_order: A or D')
  const sign = q.sort_order === 'A' ? 1 : -1
  const key = (b: SandboxBill): string | number => {
    switch (column) {
      case 'total': return b.total
      case 'balance': return billBalance(b)
      case 'last_modified_time': return parseZohoTime(b.last_modified_time)
      case 'created_time': return Date.parse(b.created_time)
      case 'due_date': return b.due_date ?? b.date
      case 'vendor_name': return ctx.state.contacts.get(b.vendor_id)?.contact_name ?? ''
      default: return b[column as 'date' | 'bill_number']
    }
  }
  return [...bills].sort((a, b) => {
    const x = key(a)
    const y = key(b)
    if (x !== y) return (x < y ? -1 : 1) * sign
    return a.bill_id < b.bill_id ? -1 : a.bill_id > b.bill_id ? 1 : 0
  })
}

export function detail(ctx: SandboxContext, b: SandboxBill) {
  const { attachments, ...rest } = b
  return { ...rest, balance: billBalance(b), vendor_name: ctx.state.contacts.get(b.vendor_id)?.contact_name ?? '', documents: attachments.map((a) => ({ file_name: a.file_name, file_size: a.size, document_id: a.sha256.slice(0, 16) })) }
}

export function findBill(ctx: SandboxContext, id: string): SandboxBill {
  const bill = ctx.state.bills.get(id)
  if (!bill) throw new BooksError(404, 1002, 'Bill does not exist.')
  return bill
}

export function numberTakenError(billNumber: string): BooksError {
  return new BooksError(400, BILL_NUMBER_TAKEN_CODE, `Bill number "${billNumber}" has already been used for this vendor in this financial year.`)
}

export async function readBillRequest(ctx: SandboxContext, request: FastifyRequest): Promise<{ json: Record<string, unknown>; attachment?: SandboxAttachment }> {
  if (!request.isMultipart()) return { json: (request.body ?? {}) as Record<string, unknown> }
  let json: Record<string, unknown> = {}
  let attachment: SandboxAttachment | undefined
  for await (const part of request.parts({ limits: { fileSize: ctx.limits.maxAttachmentBytes } })) {
    if (part.type === 'field' && part.fieldname === 'JSONString') {
      try {
        json = JSON.parse(String(part.value)) as Record<string, unknown>
      } catch {
        throw new BooksError(400, 2, 'Invalid value passed for JSONString')
      }
    } else if (part.type === 'file') {
      const hash = createHash('sha256')
      let size = 0
      for await (const chunk of part.file) {
        size += (chunk as Buffer).length
        hash.update(chunk as Buffer)
      }
      if (part.file.truncated) throw new BooksError(400, 33003, `The file exceeds the maximum size of ${ctx.limits.maxAttachmentBytes} bytes.`)
      if (part.fieldname !== 'attachment') continue
      if (!ALLOWED_EXTENSIONS.test(part.filename)) throw new BooksError(400, 33004, 'Attach a file of type gif, png, jpeg, jpg, bmp or pdf.')
      attachment = { file_name: part.filename, size, sha256: hash.digest('hex') }
    }
  }
  return { json, ...(attachment ? { attachment } : {}) }
}

/** A bill takes its vendor's currency; an exchange rate may be given, a currency of its own may not. */
export function billFields(ctx: SandboxContext, json: Record<string, unknown>, vendorId: string) {
  const vendor = ctx.state.contacts.get(vendorId)
  if (!vendor) throw new BooksError(400, 4, `Invalid value passed for vendor_id: ${vendorId || '(none)'}`)
  if (json.currency_id !== undefined && json.currency_id !== vendor.currency_id) {
    throw new BooksError(400, 4, `The bill's currency must be the vendor's currency (${vendor.currency_code}).`)
  }
  const lines = json.line_items
  if (!Array.isArray(lines) || lines.length === 0) throw new BooksError(400, 4, 'Please add at least one line item.')
  const parsed = lines.map((raw) => {
    const line = raw as { account_id?: string; description?: string; rate?: number; quantity?: number; tax_id?: string; tags?: unknown }
    if (!line.account_id || !ctx.state.accounts.get(line.account_id)?.is_active) throw new BooksError(400, 4, `Invalid value passed for account_id: ${line.account_id ?? '(none)'}`)
    const rate = Number(line.rate ?? 0)
    const quantity = Number(line.quantity ?? 1)
    if (!Number.isFinite(rate) || !Number.isFinite(quantity)) throw new BooksError(400, 4, 'Invalid value passed for rate or quantity')
    return { account_id: line.account_id, description: line.description, rate, quantity, tax: lineTax(ctx, line.tax_id), tags: lineTags(ctx, line.tags) }
  })
  const inclusive = json.is_inclusive_tax === true
  const adjustment = json.adjustment === undefined || json.adjustment === '' ? 0 : Number(json.adjustment)
  if (!Number.isFinite(adjustment)) throw new BooksError(400, 4, 'Invalid value passed for adjustment')
  const taxed = parsed.flatMap((l) => (l.tax ? [l.tax] : []))
  const edition = editionFields(ctx.state, json, taxed)
  const computed = computeTaxes(ctx.state, { vendorCurrency: vendor.currency_code, rounding: ctx.state.organization.taxRounding, inclusive, lines: parsed.map((l) => ({ net: l.rate * l.quantity, ...(l.tax ? { tax: l.tax } : {}) })) })
  const line_items: SandboxBillLine[] = parsed.map((l, i) => {
    const base: SandboxBillLine = { line_item_id: newId(), account_id: l.account_id, description: l.description, rate: l.rate, quantity: l.quantity, item_total: computed.lines[i]!.net }
    if (l.tax) {
      const named = 'tax_group_id' in l.tax
        ? { tax_id: l.tax.tax_group_id, tax_name: l.tax.tax_group_name, tax_type: 'tax_group' }
        : { tax_id: l.tax.tax_id, tax_name: l.tax.tax_name, tax_type: l.tax.tax_type }
      Object.assign(base, named, { tax_percentage: taxPercentage(ctx, l.tax), tax_amount: computed.lines[i]!.taxAmount })
    }
    if (l.tags.length > 0) base.tags = l.tags
    return base
  })
  const decimals = computed.decimals
  // Under reverse charge the buyer accounts for the tax: it is shown in `taxes` but not owed to the vendor.
  const owedTax = edition.is_reverse_charge_applied === true ? 0 : computed.taxTotal
  const extras = taxed.length > 0 || adjustment !== 0 || Object.keys(edition).length > 0 || inclusive
    ? {
        is_inclusive_tax: inclusive, sub_total: computed.subTotal, tax_total: owedTax, taxes: computed.taxes,
        adjustment: roundAmount(adjustment, decimals), adjustment_description: typeof json.adjustment_description === 'string' ? json.adjustment_description : '', ...edition,
      }
    : {}
  const date = typeof json.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(json.date) ? json.date : new Date().toISOString().slice(0, 10)
  const exchangeRate = json.exchange_rate === undefined ? 1 : Number(json.exchange_rate)
  if (!(exchangeRate > 0)) throw new BooksError(400, 4, 'Invalid value passed for exchange_rate')
  if (!json.bill_number) throw new BooksError(400, 4, 'Please enter the bill number.')
  return {
    vendor_id: vendorId,
    bill_number: String(json.bill_number),
    date,
    due_date: json.due_date as string | undefined,
    reference_number: json.reference_number as string | undefined,
    notes: json.notes as string | undefined,
    currency_id: vendor.currency_id,
    currency_code: vendor.currency_code,
    exchange_rate: vendor.currency_code === ctx.state.organization.baseCurrency ? 1 : exchangeRate,
    line_items,
    custom_fields: (json.custom_fields as SandboxBill['custom_fields'] | undefined) ?? [],
    ...extras,
    total: roundAmount(computed.subTotal + owedTax + adjustment, decimals),
  }
}

/** A line's tax: an active tax or tax group of this organization. */
function lineTax(ctx: SandboxContext, taxId: string | undefined): SandboxTax | SandboxTaxGroup | undefined {
  if (taxId === undefined || taxId === '') return undefined
  const tax = ctx.state.taxes.get(String(taxId)) ?? ctx.state.taxGroups.get(String(taxId))
  if (!tax) throw new BooksError(400, 4, `Invalid value passed for tax_id: ${String(taxId)}`)
  const name = 'tax_group_id' in tax ? tax.tax_group_name : tax.tax_name
  if (tax.status !== 'active') throw new BooksError(400, 4, `The tax ${name} is inactive. Mark it as active or choose another tax.`)
  return tax
}

function taxPercentage(ctx: SandboxContext, tax: SandboxTax | SandboxTaxGroup): number {
  if (!('tax_group_id' in tax)) return tax.tax_percentage
  return tax.taxes.reduce((s, id) => s + ctx.state.taxes.get(id)!.tax_percentage, 0)
}

/** A line's reporting tags: known, active tag and option pairs; every active mandatory tag present. */
function lineTags(ctx: SandboxContext, raw: unknown): NonNullable<SandboxBillLine['tags']> {
  if (raw !== undefined && !Array.isArray(raw)) throw new BooksError(400, 4, 'Invalid value passed for tags')
  const tags = ((raw as Array<{ tag_id?: string; tag_option_id?: string }> | undefined) ?? []).map((t) => {
    const tag = ctx.state.tags.get(String(t.tag_id ?? ''))
    if (!tag || tag.status !== 'active') throw new BooksError(400, 4, `Invalid value passed for tag_id: ${String(t.tag_id ?? '(none)')}`)
    const option = tag.options.find((o) => o.tag_option_id === String(t.tag_option_id ?? ''))
    if (!option || option.status !== 'active') throw new BooksError(400, 4, `Invalid value passed for tag_option_id: ${String(t.tag_option_id ?? '(none)')} is not an active option of the reporting tag ${tag.tag_name}`)
    return { tag_id: tag.tag_id, tag_name: tag.tag_name, tag_option_id: option.tag_option_id, tag_option_name: option.tag_option_name }
  })
  for (const tag of ctx.state.tags.values()) {
    if (tag.is_mandatory && tag.status === 'active' && !tags.some((t) => t.tag_id === tag.tag_id)) throw new BooksError(400, 4, `Please select an option for the reporting tag ${tag.tag_name}: it is mandatory.`)
  }
  if (new Set(tags.map((t) => t.tag_id)).size !== tags.length) throw new BooksError(400, 4, 'A reporting tag can take only one option per line item.')
  return tags
}

// A bill number repeats only across financial years for one vendor (Zoho Books KB "Can a bill number be repeated?").
function createBill(ctx: SandboxContext, json: Record<string, unknown>, attachment: SandboxAttachment | undefined): SandboxBill {
  const fields = billFields(ctx, json, String(json.vendor_id ?? ''))
  if (ctx.state.isLocked(fields.date)) throw lockedError(ctx, fields.date)
  if (ctx.state.numberTaken(fields.vendor_id, fields.bill_number, fields.date)) throw numberTakenError(fields.bill_number)
  const now = new Date()
  const bill: SandboxBill = { bill_id: newId(), status: 'open', ...fields, attachments: attachment ? [attachment] : [], created_time: now.toISOString(), last_modified_time: zohoTime(now), payment_made: 0 }
  ctx.state.recordBill(bill)
  return bill
}
