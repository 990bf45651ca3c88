import { LongString } from './json-scan.ts'
import { isStorableText } from './storable-text.ts'

/** A bill as NetSuite sent it, checked and normalised; the PDF itself is checked while it streams. */
export interface ValidBill {
  externalId: string
  billNumber: string
  /** taxId: VAT number, GSTIN or TRN as NetSuite holds it; country: ISO 3166 alpha-2 */
  vendor: { externalId?: string; name: string; email?: string; taxId?: string; country?: string }
  date: string
  dueDate?: string
  currency: string
  referenceNumber?: string
  memo?: string
  /** NetSuite's exchange rate to the organization's base currency, as sent (decimal text) */
  exchangeRate?: string
  /** NetSuite subsidiary name: routes the bill to its Zoho organization; not sent to Zoho */
  subsidiary?: string
  /** NetSuite's department, class and location for lines that carry none */
  department?: string
  class?: string
  location?: string
  lines: ValidLine[]
  /** NetSuite's total as sent, two decimals: always equal to `amount` */
  total?: string
  /** the bill's gross total: the sum of the lines' amounts and their tax, two decimals */
  amount: string
  attachment: { fileName: string; contentType: string }
  /** NetSuite's last-modified time as sent (ISO 8601 with an offset); orders the versions of a bill */
  lastModified?: string
}

/** A bill NetSuite cancelled (voided, cancelled or deleted): only its id and, when known, when it changed. */
export interface ValidCancel {
  externalId: string
  lastModified?: string
}

/** A line: `amount` is net; with `taxCode` comes NetSuite's `taxAmount` (and, when known, its `taxRate` in percent). */
export interface ValidLine {
  account: string
  amount: string
  description?: string
  quantity?: string
  rate?: string
  taxCode?: string
  taxRate?: string
  taxAmount?: string
  department?: string
  class?: string
  location?: string
}

export interface BillRejection {
  code: string
  message: string
  field?: string
}

export type BillCheck = { ok: true; bill: ValidBill } | { ok: false; error: BillRejection }

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'))
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DECIMAL = /^-?\d{1,16}(\.\d{1,2})?$/
const RATIO = /^\d{1,12}(\.\d{1,10})?$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
// A file name NetSuite would show: no folders, no control characters, ends in .pdf.
const FILE_NAME = /^[^/\\\x00-\x1f\x7f]{1,251}\.pdf$/i
const MAX_LINES = 500
// numeric(18, 2): the largest total a row can hold.
const MAX_CENTS = 10n ** 18n - 1n
const BILL_KEYS = ['lastModified', 'cancelled', 'externalId', 'billNumber', 'vendor', 'date', 'dueDate', 'currency', 'referenceNumber', 'memo', 'exchangeRate', 'subsidiary', 'department', 'class', 'location', 'total', 'lines', 'attachment']
const VENDOR_KEYS = ['externalId', 'name', 'email', 'taxId', 'country']
const LINE_KEYS = ['account', 'amount', 'description', 'quantity', 'rate', 'taxCode', 'taxRate', 'taxAmount', 'department', 'class', 'location']
const DIMENSIONS = ['department', 'class', 'location'] as const
const TAX_RATE = /^\d{1,3}(\.\d{1,6})?$/
const COUNTRY = /^[A-Z]{2}$/
// Codes ISO 3166 leaves to private use or reserves exceptionally (UK is GB); XK, Kosovo, is in common use and kept.
const NOT_A_COUNTRY = /^(AA|Q[M-Z]|X[A-JL-Z]|ZZ|AC|CP|DG|EA|EU|EZ|FX|IC|SU|TA|UK|UN)$/
const REGIONS = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' })
const ATTACHMENT_KEYS = ['fileName', 'contentType', 'contentBase64']

class Rejected extends Error {
  readonly rejection: BillRejection
  constructor(code: string, field: string, message: string) {
    super(message)
    this.rejection = { code, message, field }
  }
}

// ISO 8601 date-time with seconds and an offset, as NetSuite's SuiteScript gives it (e.g. 2026-11-30T14:05:00-08:00).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/

