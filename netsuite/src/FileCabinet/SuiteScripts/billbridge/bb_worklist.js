/**
 * What one run works on: bills to send (capped, oldest first) and sent bills whose state to read back.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/search', 'N/format', './bb_fields', './bb_tax'], /** @param {typeof import('N/search')} search @param {typeof import('N/format')} format @param {any} fields @param {any} tax */ (search, format, fields, tax) => {
  const PAGE = 1000 // ResultSet.getRange returns at most 1,000 results per call
  const STATUS = fields.FIELD.status

  /**
   * Runs a search and takes its first `limit` results that `keep` accepts, 1,000 per call: skipped results do not
   * count, so a backlog whose oldest bills are all skipped still yields `limit` others.
   * @param {import('N/search').Search} s @param {number} limit @param {(r: import('N/search').Result) => boolean} [keep]
   */
  function firstResults(s, limit, keep) {
    const results = []
    const set = s.run()
    for (let start = 0; results.length < limit; start += PAGE) {
      const page = set.getRange({ start, end: start + PAGE })
      for (const r of page) if (results.length < limit && (!keep || keep(r))) results.push(r)
      if (page.length < PAGE) break
    }
    return results
  }

  /** The go-live date as a search filter value, in the account's date format. @param {Date} goLive */
  function dateFilter(goLive) {
    return /** @type {string} */ (format.format({ value: goLive, type: format.Type.DATE }))
  }

  /**
   * Bills dated on or after go-live, never sent (status empty) and with a PDF attached; one per bill, its
   * newest PDF. Bills in `skip` (their state could not be written) are passed over. The vendor's billing country
   * and (legacy tax) Tax Reg. Number come from the search's vendor join, so the map stage loads no vendor record.
   * @param {{ goLive: Date, billsPerRun: number }} settings @param {Record<string, unknown>} [skip]
   */
  function billsToSend(settings, skip = {}) {
    const billId = search.createColumn({ name: 'internalid', summary: search.Summary.GROUP, sort: search.Sort.ASC })
    const fileId = search.createColumn({ name: 'internalid', join: 'file', summary: search.Summary.MAX })
    const country = search.createColumn({ name: 'billcountrycode', join: 'vendor', summary: search.Summary.GROUP })
    // With SuiteTax the vendor's tax registrations are a subtab, not this field; the bill names the one that applies.
    const taxId = tax.suiteTaxInEffect() ? null : search.createColumn({ name: 'vatregnumber', join: 'vendor', summary: search.Summary.GROUP })
    const s = search.create({
      type: search.Type.VENDOR_BILL,
      filters: [['mainline', 'is', 'T'], 'and', ['trandate', 'onorafter', dateFilter(settings.goLive)], 'and', [STATUS, 'isempty', ''], 'and', ['file.filetype', 'anyof', 'PDF']],
      columns: taxId ? [billId, fileId, country, taxId] : [billId, fileId, country],
    })
    return firstResults(s, settings.billsPerRun, (r) => !(String(r.getValue(billId)) in skip)).map((r) => {
      const vendor = { country: vendorValue(r.getValue(country)), taxId: taxId ? vendorValue(r.getValue(taxId)) : '' }
      return { billId: String(r.getValue(billId)), fileId: String(r.getValue(fileId)), vendor }
    })
  }

  /** A grouped column's value; a summary search shows an empty group as "- None -". @param {unknown} value */
  function vendorValue(value) {
    const v = value === null || value === undefined ? '' : String(value).trim()
    return v === '- None -' ? '' : v
  }

  /**
   * Sent bills not yet final in billbridge (queued or failed: an operator may retry a failed one), least
   * recently checked first so that every bill gets its turn.
   * @param {{ checksPerRun: number }} settings
   */
  function billsToCheck(settings) {
    if (settings.checksPerRun === 0) return []
    const checked = search.createColumn({ name: fields.FIELD.checkedAt, sort: search.Sort.ASC })
    const s = search.create({
      type: search.Type.VENDOR_BILL,
      filters: [['mainline', 'is', 'T'], 'and', [[STATUS, 'is', fields.STATUS.queued], 'or', [STATUS, 'is', fields.STATUS.failed]]],
      columns: [checked, search.createColumn({ name: 'internalid' })],
    })
    return firstResults(s, settings.checksPerRun).map((r) => String(r.id))
  }

  return { billsToSend, billsToCheck, dateFilter }
})
