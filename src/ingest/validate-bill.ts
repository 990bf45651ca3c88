import { LongString } from './json-scan.ts'
import { isStorableText } from './storable-text.ts'

/** A bill as NetSuite sent it, checked and normalised; the PDF itself is checked while it streams. */
export interface ValidBill {
  externalId: string
  billNumber: string
  vendor: { externalId?: string; name: string; email?: string }
  date: string
  dueDate?: string
  currency: string
  referenceNumber?: string
  memo?: string
  /** NetSuite's exchange rate to the organization's base currency, as sent (decimal text) */
  exchangeRate?: string
  /** NetSuite subsidiary name; stored for operators, not sent to Zoho */
  subsidiary?: string
  lines: Array<{ account: string; amount: string; description?: string; quantity?: string; rate?: string }>
  /** sum of the lines, two decimals */
  amount: string
  attachment: { fileName: string; contentType: string }
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
const BILL_KEYS = ['externalId', 'billNumber', 'vendor', 'date', 'dueDate', 'currency', 'referenceNumber', 'memo', 'exchangeRate', 'subsidiary', 'lines', 'attachment']
const VENDOR_KEYS = ['externalId', 'name', 'email']
const LINE_KEYS = ['account', 'amount', 'description', 'quantity', 'rate']
const ATTACHMENT_KEYS = ['fileName', 'contentType', 'contentBase64']

class Rejected extends Error {
  readonly rejection: BillRejection
  constructor(code: string, field: string, message: string) {
    super(message)
    this.rejection = { code, message, field }
  }
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
  const billNumber = text(bill, 'billNumber', 'BILL_NUMBER_MISSING', 100)!
  const vendorIn = bill.vendor === undefined ? undefined : asObject(bill.vendor, 'vendor', 'VENDOR_INVALID', VENDOR_KEYS, 'vendor.')
  if (!vendorIn) throw new Rejected('VENDOR_MISSING', 'vendor', 'vendor is required: { "name": ..., "externalId": ... }')
  const vendorName = text(vendorIn, 'name', 'VENDOR_NAME_MISSING', 200, 'vendor.')!
  const vendorExternalId = text(vendorIn, 'externalId', 'VENDOR_INVALID', 128, 'vendor.', false)
  const email = text(vendorIn, 'email', 'VENDOR_EMAIL_INVALID', 254, 'vendor.', false)
  if (email !== undefined && !EMAIL.test(email)) throw new Rejected('VENDOR_EMAIL_INVALID', 'vendor.email', `vendor.email "${email}" is not an email address`)

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
  const lines = readLines(bill.lines)
  const attachment = readAttachment(bill.attachment)
  return {
    externalId,
    billNumber,
    vendor: { name: vendorName, ...(vendorExternalId ? { externalId: vendorExternalId } : {}), ...(email ? { email } : {}) },
    date,
    ...(dueDate ? { dueDate } : {}),
    currency,
    ...(referenceNumber ? { referenceNumber } : {}),
    ...(memo ? { memo } : {}),
    ...(exchangeRate ? { exchangeRate } : {}),
    ...(subsidiary ? { subsidiary } : {}),
    lines,
    amount: billTotal(lines),
    attachment,
  }
}

function readLines(value: unknown): ValidBill['lines'] {
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
    return { account, amount, ...(description ? { description } : {}), ...(quantity !== undefined ? { quantity, rate } : {}) }
  })
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

/** The sum of the lines: positive (credits are another document) and within the numeric(18, 2) column. */
function billTotal(lines: ValidBill['lines']): string {
  const cents = lines.reduce((sum, line) => sum + toCents(line.amount), 0n)
  if (cents <= 0n) throw new Rejected('AMOUNT_INVALID', 'lines', `the bill's total (the sum of its lines) must be positive, got ${formatCents(cents)}; send credits as vendor credits`)
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

/** Amounts arrive as decimal strings or JSON numbers (kept as their source text); at most 2 decimals. */
function decimal(value: unknown, field: string): string {
  refuseLong(value, 'AMOUNT_INVALID', field, 'a decimal amount with at most 2 decimals')
  const raw = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : numberText(value)
  if (raw === undefined || !DECIMAL.test(raw)) {
    throw new Rejected('AMOUNT_INVALID', field, `${field} must be a decimal amount with at most 2 decimals, like "100.00", got ${JSON.stringify(value ?? null)}`)
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
