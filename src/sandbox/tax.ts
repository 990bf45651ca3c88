import { BooksError } from './gatekeeper.ts'
import type { BooksState, SandboxTax, SandboxTaxGroup } from './state.ts'

// Taxes, editions and reporting tags as the sandbox models them; docs/zoho.md ("Taxes, editions and
// reporting tags") gives the source of each rule and says where the sandbox chose because Zoho is silent.

export type Edition = 'us' | 'uk' | 'india' | 'gcc'
/** Zoho's organization setting "Tax rounding": per line item or on the transaction's totals. */
export type TaxRounding = 'line' | 'transaction'

export const EDITIONS: Record<Edition, { country: string; countryCode: string; currency: string; currencyName: string }> = {
  us: { country: 'U.S.A', countryCode: 'US', currency: 'USD', currencyName: 'US Dollar' },
  uk: { country: 'United Kingdom', countryCode: 'GB', currency: 'GBP', currencyName: 'Pound Sterling' },
  india: { country: 'India', countryCode: 'IN', currency: 'INR', currencyName: 'Indian Rupee' },
  gcc: { country: 'United Arab Emirates', countryCode: 'AE', currency: 'AED', currencyName: 'UAE Dirham' },
}

// Bills page (Books v3): the documented values of each edition's treatment field.
export const VAT_TREATMENTS = ['uk', 'eu_vat_registered', 'eu_vat_not_registered', 'non_eu', 'overseas']
export const GST_TREATMENTS = ['business_gst', 'business_none', 'overseas', 'consumer']
export const TAX_TREATMENTS = ['vat_registered', 'vat_not_registered', 'gcc_vat_registered', 'gcc_vat_not_registered', 'non_gcc', 'dz_vat_registered', 'dz_vat_not_registered']
// Reverse charge is the buyer accounting for the supplier's tax: only for suppliers abroad (or, in India, unregistered).
const UK_REVERSE_CHARGE = ['eu_vat_registered', 'non_eu', 'overseas']
const GCC_REVERSE_CHARGE = ['gcc_vat_registered', 'non_gcc']
const GSTIN = /^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/
const INDIA_STATES = ['AN', 'AP', 'AR', 'AS', 'BR', 'CH', 'CT', 'DN', 'DD', 'DL', 'GA', 'GJ', 'HR', 'HP', 'JK', 'JH', 'KA', 'KL', 'LA', 'LD', 'MP', 'MH', 'MN', 'ML', 'MZ', 'NL', 'OR', 'PY', 'PB', 'RJ', 'SK', 'TN', 'TG', 'TR', 'UP', 'UT', 'WB']
// UAE emirates, then the other GCC states.
const GCC_PLACES = ['AB', 'AJ', 'DU', 'FU', 'RA', 'SH', 'UQ', 'SA', 'BH', 'KW', 'OM', 'QA']

export interface SeedTax {
  name: string
  percentage: number
  /** 'tax' (default) or 'compound_tax' (charged on the line plus the group's other taxes) */
  type?: 'tax' | 'compound_tax'
  /** India: igst, cgst, sgst, nil, cess; UK and GCC: standard, reduced, zero_rated, exempt, out_of_scope */
  specificType?: string
  active?: boolean
}
export interface SeedTaxGroup {
  name: string
  /** names of taxes in `taxes` */
  taxes: string[]
  active?: boolean
}

export const DEFAULT_TAXES: Record<Edition, { taxes: SeedTax[]; groups: SeedTaxGroup[] }> = {
  us: { taxes: [], groups: [] },
  uk: {
    taxes: [
      { name: 'Standard Rate', percentage: 20, specificType: 'standard' },
      { name: 'Reduced Rate', percentage: 5, specificType: 'reduced' },
      { name: 'Zero Rate', percentage: 0, specificType: 'zero_rated' },
      { name: 'Exempt', percentage: 0, specificType: 'exempt' },
      { name: 'Out of Scope', percentage: 0, specificType: 'out_of_scope' },
    ],
    groups: [],
  },
  india: {
    taxes: [
      { name: 'CGST9', percentage: 9, specificType: 'cgst' },
      { name: 'SGST9', percentage: 9, specificType: 'sgst' },
      { name: 'CGST2.5', percentage: 2.5, specificType: 'cgst' },
      { name: 'SGST2.5', percentage: 2.5, specificType: 'sgst' },
      { name: 'IGST18', percentage: 18, specificType: 'igst' },
      { name: 'IGST5', percentage: 5, specificType: 'igst' },
      { name: 'GST0', percentage: 0, specificType: 'nil' },
    ],
    groups: [{ name: 'GST18', taxes: ['CGST9', 'SGST9'] }, { name: 'GST5', taxes: ['CGST2.5', 'SGST2.5'] }],
  },
  gcc: {
    taxes: [
      { name: 'VAT 5%', percentage: 5, specificType: 'standard' },
      { name: 'Zero Rate', percentage: 0, specificType: 'zero_rated' },
      { name: 'Exempt', percentage: 0, specificType: 'exempt' },
      { name: 'Out of Scope', percentage: 0, specificType: 'out_of_scope' },
    ],
    groups: [],
  },
}

