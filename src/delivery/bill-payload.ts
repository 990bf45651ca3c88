import type pg from 'pg'
import { currencyDecimals, type ValidBill, type ValidLine } from '../ingest/validate-bill.ts'
import { ZohoError } from '../zoho/errors.ts'
import { editionFields } from './editions.ts'
import type { Mapper, VendorRef, ZohoTaxRef } from './mapping.ts'
import { accountKey } from './mapping.ts'
import { adjustmentFields, learnedMode, lineTax, planAdjustment, predictTotals, type PricedLine, type TaxPlan } from './tax-rounding.ts'

/** The stored bill as delivery reads it: the transaction row's bill JSON, vendor and gross amount. */
export interface PayloadBill {
  external_id: string
  bill_number: string
  vendor: VendorRef & { country?: string; taxId?: string }
  bill: Pick<ValidBill, 'date' | 'dueDate' | 'referenceNumber' | 'memo' | 'exchangeRate' | 'currency' | 'lines' | 'department' | 'class' | 'location'>
  /** the bill's gross total: NetSuite's total */
  amount: string
}

type TagRef = { tag_id: string; tag_option_id: string }

/** What Zoho needs beyond accounts and vendor: each line's tax and tags, the edition's fields, the rounding plan. */
export interface PricedBill {
  lines: Array<{ tax?: ZohoTaxRef; tags: TagRef[] }>
  edition: Record<string, unknown>
  /** null for a bill without tax: it goes as before, with no adjustment */
  plan: TaxPlan | null
  /** Zoho's exchange_rate for the bill, when NetSuite's means the same to Zoho (zohoExchangeRate) */
  exchangeRate?: number
}

export interface PricingDeps {
  pool: pg.Pool
  mapper: Mapper
  organizationId: string
  taxRoundingTolerance: number
  /** the base currency of the organization's NetSuite subsidiaries, when configured */
  netsuiteBaseCurrency?: string
}

/**
 * NetSuite's exchangeRate is bill currency → the subsidiary's base currency; Zoho's exchange_rate is bill
 * currency → the organization's base currency. They are the same number only when the two base currencies are
 * one, so billbridge sends NetSuite's rate unless it knows they differ (the entry's netsuiteBaseCurrency is not the
 * organization's base currency in Zoho): then it sends none and Zoho applies its own rate for the bill's date. A
 * bill in the organization's base currency goes at 1 in Zoho whatever NetSuite's rate, so none is sent either.
 * The bill's amounts, in its own currency, are NetSuite's either way (docs/zoho.md, "Exchange rates").
 */
export function zohoExchangeRate(bill: Pick<ValidBill, 'exchangeRate' | 'currency'>, organizationCurrency: string, netsuiteBaseCurrency: string | undefined): number | undefined {
  if (!bill.exchangeRate) return undefined
  if (organizationCurrency && bill.currency === organizationCurrency) return undefined
  if (netsuiteBaseCurrency && organizationCurrency && netsuiteBaseCurrency !== organizationCurrency) return undefined
  return Number(bill.exchangeRate)
}

const SEGMENTS = ['department', 'class', 'location'] as const

/** A line's segments, the bill's filling those it lacks. */
function segmentsOf(bill: PayloadBill['bill'], line: ValidLine): Partial<Record<(typeof SEGMENTS)[number], string>> {
  const out: Partial<Record<(typeof SEGMENTS)[number], string>> = {}
  for (const segment of SEGMENTS) {
    const value = line[segment] ?? bill[segment]
    if (value !== undefined) out[segment] = value
  }
  return out
}

/** Each distinct tax code and segment set is resolved once per bill; the mapper caches them across bills. */
async function resolveLines(deps: PricingDeps, bill: PayloadBill['bill'], signal: AbortSignal): Promise<PricedBill['lines']> {
  const taxes = new Map<string, Promise<ZohoTaxRef>>()
  const tags = new Map<string, Promise<TagRef[]>>()
  const resolved = []
  for (const line of bill.lines) {
    let tax: ZohoTaxRef | undefined
    if (line.taxCode !== undefined) {
      const key = JSON.stringify([line.taxCode, line.taxRate ?? null])
      if (!taxes.has(key)) taxes.set(key, deps.mapper.resolveTax(line.taxCode, line.taxRate, signal))
      tax = await taxes.get(key)!
    }
    const segments = segmentsOf(bill, line)
    const key = JSON.stringify(segments)
    if (!tags.has(key)) tags.set(key, deps.mapper.resolveTags(segments, signal))
    resolved.push({ ...(tax ? { tax } : {}), tags: await tags.get(key)! })
  }
  return resolved
}