/** `cancelled` as sent: true, false or absent; anything else is refused. */
export function isCancel(input: unknown): boolean {
  return typeof input === 'object' && input !== null && !Array.isArray(input) && (input as Record<string, unknown>).cancelled === true
}

/**
 * A cancel (`cancelled: true`): externalId and lastModified are checked; the other fields of the contract
 * may come along and are ignored (a key the contract does not name is still refused).
 */
export function validateCancel(input: unknown): { ok: true; cancel: ValidCancel } | { ok: false; error: BillRejection } {
  try {
    const bill = asObject(input, 'bill', 'BILL_INVALID', BILL_KEYS)
    const externalId = text(bill, 'externalId', 'EXTERNAL_ID_MISSING', 128)!
    const lastModified = readLastModified(bill.lastModified)
    return { ok: true, cancel: { externalId, ...(lastModified ? { lastModified } : {}) } }
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, error: err.rejection }
    throw err
  }
}

function readLastModified(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  refuseLong(value, 'LAST_MODIFIED_INVALID', 'lastModified', 'a date-time such as 2026-11-30T14:05:00-08:00')
  const match = typeof value === 'string' ? DATE_TIME.exec(value) : null
  const [, y, mo, d, h, mi, s, , zone, oh, om] = match ?? []
  const calendar = match ? new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))) : null
  const valid = match && calendar!.getUTCMonth() === Number(mo) - 1 && calendar!.getUTCDate() === Number(d) && Number(y) >= 1900
    && Number(h) < 24 && Number(mi) < 60 && Number(s) < 60 && (zone === 'Z' || (Number(oh) <= 18 && Number(om) < 60))
  if (!valid) {
    throw new Rejected('LAST_MODIFIED_INVALID', 'lastModified', `lastModified ${JSON.stringify(typeof value === 'string' ? value.slice(0, 64) : value)} must be an ISO 8601 date-time with seconds and an offset, e.g. "2026-11-30T14:05:00-08:00" or "2026-11-30T22:05:00Z"`)
  }
  return value as string
}

/** Checks every field of the bill contract (docs/api.md, src/schemas/vendor-bills.ts) except the attachment's content, which is checked as it streams. */
export function validateBill(input: unknown): BillCheck {
  try {
    return { ok: true, bill: readBill(input) }
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, error: err.rejection }
    throw err
  }
}

