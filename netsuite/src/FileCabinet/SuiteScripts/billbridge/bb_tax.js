/**
 * Each line's tax (code, rate, amount) from the account's tax engine, and the bill's segments (netsuite/README.md,
 * "Tax and segments"): legacy tax keeps `taxcode`, `taxrate1` and `tax1amt` on each expense and item line; SuiteTax
 * (feature `TAX_OVERHAULING`) keeps them on the bill's `taxdetails` sublist, linked to a line by `taxdetailsreference`.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/runtime'], /** @param {typeof import('N/runtime')} runtime */ (runtime) => {
  const SEGMENTS = ['department', 'class', 'location']

  /**
   * @typedef {{ taxCode: string, taxRate: string, taxAmount: string }} LineTax
   * @typedef {{ code: string, message: string }} TaxRefusal
   */

  /** @param {string} feature */
  function featureInEffect(feature) {
    try {
      return runtime.isFeatureInEffect({ feature: /** @type {any} */ (feature) }) === true
    } catch (e) {
      return false
    }
  }

  /**
   * Whether SuiteTax is in effect; 0 units. Oracle's own 2.x scripts ask for `tax_overhauling`, the type definitions
   * list `TAX_OVERHAULING`; whether the id is case-sensitive is not documented, so either form answering counts.
   */
  function suiteTaxInEffect() {
    return featureInEffect('TAX_OVERHAULING') || featureInEffect('tax_overhauling')
  }

  /** @param {unknown} value */
  function text(value) {
    return value === null || value === undefined ? '' : String(value).trim()
  }

  /** A percent field as a number, whether it comes as 20 or "20.0%". @param {unknown} value */
  function percent(value) {
    const n = parseFloat(text(value))
    return Number.isFinite(n) ? n : 0
  }

  /** @param {unknown} value */
  function cents(value) {
    const n = Number(text(value) || 0)
    return Number.isFinite(n) ? Math.round(n * 100) : 0
  }

  /** @param {number} value */
  function rateText(value) {
    return value.toFixed(6).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')
  }

  /** A line field the record may not have (e.g. legacy tax2amt outside Canada): empty rather than an error. @param {import('N/record').Record} bill @param {string} sublistId @param {string} fieldId @param {number} line */
  function optional(bill, sublistId, fieldId, line) {
    try {
      return bill.getSublistValue({ sublistId, fieldId, line })
    } catch (e) {
      return ''
    }
  }

  /**
   * SuiteTax's tax details by the reference that links them to a line.
   * @param {import('N/record').Record} bill
   * @returns {Record<string, Array<{ code: string, rate: number, amount: number, basis: number }>>}
   */
  function detailsByReference(bill) {
    /** @type {Record<string, Array<{ code: string, rate: number, amount: number, basis: number }>>} */
    const byReference = {}
    const count = Math.max(0, bill.getLineCount({ sublistId: 'taxdetails' }))
    for (let line = 0; line < count; line++) {
      const reference = text(bill.getSublistValue({ sublistId: 'taxdetails', fieldId: 'taxdetailsreference', line }))
      const detail = {
        code: text(bill.getSublistText({ sublistId: 'taxdetails', fieldId: 'taxcode', line })),
        rate: percent(bill.getSublistValue({ sublistId: 'taxdetails', fieldId: 'taxrate', line })),
        amount: cents(bill.getSublistValue({ sublistId: 'taxdetails', fieldId: 'taxamount', line })),
        basis: cents(bill.getSublistValue({ sublistId: 'taxdetails', fieldId: 'taxbasis', line })),
      }
      ;(byReference[reference] = byReference[reference] || []).push(detail)
    }
    return byReference
  }

  /**
   * The tax of one expense or item line: null when it has none; one tax code, rate and amount otherwise. Several
   * SuiteTax details on one line (Canada's GST and PST, India's CGST and SGST) on the same basis go as one: their
   * codes joined by "+" (in name order, so the same pair always gives the same code), the sum of their rates and of
   * their amounts — what a Zoho tax group is. Details on different bases (a compound tax) cannot be one rate on the
   * line's amount, and refuse the bill.
   * @param {import('N/record').Record} bill @param {string} sublistId @param {number} line
   * @param {ReturnType<typeof detailsByReference> | null} details null under legacy tax
   * @returns {LineTax | null | TaxRefusal}
   */
  function lineTax(bill, sublistId, line, details) {
    const where = `${sublistId} line ${line + 1}`
    if (details) {
      const reference = text(bill.getSublistValue({ sublistId, fieldId: 'taxdetailsreference', line }))
      const own = reference ? details[reference] || [] : []
      if (own.length === 0) return null
      const unnamed = own.find((d) => !d.code)
      if (unnamed) return { code: 'TAX_CODE_MISSING', message: `${where} has a tax detail without a tax code; set it in the bill's Tax Details subtab` }
      if (own.some((d) => d.basis !== own[0].basis)) return { code: 'TAX_DETAILS_UNSUPPORTED', message: `${where} has taxes on different bases (${own.map((d) => `${d.code} on ${(d.basis / 100).toFixed(2)}`).join(', ')}), a compound tax that billbridge cannot carry as one rate on the line` }
      const sorted = own.slice().sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
      return {
        taxCode: sorted.map((d) => d.code).join('+'),
        taxRate: rateText(own.reduce((s, d) => s + d.rate, 0)),
        taxAmount: (own.reduce((s, d) => s + d.amount, 0) / 100).toFixed(2),
      }
    }
    if (!text(bill.getSublistValue({ sublistId, fieldId: 'taxcode', line }))) return null
    const taxCode = text(bill.getSublistText({ sublistId, fieldId: 'taxcode', line }))
    // Canadian legacy accounts carry a second tax (PST) in taxrate2 / tax2amt; elsewhere the fields are empty or absent.
    const rate = percent(bill.getSublistValue({ sublistId, fieldId: 'taxrate1', line })) + percent(optional(bill, sublistId, 'taxrate2', line))
    const amount = cents(bill.getSublistValue({ sublistId, fieldId: 'tax1amt', line })) + cents(optional(bill, sublistId, 'tax2amt', line))
    return { taxCode, taxRate: rateText(rate), taxAmount: (amount / 100).toFixed(2) }
  }

  /** The line's own department, class and location, as NetSuite shows them ("Sales : EMEA"). @param {import('N/record').Record} bill @param {string} sublistId @param {number} line */
  function lineSegments(bill, sublistId, line) {
    /** @type {Record<string, string>} */
    const out = {}
    for (const fieldId of SEGMENTS) {
      if (!text(optional(bill, sublistId, fieldId, line))) continue
      const name = text(bill.getSublistText({ sublistId, fieldId, line }))
      if (name) out[fieldId] = name
    }
    return out
  }

  /** The bill's department, class and location, which billbridge applies to lines that have none. @param {import('N/record').Record} bill */
  function bodySegments(bill) {
    /** @type {Record<string, string>} */
    const out = {}
    for (const fieldId of SEGMENTS) {
      if (!text(bill.getValue({ fieldId }))) continue
      const name = text(bill.getText({ fieldId }))
      if (name) out[fieldId] = name
    }
    return out
  }

  /** Tax for every line of one bill: details read once. @param {import('N/record').Record} bill */
  function forBill(bill) {
    const details = suiteTaxInEffect() ? detailsByReference(bill) : null
    return {
      suiteTax: details !== null,
      /** @param {string} sublistId @param {number} line */
      line: (sublistId, line) => lineTax(bill, sublistId, line, details),
      /** @param {string} sublistId @param {number} line */
      segments: (sublistId, line) => lineSegments(bill, sublistId, line),
    }
  }

  return { forBill, bodySegments, suiteTaxInEffect }
})