/** Decimal places of a currency (Zoho's price_precision): 0 for JPY, 3 for the dinars and rial, else 2. */
export function currencyDecimals(code: string): number {
  if (code === 'JPY') return 0
  if (['BHD', 'KWD', 'OMR'].includes(code)) return 3
  return 2
}

/** Round half away from zero to `decimals` places; the sandbox's choice, as Zoho does not say (docs/zoho.md). */
export function roundAmount(value: number, decimals: number): number {
  const factor = 10 ** decimals
  const scaled = Number((Math.abs(value) * factor).toFixed(6))
  return (Math.sign(value) * Math.round(scaled)) / factor
}

export interface BillTaxInput {
  vendorCurrency: string
  lines: Array<{ net: number; tax?: SandboxTax | SandboxTaxGroup }>
  rounding: TaxRounding
  inclusive: boolean
}

interface Component { tax: SandboxTax; amount: number }

/** The components of a line's tax: one for a tax, one per member for a group (compound members on the running total). */
function lineComponents(net: number, tax: SandboxTax | SandboxTaxGroup | undefined, state: BooksState): Component[] {
  if (!tax) return []
  const members = 'tax_group_id' in tax ? tax.taxes.map((id) => state.taxes.get(id)!) : [tax]
  const simple = members.filter((m) => m.tax_type !== 'compound_tax').map((m) => ({ tax: m, amount: (net * m.tax_percentage) / 100 }))
  const base = net + simple.reduce((s, c) => s + c.amount, 0)
  const compound = members.filter((m) => m.tax_type === 'compound_tax').map((m) => ({ tax: m, amount: (base * m.tax_percentage) / 100 }))
  return [...simple, ...compound]
}

/**
 * Nets, line taxes and the bill's tax breakdown. `line` rounding rounds each line's tax (per component);
 * `transaction` adds the unrounded taxes of every line and rounds each tax's sum once.
 */
export function computeTaxes(state: BooksState, input: BillTaxInput) {
  const decimals = currencyDecimals(input.vendorCurrency)
  const lines = input.lines.map((l) => {
    // Tax is charged on the line amount rounded to the currency (a 54.54545 line at 10%: 54.55 and 5.46).
    let net = roundAmount(l.net, decimals)
    if (input.inclusive && l.tax) {
      const rate = lineComponents(1, l.tax, state).reduce((s, c) => s + c.amount, 0)
      net = roundAmount(l.net, decimals) / (1 + rate)
    }
    const components = lineComponents(net, l.tax, state)
    if (input.rounding === 'line') {
      const rounded = components.map((c) => ({ ...c, amount: roundAmount(c.amount, decimals) }))
      const gross = roundAmount(l.net, decimals)
      const taxAmount = roundAmount(rounded.reduce((s, c) => s + c.amount, 0), decimals)
      return { net: input.inclusive && l.tax ? roundAmount(gross - taxAmount, decimals) : roundAmount(net, decimals), components: rounded, taxAmount }
    }
    return { net: roundAmount(net, decimals), components, taxAmount: roundAmount(components.reduce((s, c) => s + c.amount, 0), decimals) }
  })
  const byTax = new Map<string, { tax_id: string; tax_name: string; tax_amount: number }>()
  for (const line of lines) {
    for (const c of line.components) {
      const entry = byTax.get(c.tax.tax_id) ?? { tax_id: c.tax.tax_id, tax_name: c.tax.tax_name, tax_amount: 0 }
      entry.tax_amount += c.amount
      byTax.set(c.tax.tax_id, entry)
    }
  }
  const taxes = [...byTax.values()].map((t) => ({ ...t, tax_amount: roundAmount(t.tax_amount, decimals) }))
  const taxTotal = roundAmount(taxes.reduce((s, t) => s + t.tax_amount, 0), decimals)
  const subTotal = input.inclusive
    ? roundAmount(input.lines.reduce((s, l) => s + roundAmount(l.net, decimals), 0) - taxTotal, decimals)
    : roundAmount(lines.reduce((s, l) => s + l.net, 0), decimals)
  return { decimals, lines, taxes, subTotal, taxTotal }
}