function readBill(input: unknown): ValidBill {
  const bill = asObject(input, 'bill', 'BILL_INVALID', BILL_KEYS)
  const externalId = text(bill, 'externalId', 'EXTERNAL_ID_MISSING', 128)!
  if (bill.cancelled !== undefined && bill.cancelled !== null && typeof bill.cancelled !== 'boolean') {
    throw new Rejected('CANCELLED_INVALID', 'cancelled', `cancelled must be true (NetSuite voided, cancelled or deleted the bill) or false, got ${JSON.stringify(bill.cancelled).slice(0, 64)}`)
  }
  const lastModified = readLastModified(bill.lastModified)
  const billNumber = text(bill, 'billNumber', 'BILL_NUMBER_MISSING', 100)!
  const vendorIn = bill.vendor === undefined ? undefined : asObject(bill.vendor, 'vendor', 'VENDOR_INVALID', VENDOR_KEYS, 'vendor.')
  if (!vendorIn) throw new Rejected('VENDOR_MISSING', 'vendor', 'vendor is required: { "name": ..., "externalId": ... }')
  const vendorName = text(vendorIn, 'name', 'VENDOR_NAME_MISSING', 200, 'vendor.')!
  const vendorExternalId = text(vendorIn, 'externalId', 'VENDOR_INVALID', 128, 'vendor.', false)
  const email = text(vendorIn, 'email', 'VENDOR_EMAIL_INVALID', 254, 'vendor.', false)
  if (email !== undefined && !EMAIL.test(email)) throw new Rejected('VENDOR_EMAIL_INVALID', 'vendor.email', `vendor.email "${email}" is not an email address`)
  const taxId = text(vendorIn, 'taxId', 'VENDOR_TAX_ID_INVALID', 50, 'vendor.', false)
  const country = vendorCountry(vendorIn.country)

  const date = calendarDate(bill, 'date', 'DATE_INVALID', true)!
  const dueDate = calendarDate(bill, 'dueDate', 'DUE_DATE_INVALID', false)
  if (dueDate !== undefined && dueDate < date) throw new Rejected('DUE_DATE_INVALID', 'dueDate', `dueDate ${dueDate} is before the bill date ${date}`)
  const currency = text(bill, 'currency', 'CURRENCY_INVALID', 3)!
  if (!/^[A-Z]{3}$/.test(currency) || !CURRENCIES.has(currency)) {
    throw new Rejected('CURRENCY_INVALID', 'currency', `currency "${currency}" is not an ISO 4217 code such as USD or EUR`)
  }
  const referenceNumber = text(bill, 'referenceNumber', 'REFERENCE_NUMBER_INVALID', 100, '', false)
  const memo = text(bill, 'memo', 'MEMO_INVALID', 2000, '', false)
  const exchangeRate = positiveDecimal(bill.exchangeRate, 'exchangeRate', 'EXCHANGE_RATE_INVALID', false)
  const subsidiary = text(bill, 'subsidiary', 'SUBSIDIARY_INVALID', 200, '', false)
  const dimensions = readDimensions(bill, '')
  const lines = readLines(bill.lines, currency)
  const amount = billTotal(lines)
  const total = bill.total === undefined || bill.total === null ? undefined : decimal(bill.total, 'total', 'TOTAL_INVALID')
  if (total !== undefined && toCents(total) !== toCents(amount)) {
    throw new Rejected('TOTAL_MISMATCH', 'total', `total ${total} is not the sum of the lines' amounts and taxAmounts, ${amount}: NetSuite's total must equal Σ amount + Σ taxAmount to the cent`)
  }
  const attachment = readAttachment(bill.attachment)
  return {
    externalId,
    billNumber,
    vendor: { name: vendorName, ...(vendorExternalId ? { externalId: vendorExternalId } : {}), ...(email ? { email } : {}), ...(taxId ? { taxId } : {}), ...(country ? { country } : {}) },
    date,
    ...(dueDate ? { dueDate } : {}),
    currency,
    ...(referenceNumber ? { referenceNumber } : {}),
    ...(memo ? { memo } : {}),
    ...(exchangeRate ? { exchangeRate } : {}),
    ...(subsidiary ? { subsidiary } : {}),
    ...dimensions,
    lines,
    ...(total !== undefined ? { total } : {}),
    amount,
    attachment,
    ...(lastModified ? { lastModified } : {}),
  }
}

function readLines(value: unknown, currency: string): ValidBill['lines'] {
  if (!Array.isArray(value) || value.length === 0) throw new Rejected('LINES_MISSING', 'lines', 'lines must be a non-empty array of { "account", "amount" }')
  if (value.length > MAX_LINES) throw new Rejected('LINES_INVALID', 'lines', `a bill may have at most ${MAX_LINES} lines, this one has ${value.length}`)
  return value.map((item, index) => {
    const prefix = `lines[${index}].`
    const line = asObject(item, `lines[${index}]`, 'LINES_INVALID', LINE_KEYS, prefix)
    const account = text(line, 'account', 'LINE_ACCOUNT_MISSING', 200, prefix)!
    const amount = decimal(line.amount, `${prefix}amount`)
    const description = text(line, 'description', 'LINE_DESCRIPTION_INVALID', 2000, prefix, false)
    const quantity = positiveDecimal(line.quantity, `${prefix}quantity`, 'LINES_INVALID', false)
    const rate = unitRate(line.rate, `${prefix}rate`)
    if ((quantity === undefined) !== (rate === undefined)) {
      throw new Rejected('LINES_INVALID', `${prefix}${quantity === undefined ? 'quantity' : 'rate'}`, `${prefix}quantity and ${prefix}rate go together: give both or neither`)
    }
    if (quantity !== undefined && rate !== undefined && !matchesProduct(amount, quantity, rate)) {
      throw new Rejected('AMOUNT_INVALID', `${prefix}amount`, `${prefix}amount ${amount} is not quantity ${quantity} × rate ${rate}`)
    }
    const tax = readTax(line, prefix, currency)
    return { account, amount, ...(description ? { description } : {}), ...(quantity !== undefined ? { quantity, rate } : {}), ...tax, ...readDimensions(line, prefix) }
  })
}

