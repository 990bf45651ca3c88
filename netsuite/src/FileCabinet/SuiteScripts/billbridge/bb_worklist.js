/**
 * What one run works on: bills to send (capped, oldest first) and sent bills whose state to read back.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/search', 'N/format', './bb_fields'], /** @param {typeof import('N/search')} search @param {typeof import('N/format')} format @param {any} fields */ (search, format, fields) => {
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
   * newest PDF. Bills in `skip` (their state could not be written) are passed over.
   * @param {{ goLive: Date, billsPerRun: number }} settings @param {Record<string, unknown>} [skip]
   */
  function billsToSend(settings, skip = {}) {
    const billId = search.createColumn({ name: 'internalid', summary: search.Summary.GROUP, sort: search.Sort.ASC })
    const fileId = search.createColumn({ name: 'internalid', join: 'file', summary: search.Summary.MAX })
    const s = search.create({
      type: search.Type.VENDOR_BILL,
      filters: [['mainline', 'is', 'T'], 'and', ['trandate', 'onorafter', dateFilter(settings.goLive)], 'and', [STATUS, 'isempty', ''], 'and', ['file.filetype', 'anyof', 'PDF']],
      columns: [billId, fileId],
    })
    return firstResults(s, settings.billsPerRun, (r) => !(String(r.getValue(billId)) in skip)).map((r) => ({ billId: String(r.getValue(billId)), fileId: String(r.getValue(fileId)) }))
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
