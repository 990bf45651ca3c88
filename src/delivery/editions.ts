import { ZohoError } from '../zoho/errors.ts'
import type { OrganizationProfile, ZohoTaxRef } from './taxes.ts'

// What each Zoho edition needs on a bill, from what NetSuite sent; docs/zoho.md ("What billbridge sends
// each edition") gives the source of each rule. A bill the edition cannot book fails here, naming the
// missing field, before any request: never a Zoho 400 passed through.

export interface EditionVendor {
  name: string
  /** ISO 3166 alpha-2 */
  country?: string
  /** VAT number, GSTIN or TRN as NetSuite holds it */
  taxId?: string
}

export interface EditionBill {
  /** YYYY-MM-DD */
  date: string
  /** the Zoho tax of each taxed line */
  taxes: ZohoTaxRef[]
  /** NetSuite charged no tax on lines Zoho would tax: the buyer accounts for it (docs/zoho.md) */
  reverseCharge: boolean
}

const EU = new Set(['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE'])
const GCC = new Set(['AE', 'SA', 'BH', 'KW', 'OM', 'QA'])
// The UK left the EU's VAT area on 2021-01-01; from then Zoho's Bills page names `overseas` for every vendor outside the UK.
const BREXIT = '2021-01-01'
const UK_REVERSE_CHARGE = new Set(['eu_vat_registered', 'non_eu', 'overseas'])
const GCC_REVERSE_CHARGE = new Set(['gcc_vat_registered', 'non_gcc'])
const GSTIN = /^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/

// GST state codes (the GSTIN's first two digits) → Zoho's state codes, with the state's name.
const INDIA_STATES: Array<[string, string, string]> = [
  ['01', 'JK', 'Jammu and Kashmir'], ['02', 'HP', 'Himachal Pradesh'], ['03', 'PB', 'Punjab'], ['04', 'CH', 'Chandigarh'], ['05', 'UT', 'Uttarakhand'],
  ['06', 'HR', 'Haryana'], ['07', 'DL', 'Delhi'], ['08', 'RJ', 'Rajasthan'], ['09', 'UP', 'Uttar Pradesh'], ['10', 'BR', 'Bihar'], ['11', 'SK', 'Sikkim'],
  ['12', 'AR', 'Arunachal Pradesh'], ['13', 'NL', 'Nagaland'], ['14', 'MN', 'Manipur'], ['15', 'MZ', 'Mizoram'], ['16', 'TR', 'Tripura'], ['17', 'ML', 'Meghalaya'],
  ['18', 'AS', 'Assam'], ['19', 'WB', 'West Bengal'], ['20', 'JH', 'Jharkhand'], ['21', 'OR', 'Odisha'], ['22', 'CT', 'Chhattisgarh'], ['23', 'MP', 'Madhya Pradesh'],
  ['24', 'GJ', 'Gujarat'], ['25', 'DD', 'Daman and Diu'], ['26', 'DN', 'Dadra and Nagar Haveli'], ['27', 'MH', 'Maharashtra'], ['28', 'AP', 'Andhra Pradesh'],
  ['29', 'KA', 'Karnataka'], ['30', 'GA', 'Goa'], ['31', 'LD', 'Lakshadweep'], ['32', 'KL', 'Kerala'], ['33', 'TN', 'Tamil Nadu'], ['34', 'PY', 'Puducherry'],
  ['35', 'AN', 'Andaman and Nicobar Islands'], ['36', 'TG', 'Telangana'], ['37', 'AP', 'Andhra Pradesh'], ['38', 'LA', 'Ladakh'],
]
const EMIRATES: Array<[string, string]> = [['AB', 'abu dhabi'], ['AJ', 'ajman'], ['DU', 'dubai'], ['FU', 'fujairah'], ['RA', 'ras al khaimah'], ['SH', 'sharjah'], ['UQ', 'umm al quwain']]

function fail(code: string, message: string): never {
  throw new ZohoError('permanent', code, message)
}