function refuse(message: string): never {
  throw new BooksError(400, 4, message)
}

/** The edition's own bill fields, checked as the sandbox models Zoho; returns what the bill stores. */
export function editionFields(state: BooksState, json: Record<string, unknown>, taxed: Array<SandboxTax | SandboxTaxGroup>): Record<string, unknown> {
  const edition = state.organization.edition
  const reverse = json.is_reverse_charge_applied === true
  if (json.is_reverse_charge_applied !== undefined && typeof json.is_reverse_charge_applied !== 'boolean') refuse('Invalid value passed for is_reverse_charge_applied')
  if (edition === 'us') {
    if (reverse) refuse('Reverse charge is not applicable for this organization.')
    return {}
  }
  if (edition === 'uk') {
    const treatment = json.vat_treatment
    if (treatment === undefined || treatment === '') refuse('Please select the VAT treatment (vat_treatment) for this bill.')
    if (!VAT_TREATMENTS.includes(String(treatment))) refuse(`Invalid value passed for vat_treatment: ${String(treatment)}`)
    if (reverse && !UK_REVERSE_CHARGE.includes(String(treatment))) refuse(`Reverse charge cannot be applied when the VAT treatment is ${String(treatment)}.`)
    return { vat_treatment: treatment, is_reverse_charge_applied: reverse, ...(json.vat_reg_no ? { vat_reg_no: String(json.vat_reg_no) } : {}) }
  }
  if (edition === 'india') {
    const treatment = json.gst_treatment
    if (treatment === undefined || treatment === '') refuse('Please select the GST treatment (gst_treatment) for this bill.')
    if (!GST_TREATMENTS.includes(String(treatment))) refuse(`Invalid value passed for gst_treatment: ${String(treatment)}`)
    if (treatment === 'business_gst') {
      if (!json.gst_no) refuse('Please enter the GSTIN (gst_no) of this vendor: its GST treatment is business_gst.')
      if (!GSTIN.test(String(json.gst_no))) refuse(`Invalid value passed for gst_no: ${String(json.gst_no)} is not a 15-character GSTIN`)
    }
    const source = treatment === 'overseas' ? 'FN' : json.source_of_supply
    if (treatment !== 'overseas') {
      if (!source) refuse('Please select the source of supply (source_of_supply) for this bill.')
      if (!INDIA_STATES.includes(String(source))) refuse(`Invalid value passed for source_of_supply: ${String(source)}`)
    }
    const destination = json.destination_of_supply ?? state.organization.homeState
    if (!INDIA_STATES.includes(String(destination))) refuse(`Invalid value passed for destination_of_supply: ${String(destination)}`)
    // Within a state CGST + SGST apply; between states (and on imports) IGST.
    const interState = source !== destination
    for (const tax of taxed) {
      const kinds = 'tax_group_id' in tax ? tax.taxes.map((id) => state.taxes.get(id)!.tax_specific_type) : [tax.tax_specific_type]
      const name = 'tax_group_id' in tax ? tax.tax_group_name : tax.tax_name
      if (interState && kinds.some((k) => k === 'cgst' || k === 'sgst')) refuse(`The tax ${name} cannot be applied: the supply from ${String(source)} to ${String(destination)} is inter-state and takes IGST.`)
      if (!interState && kinds.includes('igst')) refuse(`The tax ${name} cannot be applied: the supply within ${String(destination)} is intra-state and takes CGST and SGST.`)
    }
    return { gst_treatment: treatment, ...(json.gst_no ? { gst_no: String(json.gst_no) } : {}), source_of_supply: source, destination_of_supply: destination, is_reverse_charge_applied: reverse }
  }
  const treatment = json.tax_treatment
  if (treatment === undefined || treatment === '') refuse('Please select the tax treatment (tax_treatment) for this bill.')
  if (!TAX_TREATMENTS.includes(String(treatment))) refuse(`Invalid value passed for tax_treatment: ${String(treatment)}`)
  if (!json.place_of_supply) refuse('Please select the place of supply (place_of_supply) for this bill.')
  if (!GCC_PLACES.includes(String(json.place_of_supply))) refuse(`Invalid value passed for place_of_supply: ${String(json.place_of_supply)}`)
  if (reverse && !GCC_REVERSE_CHARGE.includes(String(treatment))) refuse(`Reverse charge cannot be applied when the tax treatment is ${String(treatment)}.`)
  return { tax_treatment: treatment, place_of_supply: json.place_of_supply, is_reverse_charge_applied: reverse }
}
