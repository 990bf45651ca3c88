export const DIFFERENCE_KINDS = ['missing_in_zoho', 'voided_in_zoho', 'total_differs', 'date_differs', 'vendor_differs', 'currency_differs', 'not_in_billbridge'] as const
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number]

/** One bill as Zoho lists it (GET /bills) or answers it (GET /bills/{id}). */
export interface ZohoListedBill {
  bill_id: string
  bill_number?: string
  vendor_id?: string
  vendor_name?: string
  date?: string
  total?: number | string
  currency_code?: string
  status?: string
  custom_fields?: Array<{ api_name?: string; value?: unknown }>
}

/** What billbridge delivered, as recorded on its transaction. */
export interface DeliveredBill {
  id: string
  external_id: string
  zoho_bill_id: string
  status: string
  amount: string
  currency: string
  date: string | null
  zoho_vendor_id: string | null
  zoho_vendor_name: string | null
}

export interface Difference {
  kind: DifferenceKind
  transactionId: string | null
  externalId: string | null
  zohoBillId: string
  billbridgeValue: string | null
  zohoValue: string | null
}

/**
 * A decimal amount in cents, from its decimal text (PostgreSQL numeric, or a JSON number's shortest form),
 * rounded half away from zero at the third decimal: no binary floating point on the way.
 */
export function toCents(value: string | number): bigint {
  const text = typeof value === 'number' ? numberText(value) : value.trim()
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text)
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new Error(`not a decimal amount: ${text}`)
  const [, sign, whole, fraction = ''] = match
  const digits = (fraction + '000').slice(0, 3)
  let cents = BigInt(whole || '0') * 100n + BigInt(digits.slice(0, 2))
  if (Number(digits[2]) >= 5) cents += 1n
  return sign === '-' ? -cents : cents
}

/** A JSON number as decimal text; exponent forms (tiny or huge amounts) are expanded. */
function numberText(n: number): string {
  const text = String(n)
  return /e/i.test(text) ? n.toFixed(3) : text
}

export function centsText(cents: bigint): string {
  const negative = cents < 0n
  const abs = negative ? -cents : cents
  return `${negative ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`
}

/** The value of billbridge's marker (the ZOHO_UNIQUE_FIELD custom field) on a Zoho bill, if it carries one. */
export function markerOf(bill: ZohoListedBill, uniqueField: string | undefined): string | null {
  if (!uniqueField) return null
  const field = bill.custom_fields?.find((f) => f.api_name === uniqueField)
  const value = field?.value
  return typeof value === 'string' && value.trim() !== '' ? value : null
}

const vendorText = (id: string | null | undefined, name: string | null | undefined) => (id ? `${id}${name ? ` (${name})` : ''}` : null)

/** How a bill billbridge delivered differs from the bill Zoho holds under its id. */
export function compareBill(delivered: DeliveredBill, zoho: ZohoListedBill): Difference[] {
  const base = { transactionId: delivered.id, externalId: delivered.external_id, zohoBillId: delivered.zoho_bill_id }
  if (zoho.status === 'void') {
    // A bill billbridge cancelled is meant to be void in Zoho.
    return delivered.status === 'cancelled' ? [] : [{ ...base, kind: 'voided_in_zoho', billbridgeValue: delivered.status, zohoValue: 'void' }]
  }
  const out: Difference[] = []
  if (zoho.total !== undefined && toCents(zoho.total) !== toCents(delivered.amount)) {
    out.push({ ...base, kind: 'total_differs', billbridgeValue: centsText(toCents(delivered.amount)), zohoValue: centsText(toCents(zoho.total)) })
  }
  if (zoho.date !== undefined && delivered.date !== null && zoho.date !== delivered.date) {
    out.push({ ...base, kind: 'date_differs', billbridgeValue: delivered.date, zohoValue: zoho.date })
  }
  if (zoho.vendor_id !== undefined && delivered.zoho_vendor_id !== null && zoho.vendor_id !== delivered.zoho_vendor_id) {
    out.push({ ...base, kind: 'vendor_differs', billbridgeValue: vendorText(delivered.zoho_vendor_id, delivered.zoho_vendor_name), zohoValue: vendorText(zoho.vendor_id, zoho.vendor_name) })
  }
  if (zoho.currency_code !== undefined && zoho.currency_code !== delivered.currency) {
    out.push({ ...base, kind: 'currency_differs', billbridgeValue: delivered.currency, zohoValue: zoho.currency_code })
  }
  return out
}

/** A Zoho bill with billbridge's marker that billbridge did not deliver (or delivered as another Zoho bill). */
export function strangerDifference(zoho: ZohoListedBill, marker: string): Difference {
  const total = zoho.total === undefined ? '' : ` ${centsText(toCents(zoho.total))}${zoho.currency_code ? ` ${zoho.currency_code}` : ''}`
  return {
    kind: 'not_in_billbridge', transactionId: null, externalId: marker, zohoBillId: zoho.bill_id, billbridgeValue: null,
    zohoValue: `${zoho.bill_number ?? zoho.bill_id}${zoho.vendor_name ? ` · ${zoho.vendor_name}` : ''} · ${zoho.date ?? ''}${total}`,
  }
}