const pricedLine = (line: ValidLine, tax: ZohoTaxRef | undefined): PricedLine => ({ rate: Number(line.rate ?? line.amount), quantity: Number(line.quantity ?? 1), ...(tax ? { tax } : {}) })

/**
 * Reverse charge: NetSuite charged no tax on a line Zoho would tax, because the buyer accounts for it. Zoho
 * takes it for the whole bill, so a bill mixing such lines with lines NetSuite taxed cannot be booked.
 */
function reverseCharged(row: PayloadBill, lines: PricedBill['lines'], decimals: number): boolean {
  const taxed = row.bill.lines.map((line, i) => ({ line, zoho: lineTax(pricedLine(line, lines[i]!.tax), decimals) })).filter((l) => l.line.taxCode !== undefined)
  const reverse = taxed.filter((l) => l.zoho !== 0 && Number(l.line.taxAmount) === 0)
  if (reverse.length === 0) return false
  const charged = taxed.find((l) => Number(l.line.taxAmount) !== 0)
  if (charged) {
    throw new ZohoError('permanent', 'TAX_DIFFERS', `NetSuite charged no tax on the line of tax code "${reverse[0]!.line.taxCode}" (reverse charge: Zoho would charge ${reverse[0]!.zoho}) but charged ${charged.line.taxAmount} on the line of "${charged.line.taxCode}", and Zoho applies reverse charge to a whole bill: split the bill in NetSuite and send both, or enter it in Zoho Books by hand and mark it resolved`)
  }
  return true
}

/** Resolves the bill's taxes, tags and edition fields, and plans the adjustment that makes Zoho's total NetSuite's. */
export async function priceBill(deps: PricingDeps, row: PayloadBill, signal: AbortSignal): Promise<PricedBill> {
  const org = await deps.mapper.organization(signal)
  const lines = await resolveLines(deps, row.bill, signal)
  const taxedBill = row.bill.lines.some((l) => l.taxCode !== undefined)
  const decimals = currencyDecimals(row.bill.currency)
  const reverseCharge = taxedBill && ['uk', 'india', 'gcc'].includes(org.edition) && reverseCharged(row, lines, decimals)
  const edition = editionFields(org, row.vendor, { date: row.bill.date, taxes: lines.flatMap((l) => (l.tax ? [l.tax] : [])), reverseCharge })
  const rate = zohoExchangeRate(row.bill, org.currencyCode, deps.netsuiteBaseCurrency)
  const exchange = rate === undefined ? {} : { exchangeRate: rate }
  if (!taxedBill) return { lines, edition, plan: null, ...exchange }
  const prediction = predictTotals(row.bill.lines.map((line, i) => pricedLine(line, lines[i]!.tax)), decimals, reverseCharge)
  const netsuiteTax = row.bill.lines.reduce((s, l) => s + Math.round(Number(l.taxAmount ?? 0) * 100), 0)
  const plan = planAdjustment({
    netsuiteTotal: row.amount, netsuiteTax: (netsuiteTax / 100).toFixed(2), prediction, learned: await learnedMode(deps.pool, deps.organizationId),
    tolerance: deps.taxRoundingTolerance, currency: row.bill.currency, reverseCharge,
  })
  return { lines, edition, plan, ...exchange }
}

/** The bill as Zoho's create, upsert and update take it; `adjustment` overrides the plan's (a correction). */
export function billPayload(row: PayloadBill, vendorId: string, accounts: Map<string, string>, uniqueField: string | undefined, priced: PricedBill, adjustment?: number) {
  const bill = row.bill
  return {
    vendor_id: vendorId,
    bill_number: row.bill_number,
    date: bill.date,
    ...(bill.dueDate ? { due_date: bill.dueDate } : {}),
    ...(bill.referenceNumber ? { reference_number: bill.referenceNumber } : {}),
    ...(bill.memo ? { notes: bill.memo } : {}),
    ...(priced.exchangeRate !== undefined ? { exchange_rate: priced.exchangeRate } : {}),
    line_items: bill.lines.map((line, i) => {
      const { tax, tags } = priced.lines[i]!
      return {
        account_id: accounts.get(accountKey(line.account))!,
        description: line.description ?? line.account,
        rate: Number(line.rate ?? line.amount),
        quantity: Number(line.quantity ?? 1),
        ...(tax ? { tax_id: tax.taxId } : {}),
        ...(tags.length > 0 ? { tags } : {}),
      }
    }),
    ...priced.edition,
    ...(priced.plan ? adjustmentFields(priced.plan, adjustment) : {}),
    ...(uniqueField ? { custom_fields: [{ api_name: uniqueField, value: row.external_id }] } : {}),
  }
}