/** taxCode names NetSuite's tax code; its taxAmount (NetSuite's tax for the line) comes with it, taxRate when known. */
function readTax(line: Record<string, unknown>, prefix: string, currency: string): Pick<ValidLine, 'taxCode' | 'taxRate' | 'taxAmount'> {
  const taxCode = text(line, 'taxCode', 'TAX_INVALID', 200, prefix, false)
  const taxRate = percent(line.taxRate, `${prefix}taxRate`)
  const present = (key: string) => line[key] !== undefined && line[key] !== null && line[key] !== ''
  const taxAmount = present('taxAmount') ? decimal(line.taxAmount, `${prefix}taxAmount`, 'TAX_INVALID', Math.min(2, currencyDecimals(currency)), currency) : undefined
  if (taxCode === undefined && (taxRate !== undefined || taxAmount !== undefined)) {
    const given = taxAmount !== undefined ? 'taxAmount' : 'taxRate'
    throw new Rejected('TAX_INVALID', `${prefix}taxCode`, `${prefix}${given} is given without ${prefix}taxCode: send the NetSuite tax code of a taxed line (e.g. "VAT:S-GB"), so billbridge can choose the Zoho tax`)
  }
  if (taxCode !== undefined && taxAmount === undefined) {
    throw new Rejected('TAX_INVALID', `${prefix}taxAmount`, `${prefix}taxCode "${taxCode}" is given without ${prefix}taxAmount: send NetSuite's tax for the line (may be "0.00")`)
  }
  return { ...(taxCode !== undefined ? { taxCode, taxAmount } : {}), ...(taxRate !== undefined ? { taxRate } : {}) }
}

/** A tax rate in percent, 0 to 100, at most 6 decimals, kept as sent. */
function percent(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  refuseLong(value, 'TAX_INVALID', field, 'a percentage from 0 to 100')
  const raw = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : numberText(value)
  if (raw === undefined || !TAX_RATE.test(raw) || Number(raw) > 100) {
    throw new Rejected('TAX_INVALID', field, `${field} must be a percentage from 0 to 100 as a decimal string, like "20" or "2.5", got ${JSON.stringify(value)}`)
  }
  return raw
}

/** NetSuite's department, class and location (names as shown, e.g. "Sales : EMEA"); at most 200 characters each. */
function readDimensions(obj: Record<string, unknown>, prefix: string): Partial<Record<(typeof DIMENSIONS)[number], string>> {
  const out: Partial<Record<(typeof DIMENSIONS)[number], string>> = {}
  for (const key of DIMENSIONS) {
    const value = text(obj, key, 'DIMENSION_INVALID', 200, prefix, false)
    if (value !== undefined) out[key] = value
  }
  return out
}

function vendorCountry(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  refuseLong(value, 'VENDOR_COUNTRY_INVALID', 'vendor.country', 'an ISO 3166 alpha-2 code')
  if (typeof value !== 'string' || !COUNTRY.test(value) || NOT_A_COUNTRY.test(value) || REGIONS.of(value) === undefined) {
    throw new Rejected('VENDOR_COUNTRY_INVALID', 'vendor.country', `vendor.country must be an ISO 3166 alpha-2 country code in capitals, like "GB" or "IN", got ${JSON.stringify(value)}${value === 'UK' ? ' (the United Kingdom is GB)' : ''}`)
  }
  return value
}

/** Decimal places of a currency's minor unit (ISO 4217): JPY 0, USD 2, KWD 3. */
export function currencyDecimals(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
}