/** The edition's bill fields (vat_treatment, gst_treatment …, is_reverse_charge_applied); {} for the US and other editions. */
export function editionFields(org: OrganizationProfile, vendor: EditionVendor, bill: EditionBill): Record<string, unknown> {
  if (org.edition === 'uk') return ukFields(vendor, bill)
  if (org.edition === 'india') return indiaFields(org, vendor, bill)
  if (org.edition === 'gcc') return gccFields(org, vendor, bill)
  return {}
}

function requireCountry(vendor: EditionVendor, edition: string, field: string): string {
  if (vendor.country) return vendor.country
  fail('VENDOR_COUNTRY_REQUIRED', `the Zoho organization is in the ${edition} edition, which books a bill with its ${field}, chosen from the vendor's country; NetSuite sent no country for "${vendor.name}" (vendor.country): set the vendor's country in NetSuite and send the bill again`)
}

function normalisedTaxId(vendor: EditionVendor): string | undefined {
  const id = vendor.taxId?.replace(/[\s.-]/g, '').toUpperCase()
  return id ? id : undefined
}

function reverseChargeRefused(vendor: EditionVendor, field: string, treatment: string): never {
  fail('TAX_DIFFERS', `NetSuite charged no tax on lines whose Zoho tax has a rate, which is reverse charge, but Zoho applies reverse charge only to a vendor abroad and "${vendor.name}" has ${field} ${treatment} (from vendor.country ${vendor.country ?? '(none)'}): correct the tax codes or the vendor's country in NetSuite and send the bill again, or enter it in Zoho Books by hand and mark it resolved`)
}

function ukFields(vendor: EditionVendor, bill: EditionBill): Record<string, unknown> {
  const country = requireCountry(vendor, 'UK', 'vat_treatment')
  const taxId = normalisedTaxId(vendor)
  let treatment: string
  if (country === 'GB') treatment = 'uk'
  else if (bill.date >= BREXIT) treatment = 'overseas'
  else if (EU.has(country)) treatment = taxId ? 'eu_vat_registered' : 'eu_vat_not_registered'
  else treatment = 'non_eu'
  if (bill.reverseCharge && !UK_REVERSE_CHARGE.has(treatment)) {
    if (treatment === 'eu_vat_not_registered') {
      fail('VENDOR_TAX_ID_REQUIRED', `reverse charge on a bill from an EU vendor needs its VAT number, and NetSuite sent none for "${vendor.name}" (vendor.taxId): set it in NetSuite and send the bill again`)
    }
    reverseChargeRefused(vendor, 'vat_treatment', treatment)
  }
  const vatRegNo = taxId && taxId.length >= 2 && taxId.length <= 12 && country !== 'GB' ? { vat_reg_no: taxId } : {}
  return { vat_treatment: treatment, ...vatRegNo, ...(bill.reverseCharge ? { is_reverse_charge_applied: true } : {}) }
}

/** Zoho's code for the organization's Indian state, given as a code or a name. */
function indiaStateCode(state: string | undefined): string | undefined {
  if (!state) return undefined
  const wanted = state.trim().toLowerCase()
  return INDIA_STATES.find(([, code, name]) => code.toLowerCase() === wanted || name.toLowerCase() === wanted)?.[1]
}

function indiaFields(org: OrganizationProfile, vendor: EditionVendor, bill: EditionBill): Record<string, unknown> {
  const country = requireCountry(vendor, 'India', 'gst_treatment')
  const destination = indiaStateCode(org.state)
  const common = { ...(destination ? { destination_of_supply: destination } : {}), ...(bill.reverseCharge ? { is_reverse_charge_applied: true } : {}) }
  if (country !== 'IN') return { gst_treatment: 'overseas', ...common }
  const taxId = normalisedTaxId(vendor)
  if (taxId && !GSTIN.test(taxId)) {
    fail('VENDOR_TAX_ID_REQUIRED', `an Indian vendor's tax id must be its 15-character GSTIN (e.g. 29ABCDE1234F1Z5), which Zoho needs as gst_no and billbridge reads its state from; NetSuite sent "${vendor.taxId}" for "${vendor.name}" (vendor.taxId): correct it in NetSuite and send the bill again`)
  }
  if (!taxId) {
    fail('VENDOR_STATE_REQUIRED', `Zoho's India edition books a bill with the vendor's state (source_of_supply), which billbridge reads from the vendor's GSTIN; NetSuite sent no GSTIN for "${vendor.name}" (vendor.taxId), so its state is unknown: set the GSTIN in NetSuite and send the bill again, or, for an unregistered vendor, enter the bill in Zoho Books by hand and mark it resolved`)
  }
  const source = INDIA_STATES.find(([digits]) => digits === taxId.slice(0, 2))?.[1]
  if (!source) fail('VENDOR_STATE_REQUIRED', `the GSTIN ${taxId} of "${vendor.name}" starts with ${taxId.slice(0, 2)}, which is no Indian state's GST code: correct vendor.taxId in NetSuite and send the bill again`)
  if (destination) checkGstKind(bill.taxes, source, destination)
  return { gst_treatment: 'business_gst', gst_no: taxId, source_of_supply: source, ...common }
}

