import type pg from 'pg'
import { ZohoError } from '../zoho/errors.ts'
import type { ZohoTaxRef } from './taxes.ts'

// Zoho computes a bill's tax itself, from each line's rate, and rounds it per line or per bill by an
// organization setting its API does not return (docs/zoho.md, "Tax rounding"). billbridge predicts both,
// absorbs a difference from NetSuite's total within TAX_ROUNDING_TOLERANCE in the bill's `adjustment`,
// and learns which one the organization uses from Zoho's answer.

export type RoundingMode = 'line' | 'transaction'

export interface PricedLine {
  /** what Zoho charges the line on: rate × quantity as sent */
  rate: number
  quantity: number
  tax?: ZohoTaxRef
}

/** Amounts in thousandths of the currency unit: exact for every currency's decimals (0 to 3). */
export type Milli = number

export interface Prediction {
  decimals: number
  subTotal: Milli
  tax: Record<RoundingMode, Milli>
  total: Record<RoundingMode, Milli>
}

export interface TaxPlan {
  mode: RoundingMode
  /** NetSuite's total, the bill's gross amount */
  netsuiteTotal: Milli
  /** NetSuite's total − Zoho's predicted total under `mode`; 0 sends no adjustment */
  adjustment: Milli
  prediction: Prediction
  tolerance: Milli
  currency: string
  reverseCharge: boolean
}

/** Half away from zero to `decimals` places, as the sandbox models Zoho (Zoho does not say: docs/zoho.md). */
export function roundHalfAway(value: number, decimals: number): number {
  const factor = 10 ** decimals
  const scaled = Number((Math.abs(value) * factor).toFixed(6))
  return (Math.sign(value) * Math.round(scaled)) / factor
}

export const toMilli = (value: number | string): Milli => Math.round(Number(value) * 1000)

export function formatMilli(value: Milli, decimals: number): string {
  return (value / 1000).toFixed(Math.max(decimals, 2))
}

/**
 * Zoho's sub-total, tax and total for the lines under each rounding setting: each line's amount rounded to
 * the currency first, its tax charged on that; per line each line's tax is rounded, per bill each tax's sum
 * is. A tax group is taken at its total rate. Under reverse charge no tax is owed to the vendor.
 */
export function predictTotals(lines: PricedLine[], decimals: number, reverseCharge: boolean): Prediction {
  const nets = lines.map((l) => roundHalfAway(l.rate * l.quantity, decimals))
  const subTotal = toMilli(roundHalfAway(nets.reduce((s, n) => s + n, 0), decimals))
  let perLine = 0
  const perTax = new Map<string, number>()
  lines.forEach((line, i) => {
    if (!line.tax) return
    const tax = (nets[i]! * Number(line.tax.percentage)) / 100
    perLine += roundHalfAway(tax, decimals)
    perTax.set(line.tax.taxId, (perTax.get(line.tax.taxId) ?? 0) + tax)
  })
  const perBill = [...perTax.values()].reduce((s, t) => s + roundHalfAway(t, decimals), 0)
  const tax = reverseCharge ? { line: 0, transaction: 0 } : { line: toMilli(roundHalfAway(perLine, decimals)), transaction: toMilli(roundHalfAway(perBill, decimals)) }
  return { decimals, subTotal, tax, total: { line: subTotal + tax.line, transaction: subTotal + tax.transaction } }
}

/** The tax Zoho would charge on one line, rounded alone: what tells a reverse-charged line from a zero one. */
export function lineTax(line: PricedLine, decimals: number): number {
  if (!line.tax) return 0
  return roundHalfAway((roundHalfAway(line.rate * line.quantity, decimals) * Number(line.tax.percentage)) / 100, decimals)
}

/**
 * The rounding setting to assume and the adjustment that makes Zoho's total NetSuite's. The learned setting
 * (else per line) unless only the other one is within the tolerance; beyond it under both, TAX_DIFFERS.
 */
export function planAdjustment(input: { netsuiteTotal: string; netsuiteTax: string; prediction: Prediction; learned: RoundingMode | null; tolerance: number; currency: string; reverseCharge: boolean }): TaxPlan {
  const { prediction: p, currency } = input
  const total = toMilli(input.netsuiteTotal)
  const tolerance = toMilli(input.tolerance)
  const preferred = input.learned ?? 'line'
  const other: RoundingMode = preferred === 'line' ? 'transaction' : 'line'
  const within = (mode: RoundingMode) => Math.abs(total - p.total[mode]) <= tolerance
  const mode = within(preferred) ? preferred : within(other) ? other : null
  if (!mode) throw new ZohoError('permanent', 'TAX_DIFFERS', taxDiffersMessage(input, p, total))
  return { mode, netsuiteTotal: total, adjustment: total - p.total[mode], prediction: p, tolerance, currency, reverseCharge: input.reverseCharge }
}

function taxDiffersMessage(input: { netsuiteTax: string; tolerance: number; currency: string; reverseCharge: boolean }, p: Prediction, total: Milli): string {
  const f = (v: Milli) => `${input.currency} ${formatMilli(v, p.decimals)}`
  const zoho = p.total.line === p.total.transaction ? f(p.total.line) : `${f(p.total.line)} (tax rounded per line) or ${f(p.total.transaction)} (per bill)`
  return `NetSuite's total is ${f(total)} (tax ${input.currency} ${input.netsuiteTax}) but Zoho, computing the tax from its own rates, would book ${zoho}` +
    `${input.reverseCharge ? ' under reverse charge' : ''}: more than TAX_ROUNDING_TOLERANCE (${input.currency} ${input.tolerance}) apart, so nothing was created in Zoho. ` +
    'A tax code probably maps to a Zoho tax of another rate, or NetSuite overrode a line\'s tax: check the mapping (`npm run cli -- map tax "<code>" <zoho tax id>`) and the tax on the bill in NetSuite, then retry or send the bill again'
}

export function adjustmentFields(plan: TaxPlan, adjustment = plan.adjustment): Record<string, unknown> {
  if (adjustment === 0) return {}
  return {
    adjustment: Number(formatMilli(adjustment, plan.prediction.decimals)),
    adjustment_description: `Tax rounding to match NetSuite total ${formatMilli(plan.netsuiteTotal, 2)}`,
  }
}

/** The organization's rounding setting as billbridge learned it from Zoho's answers, if it has. */
export async function learnedMode(pool: pg.Pool, organizationId: string): Promise<RoundingMode | null> {
  const { rows } = await pool.query<{ mode: RoundingMode }>('SELECT mode FROM tax_rounding WHERE organization_id = $1', [organizationId])
  return rows[0]?.mode ?? null
}

export async function rememberMode(pool: pg.Pool, organizationId: string, mode: RoundingMode, transactionId: string): Promise<void> {
  await pool.query(
    `INSERT INTO tax_rounding (organization_id, mode, learned_from) VALUES ($1, $2, $3)
     ON CONFLICT (organization_id) DO UPDATE SET mode = EXCLUDED.mode, learned_from = EXCLUDED.learned_from, learned_at = now()
     WHERE tax_rounding.mode <> EXCLUDED.mode`,
    [organizationId, mode, transactionId])
}

/** Which rounding setting Zoho's total before the adjustment shows, when the two predictions differ. */
export function modeShown(plan: TaxPlan, zohoTotalBeforeAdjustment: Milli): RoundingMode | null {
  const { total } = plan.prediction
  if (total.line === total.transaction) return null
  if (zohoTotalBeforeAdjustment === total.line) return 'line'
  if (zohoTotalBeforeAdjustment === total.transaction) return 'transaction'
  return null
}