function readAttachment(value: unknown): ValidBill['attachment'] {
  if (value === undefined || value === null) throw new Rejected('ATTACHMENT_MISSING', 'attachment', 'attachment is required: { "fileName", "contentType", "contentBase64" }')
  const attachment = asObject(value, 'attachment', 'ATTACHMENT_MISSING', ATTACHMENT_KEYS, 'attachment.')
  const fileName = text(attachment, 'fileName', 'ATTACHMENT_FILENAME_INVALID', 255, 'attachment.')!
  if (!FILE_NAME.test(fileName)) {
    throw new Rejected('ATTACHMENT_FILENAME_INVALID', 'attachment.fileName', `attachment.fileName "${fileName}" must end in .pdf and contain no folder separators or control characters`)
  }
  const contentType = text(attachment, 'contentType', 'ATTACHMENT_CONTENT_TYPE_INVALID', 100, 'attachment.', false) ?? 'application/pdf'
  if (contentType.toLowerCase() !== 'application/pdf') {
    throw new Rejected('ATTACHMENT_CONTENT_TYPE_INVALID', 'attachment.contentType', `attachment.contentType must be application/pdf, got "${contentType}"`)
  }
  return { fileName, contentType: 'application/pdf' }
}

/** A JSON object holding only the keys the contract names: a misspelt key is refused, not silently dropped. */
function asObject(value: unknown, field: string, code: string, known: readonly string[], prefix = ''): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Rejected(code, field, `${field} must be a JSON object`)
  const unknown = Object.keys(value).find((key) => !known.includes(key))
  if (unknown !== undefined) {
    const shown = isStorableText(unknown) ? Array.from(unknown).slice(0, 64).join('') : '(a key with invalid characters)'
    throw new Rejected('UNKNOWN_FIELD', `${prefix}${shown}`, `${prefix}${shown} is not a field of the contract (docs/api.md); known: ${known.join(', ')}`)
  }
  return value as Record<string, unknown>
}

/** The sum of the lines and their tax: positive (credits are another document) and within the numeric(18, 2) column. */
function billTotal(lines: ValidBill['lines']): string {
  const cents = lines.reduce((sum, line) => sum + toCents(line.amount) + (line.taxAmount ? toCents(line.taxAmount) : 0n), 0n)
  if (cents <= 0n) throw new Rejected('AMOUNT_INVALID', 'lines', `the bill's total (the sum of its lines and their tax) must be positive, got ${formatCents(cents)}; send credits as vendor credits`)
  if (cents > MAX_CENTS) throw new Rejected('AMOUNT_OUT_OF_RANGE', 'lines', `the bill's total ${formatCents(cents)} is larger than the largest amount stored (9999999999999999.99)`)
  return formatCents(cents)
}

function text(obj: Record<string, unknown>, key: string, code: string, max: number, prefix = '', required = true): string | undefined {
  const field = prefix + key
  const value = obj[key]
  if (value === undefined || value === null || value === '') {
    if (required) throw new Rejected(code, field, `${field} is required`)
    return undefined
  }
  refuseLong(value, code, field, `at most ${max} characters`)
  if (typeof value !== 'string') throw new Rejected(code, field, `${field} must be a string`)
  if (!isStorableText(value)) throw new Rejected('TEXT_INVALID', field, `${field} holds a NUL character or a lone UTF-16 surrogate (such as \\ud800); send plain UTF-8 text`)
  const trimmed = value.trim()
  if (required && trimmed === '') throw new Rejected(code, field, `${field} is required`)
  if (value.length > max) throw new Rejected(code, field, `${field} is longer than ${max} characters`)
  return trimmed || undefined
}

function calendarDate(obj: Record<string, unknown>, key: string, code: string, required: boolean): string | undefined {
  const value = obj[key]
  if (value === undefined || value === null || value === '') {
    if (required) throw new Rejected(code, key, `${key} is required, as YYYY-MM-DD`)
    return undefined
  }
  refuseLong(value, code, key, 'a date as YYYY-MM-DD')
  const match = typeof value === 'string' ? ISO_DATE.exec(value) : null
  if (!match) throw new Rejected(code, key, `${key} must be a date as YYYY-MM-DD, got ${JSON.stringify(value)}`)
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const probe = new Date(Date.UTC(year, month - 1, day))
  if (year < 1900 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new Rejected(code, key, `${key} ${value} is not a real calendar date`)
  }
  return value as string
}