/** CGST and SGST within a state, IGST between states (Zoho KB): a tax of the wrong kind is a mapping to correct. */
function checkGstKind(taxes: ZohoTaxRef[], source: string, destination: string): void {
  const interState = source !== destination
  for (const tax of taxes) {
    // A tax group in the India edition pairs CGST and SGST (docs/zoho.md).
    const intraOnly = tax.isGroup || tax.specificType === 'cgst' || tax.specificType === 'sgst'
    const interOnly = tax.specificType === 'igst'
    if ((interState && intraOnly) || (!interState && interOnly)) {
      const needed = interState ? 'IGST' : 'CGST and SGST (a tax group)'
      fail('TAX_UNMAPPED', `the supply from ${source} to ${destination} is ${interState ? 'inter' : 'intra'}-state and takes ${needed}, but a line's tax code maps to the Zoho tax "${tax.name}" (${tax.taxId}): map that NetSuite tax code to the right Zoho tax (\`npm run cli -- map tax "<code>" <zoho tax id>\`) or correct the vendor's GSTIN, then retry`)
    }
  }
}

/** The emirate (or GCC state) the organization is in: Zoho's place_of_supply code. */
function placeOfSupply(org: OrganizationProfile): string | undefined {
  if (org.countryCode && org.countryCode !== 'AE' && GCC.has(org.countryCode)) return org.countryCode
  const wanted = org.state?.trim().toLowerCase().replace(/[-']/g, ' ').replace(/\s+/g, ' ')
  if (!wanted) return undefined
  return EMIRATES.find(([code, name]) => code.toLowerCase() === wanted || name === wanted)?.[0]
}

function gccFields(org: OrganizationProfile, vendor: EditionVendor, bill: EditionBill): Record<string, unknown> {
  const country = requireCountry(vendor, 'Gulf (GCC)', 'tax_treatment')
  const registered = normalisedTaxId(vendor) !== undefined
  let treatment: string
  if (country === org.countryCode) treatment = registered ? 'vat_registered' : 'vat_not_registered'
  else if (GCC.has(country)) treatment = registered ? 'gcc_vat_registered' : 'gcc_vat_not_registered'
  else treatment = 'non_gcc'
  const place = placeOfSupply(org)
  if (!place) {
    fail('PLACE_OF_SUPPLY_REQUIRED', `Zoho's Gulf edition books a bill with its place of supply (place_of_supply), which billbridge takes from the emirate in the organization's address, and Zoho's organization profile names none ("${org.state ?? ''}"): set the emirate in Zoho Books (Settings → Organization Profile), then retry`)
  }
  if (bill.reverseCharge && !GCC_REVERSE_CHARGE.has(treatment)) {
    if (treatment === 'gcc_vat_not_registered') {
      fail('VENDOR_TAX_ID_REQUIRED', `reverse charge on a bill from a GCC vendor needs its tax registration number (TRN), and NetSuite sent none for "${vendor.name}" (vendor.taxId): set it in NetSuite and send the bill again`)
    }
    reverseChargeRefused(vendor, 'tax_treatment', treatment)
  }
  return { tax_treatment: treatment, place_of_supply: place, ...(bill.reverseCharge ? { is_reverse_charge_applied: true } : {}) }
}
