/**
 * A loaded vendor bill as billbridge's bill (docs/api.md), or the reason it cannot be sent.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./bb_tax'], /** @param {any} tax */ (tax) => {
  const MAX_LINES = 500 // billbridge's limit
  const MAX_DISTINCT_ITEMS = 300 // up to 2 look-up units each: 600 of the map stage's 1,000 units

  /**
   * @typedef {{ skip: true } | { account: string } | { code: string, message: string }} Posting
   * @typedef {{ currencyCode: (id: string) => string, itemPosting: (id: string) => Posting }} Lookups
   * @typedef {{ ok: false, code: string, message: string }} Refusal
   * @typedef {{ taxId?: string, country?: string }} VendorFields the vendor's tax id and country from the bill search
   * @typedef {{ line: (sublistId: string, line: number) => ({ taxCode: string, taxRate: string, taxAmount: string } | null | { code: string, message: string }), segments: (sublistId: string, line: number) => Record<string, string>, suiteTax: boolean }} Taxes
   */

  /** @param {string} code @param {string} message @returns {Refusal} */
  function refuse(code, message) {
    return { ok: false, code, message }
  }

  /** @param {unknown} value */
  function text(value) {
    return value === null || value === undefined ? '' : String(value).trim()
  }

  /** @param {unknown} value */
  function cents(value) {
    return Math.round(Number(value) * 100)
  }

  /** A decimal as text without exponent or trailing zeros. @param {number} value @param {number} places */
  function decimalText(value, places) {
    return value.toFixed(places).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')
  }

  /** SuiteScript returns date fields as Date objects at midnight of the account's time zone. @param {unknown} value */
  function isoDate(value) {
    if (!value) return ''
    const d = value instanceof Date ? value : new Date(String(value))
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
  }

  /** @param {unknown} value */
  function timestamp(value) {
    const d = value instanceof Date ? value : new Date(String(value || 0))
    return Number.isNaN(d.getTime()) ? '' : d.toISOString()
  }

  /** @param {number} n */
  function two(n) {
    return String(n).padStart(2, '0')
  }

  /**
   * An instant as ISO 8601 with a numeric offset (e.g. "2026-11-30T14:05:00-08:00"): the wall-clock time at
   * `offsetMinutes` east of UTC, then that offset. The instant is exact whatever the offset; billbridge compares
   * instants (netsuite/README.md, "Versions").
   * @param {Date} date @param {number} offsetMinutes minutes east of UTC (the negative of Date.getTimezoneOffset())
   */
  function isoWithOffset(date, offsetMinutes) {
    const local = new Date(date.getTime() + offsetMinutes * 60000)
    const sign = offsetMinutes < 0 ? '-' : '+'
    const abs = Math.abs(offsetMinutes)
    return `${local.getUTCFullYear()}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())}T${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
  }

  /**
   * The bill's lastmodifieddate (a Date) as `lastModified`: the offset is the one the script's own Date reports for
   * that instant (Date.getTimezoneOffset()), so the text reads as NetSuite's clock did then; '' when there is none.
   * @param {unknown} value
   */
  function lastModified(value) {
    const d = value instanceof Date ? value : new Date(String(value || ''))
    if (!value || Number.isNaN(d.getTime())) return ''
    return isoWithOffset(d, -d.getTimezoneOffset())
  }

  /** @param {import('N/record').Record} bill @param {string} sublistId */
  function lineCount(bill, sublistId) {
    return Math.max(0, bill.getLineCount({ sublistId }))
  }

  /**
   * A line's tax code, rate and amount (none when the line has no tax code) and its own department, class and location.
   * @param {Taxes} taxes @param {string} sublistId @param {number} line
   * @returns {{ extras: Record<string, string> } | Refusal}
   */
  function lineExtras(taxes, sublistId, line) {
    const lineTax = taxes.line(sublistId, line)
    if (lineTax && 'code' in lineTax) return refuse(lineTax.code, lineTax.message)
    return { extras: { ...(lineTax || {}), ...taxes.segments(sublistId, line) } }
  }

  /** @param {import('N/record').Record} bill @param {Taxes} taxes @returns {{ lines: Array<Record<string, string> & { account: string, amount: string }> } | Refusal} */
  function expenseLines(bill, taxes) {
    const lines = []
    for (let line = 0; line < lineCount(bill, 'expense'); line++) {
      const memo = text(bill.getSublistValue({ sublistId: 'expense', fieldId: 'memo', line }))
      const extra = lineExtras(taxes, 'expense', line)
      if ('code' in extra) return extra
      lines.push({
        account: text(bill.getSublistText({ sublistId: 'expense', fieldId: 'account', line })),
        amount: (cents(bill.getSublistValue({ sublistId: 'expense', fieldId: 'amount', line })) / 100).toFixed(2),
        ...extra.extras,
        ...(memo ? { description: memo } : {}),
      })
    }
    return { lines }
  }

  /**
   * Item lines carry the account the line posts to (by the item's type; subtotal and description lines post
   * nothing and are left out), and quantity and rate when billbridge would accept them: quantity positive, rate
   * not negative, amount = quantity × rate within a cent.
   * @param {import('N/record').Record} bill @param {Lookups} lookups @param {Taxes} taxes
   * @returns {{ lines: Array<{ account: string, amount: string, quantity?: string, rate?: string, description?: string }> } | Refusal}
   */
  function itemLines(bill, lookups, taxes) {
    const lines = []
    for (let line = 0; line < lineCount(bill, 'item'); line++) {
      const itemId = text(bill.getSublistValue({ sublistId: 'item', fieldId: 'item', line }))
      if (!itemId) return refuse('LINE_ACCOUNT_MISSING', `item line ${line + 1} has no item`)
      const posting = lookups.itemPosting(itemId)
      if ('skip' in posting) continue
      if ('code' in posting) return refuse(posting.code, `item line ${line + 1}: ${posting.message}`)
      const amount = cents(bill.getSublistValue({ sublistId: 'item', fieldId: 'amount', line }))
      const quantity = Number(bill.getSublistValue({ sublistId: 'item', fieldId: 'quantity', line }))
      const rate = Number(bill.getSublistValue({ sublistId: 'item', fieldId: 'rate', line }))
      const description = text(bill.getSublistValue({ sublistId: 'item', fieldId: 'description', line })) || text(bill.getSublistText({ sublistId: 'item', fieldId: 'item', line }))
      const consistent = quantity > 0 && rate >= 0 && Math.abs(quantity * rate * 100 - amount) <= 1
      const extra = lineExtras(taxes, 'item', line)
      if ('code' in extra) return extra
      lines.push({
        account: posting.account,
        amount: (amount / 100).toFixed(2),
        ...(consistent ? { quantity: decimalText(quantity, 6), rate: decimalText(rate, 8) } : {}),
        ...extra.extras,
        ...(description ? { description } : {}),
      })
    }
    return { lines }
  }

  /**
   * @param {import('N/record').Record} bill a loaded vendor bill
   * @param {Lookups} lookups
   * @param {VendorFields} [vendorFields] the vendor's tax id (legacy tax) and country, read by the bill search
   * @returns {{ ok: true, bill: Record<string, unknown>, modified: string } | Refusal}
   */
  function readBill(bill, lookups, vendorFields = {}) {
    const billNumber = text(bill.getValue({ fieldId: 'tranid' }))
    if (!billNumber) return refuse('BILL_NUMBER_MISSING', 'the bill has no bill number (Reference No.); enter it and save the bill to send it')
    const currencyName = text(bill.getText({ fieldId: 'currency' }))
    const currency = text(lookups.currencyCode(text(bill.getValue({ fieldId: 'currency' }))))
    if (!/^[A-Z]{3}$/.test(currency)) return refuse('CURRENCY_INVALID', `currency "${currencyName}" has the symbol "${currency}", not an ISO 4217 code; set its ISO code in Lists > Accounting > Currencies`)
    const count = lineCount(bill, 'expense') + lineCount(bill, 'item')
    if (count === 0) return refuse('LINES_MISSING', 'the bill has no expense or item lines')
    if (count > MAX_LINES) return refuse('LINES_INVALID', `the bill has ${count} lines; billbridge takes at most ${MAX_LINES}`)
    const distinctItems = new Set()
    for (let line = 0; line < lineCount(bill, 'item'); line++) distinctItems.add(text(bill.getSublistValue({ sublistId: 'item', fieldId: 'item', line })))
    if (distinctItems.size > MAX_DISTINCT_ITEMS) return refuse('LINES_INVALID', `the bill has ${distinctItems.size} different items; the sender looks up at most ${MAX_DISTINCT_ITEMS} per bill`)
    const taxes = tax.forBill(bill)
    const expenses = expenseLines(bill, taxes)
    if ('code' in expenses) return expenses
    const items = itemLines(bill, lookups, taxes)
    if ('code' in items) return items
    /** @type {Array<{ account: string, amount: string, taxAmount?: string }>} */
    const lines = [...expenses.lines, ...items.lines]
    const unmapped = lines.findIndex((l) => !l.account)
    if (unmapped >= 0) return refuse('LINE_ACCOUNT_MISSING', `expense line ${unmapped + 1} has no account`)
    if (lines.length === 0) return refuse('LINES_MISSING', 'the bill has only subtotal or description lines')
    // billbridge books total = lines + their tax to the cent; a bill whose total has anything else (tax not on a line,
    // an amount the kit does not send) would arrive wrong, so it is refused here with both figures, as billbridge would.
    const total = cents(bill.getValue({ fieldId: 'usertotal' }))
    const net = lines.reduce((s, l) => s + cents(l.amount), 0)
    const taxed = lines.reduce((s, l) => s + cents(l.taxAmount || 0), 0)
    if (total !== net + taxed) return refuse('TOTAL_MISMATCH', `the bill total ${(total / 100).toFixed(2)} is not its lines ${(net / 100).toFixed(2)} plus their tax ${(taxed / 100).toFixed(2)} (= ${((net + taxed) / 100).toFixed(2)}); only line amounts and line tax reach Zoho: put the difference on a line or correct the tax`)
    const exchangeRate = Number(bill.getValue({ fieldId: 'exchangerate' }))
    const subsidiary = text(bill.getText({ fieldId: 'subsidiary' })).slice(0, 200)
    const dueDate = isoDate(bill.getValue({ fieldId: 'duedate' }))
    const memo = text(bill.getValue({ fieldId: 'memo' })).slice(0, 2000)
    const vendorId = text(bill.getValue({ fieldId: 'entity' }))
    // The vendor's tax id: legacy tax keeps it on the vendor (Tax Reg. Number, read by the bill search); SuiteTax keeps
    // registrations on the vendor's Tax Registrations subtab and puts the one that applies on the bill (entitytaxregnum).
    const taxId = (taxes.suiteTax ? text(bill.getText({ fieldId: 'entitytaxregnum' })) : '') || text(vendorFields.taxId)
    const country = text(vendorFields.country).toUpperCase()
    const modifiedAt = lastModified(bill.getValue({ fieldId: 'lastmodifieddate' }))
    return {
      ok: true,
      modified: timestamp(bill.getValue({ fieldId: 'lastmodifieddate' })),
      bill: {
        externalId: String(bill.id),
        ...(modifiedAt ? { lastModified: modifiedAt } : {}),
        billNumber,
        vendor: {
          ...(vendorId ? { externalId: vendorId } : {}),
          name: text(bill.getText({ fieldId: 'entity' })).slice(0, 200),
          ...(taxId ? { taxId } : {}),
          ...(/^[A-Z]{2}$/.test(country) ? { country } : {}),
        },
        date: isoDate(bill.getValue({ fieldId: 'trandate' })),
        ...(dueDate ? { dueDate } : {}),
        currency,
        ...(Number.isFinite(exchangeRate) && exchangeRate > 0 ? { exchangeRate: decimalText(exchangeRate, 10) } : {}),
        ...(subsidiary ? { subsidiary } : {}),
        ...(memo ? { memo } : {}),
        ...tax.bodySegments(bill),
        total: (total / 100).toFixed(2),
        lines,
      },
    }
  }

  return { readBill, isoDate, decimalText, isoWithOffset, lastModified, MAX_LINES }
})