/** Amounts arrive as decimal strings or JSON numbers (kept as their source text); at most 2 decimals (fewer for a tax in a currency with fewer). */
function decimal(value: unknown, field: string, code = 'AMOUNT_INVALID', decimals = 2, currency?: string): string {
  const places = decimals === 0 ? 'no decimals' : `at most ${decimals} decimal${decimals === 1 ? '' : 's'}`
  refuseLong(value, code, field, `a decimal amount with ${places}`)
  const raw = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : numberText(value)
  const fraction = raw?.split('.')[1]?.length ?? 0
  if (raw === undefined || !DECIMAL.test(raw) || fraction > decimals) {
    const example = decimals === 0 ? '"100"' : '"100.00"'
    throw new Rejected(code, field, `${field} must be a decimal amount with ${places}${currency && decimals < 2 ? ` (${currency} has ${decimals})` : ''}, like ${example}, got ${JSON.stringify(value ?? null)}`)
  }
  return formatCents(toCents(raw))
}

/** A ratio such as an exchange rate or a quantity: positive, at most 10 decimals, kept as sent. */
function positiveDecimal(value: unknown, field: string, code: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new Rejected(code, field, `${field} is required`)
    return undefined
  }
  refuseLong(value, code, field, 'a positive decimal with at most 10 decimals')
  const raw = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : numberText(value)
  if (raw === undefined || !RATIO.test(raw) || !/[1-9]/.test(raw)) {
    throw new Rejected(code, field, `${field} must be a positive decimal with at most 10 decimals, like "1.0825", got ${JSON.stringify(value)}`)
  }
  return raw
}

/** A line's unit price: like an amount, but up to 10 decimals and never negative. */
function unitRate(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  refuseLong(value, 'LINES_INVALID', field, 'a decimal unit price with at most 10 decimals')
  const raw = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : numberText(value)
  if (raw === undefined || !RATIO.test(raw)) {
    throw new Rejected('LINES_INVALID', field, `${field} must be a decimal unit price with at most 10 decimals, like "12.5", got ${JSON.stringify(value)}`)
  }
  return raw
}

/** quantity × rate, rounded to cents, equals the amount within one cent (NetSuite rounds per line). */
function matchesProduct(amount: string, quantity: string, rate: string): boolean {
  const scaled = (text: string): [bigint, number] => {
    const [whole, fraction = ''] = text.split('.')
    return [BigInt(whole! + fraction), fraction.length]
  }
  const [q, qScale] = scaled(quantity)
  const [r, rScale] = scaled(rate)
  const scale = qScale + rScale
  const product = q * r
  // product / 10^scale in cents, rounded half up
  const divisor = 10n ** BigInt(scale)
  const cents = (product * 100n * 2n + divisor) / (divisor * 2n)
  const diff = cents - toCents(amount)
  return diff >= -1n && diff <= 1n
}

/** A string the scanner read through without keeping (over 64 KiB): the field's own code, never the whole batch. */
function refuseLong(value: unknown, code: string, field: string, expected: string): void {
  if (value instanceof LongString) throw new Rejected(code, field, `${field} is ${value.bytes} bytes long: it must be ${expected}`)
}

/** The scanner keeps JSON numbers as their exact source text in { number: '...' }. */
function numberText(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && 'number' in value && typeof (value as { number: unknown }).number === 'string') {
    return (value as { number: string }).number
  }
  return undefined
}

function toCents(amount: string): bigint {
  const negative = amount.startsWith('-')
  const [whole, fraction = ''] = amount.replace('-', '').split('.')
  const cents = BigInt(whole!) * 100n + BigInt((fraction + '00').slice(0, 2))
  return negative ? -cents : cents
}

function formatCents(cents: bigint): string {
  const negative = cents < 0n
  const abs = negative ? -cents : cents
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`
}
