/**
 * What one run works on: bills to send (capped, oldest first) and sent bills whose state to read back.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/search', 'N/format', './bb_fields', './bb_tax', './bb_approval'], /** @param {typeof import('N/search')} search @param {typeof import('N/format')} format @param {any} fields @param {any} tax @param {any} approval */ (search, format, fields, tax, approval) => {
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

  /** [status is a or status is b …] @param {string[]} values */
  function statusAnyOf(values) {
    /** @type {unknown[]} */
    const expression = []
    values.forEach((v, i) => {
      if (i > 0) expression.push('or')
      expression.push([STATUS, 'is', v])
    })
    return expression
  }

  /**
   * Bills dated on or after go-live, with a PDF attached, that the kit has not sent (status empty: never sent, or
   * re-opened by an edit) or holds for their approval; one per bill, its newest PDF. Each is classified (below):
   * `send`, `hold` (pending approval, rejected by its approver, or cancelled before it was ever sent: its status says
   * so), or `cancel` (cancelled or voided after billbridge got it). A bill already held for the same reason is passed
   * over without counting against `billsPerRun`, as are bills in `skip` (their state could not be written). The
   * vendor's billing country and (legacy tax) Tax Reg. Number come from the search's vendor join, so the map stage
   * loads no vendor record.
   * @param {{ goLive: Date, billsPerRun: number }} settings @param {Record<string, unknown>} [skip]
   * @returns {Array<{ kind: 'send' | 'hold' | 'cancel', billId: string, fileId: string, vendor: { taxId: string, country: string }, status?: string }>}
   */
  function billsToSend(settings, skip = {}) {
    const group = (/** @type {string} */ name, /** @type {string} */ join = '') => search.createColumn({ name, ...(join ? { join } : {}), summary: search.Summary.GROUP })
    const billId = search.createColumn({ name: 'internalid', summary: search.Summary.GROUP, sort: search.Sort.ASC })
    const fileId = search.createColumn({ name: 'internalid', join: 'file', summary: search.Summary.MAX })
    const country = group('billcountrycode', 'vendor')
    // With SuiteTax the vendor's tax registrations are a subtab, not this field; the bill names the one that applies.
    const taxId = tax.suiteTaxInEffect() ? null : group('vatregnumber', 'vendor')
    const approvalStatus = group('approvalstatus')
    const transactionStatus = group('status')
    const voided = group('voided')
    const ownStatus = group(STATUS)
    const transactionId = group(fields.FIELD.transactionId)
    const S = fields.STATUS
    const s = search.create({
      type: search.Type.VENDOR_BILL,
      filters: [['mainline', 'is', 'T'], 'and', ['trandate', 'onorafter', dateFilter(settings.goLive)], 'and',
        [[STATUS, 'isempty', ''], 'or', ...statusAnyOf([S.awaitingApproval, S.rejectedInNetsuite])], 'and', ['file.filetype', 'anyof', 'PDF']],
      columns: [billId, fileId, country, approvalStatus, transactionStatus, voided, ownStatus, transactionId, ...(taxId ? [taxId] : [])],
    })
    const routing = approval.routingOn()
    /** @type {Record<string, { kind: 'send' | 'hold' | 'cancel', status?: string }>} */
    const kinds = {}
    /** @param {import('N/search').Result} r */
    const classify = (r) => {
      const bill = { approvalStatus: vendorValue(r.getValue(approvalStatus)), transactionStatus: vendorValue(r.getValue(transactionStatus)), voided: r.getValue(voided) }
      const own = vendorValue(r.getValue(ownStatus))
      if (approval.cancelled(bill)) return vendorValue(r.getValue(transactionId)) ? { kind: 'cancel' } : { kind: 'hold', status: S.cancelled }
      const held = approval.hold(bill, routing)
      if (!held) return { kind: 'send' }
      return held === own ? null : { kind: 'hold', status: held }
    }
    const keep = (/** @type {import('N/search').Result} */ r) => {
      const id = String(r.getValue(billId))
      if (id in skip) return false
      const kind = classify(r)
      if (!kind) return false
      kinds[id] = /** @type {{ kind: 'send' | 'hold' | 'cancel', status?: string }} */ (kind)
      return true
    }
    return firstResults(s, settings.billsPerRun, keep).map((r) => {
      const id = String(r.getValue(billId))
      const vendor = { country: vendorValue(r.getValue(country)), taxId: taxId ? vendorValue(r.getValue(taxId)) : '' }
      return { ...kinds[id], billId: id, fileId: String(r.getValue(fileId)), vendor }
    })
  }

  /**
   * Bills billbridge holds (queued, delivered, failed, resolved) that NetSuite has since cancelled (VendBill:C) or
   * voided, and that no edit re-opened: their cancellation is sent. A bill whose void Zoho refused (VOID_REFUSED, read
   * back by the status check) is not sent again: a person settles it in Zoho and billbridge. At most `limit`, by id.
   * @param {number} limit @returns {string[]}
   */
  function billsToCancel(limit) {
    if (limit <= 0) return []
    const s = search.create({
      type: search.Type.VENDOR_BILL,
      filters: [['mainline', 'is', 'T'], 'and', statusAnyOf(fields.SENT), 'and', [['voided', 'is', 'T'], 'or', ['status', 'anyof', 'VendBill:C']], 'and',
        [[fields.FIELD.errorCode, 'isempty', ''], 'or', [fields.FIELD.errorCode, 'isnot', 'VOID_REFUSED']]],
      columns: [search.createColumn({ name: 'internalid', sort: search.Sort.ASC })],
    })
    return firstResults(s, limit).map((r) => String(r.id))
  }

  /** A grouped column's value; a summary search shows an empty group as "- None -". @param {unknown} value */
  function vendorValue(value) {
    const v = value === null || value === undefined ? '' : String(value).trim()
    return v === '- None -' ? '' : v
  }

  /**
   * Sent bills not yet final in billbridge (queued, failed: an operator may retry a failed one, or cancelling), least
   * recently checked first so that every bill gets its turn.
   * @param {{ checksPerRun: number }} settings
   */
  function billsToCheck(settings) {
    if (settings.checksPerRun === 0) return []
    const checked = search.createColumn({ name: fields.FIELD.checkedAt, sort: search.Sort.ASC })
    const s = search.create({
      type: search.Type.VENDOR_BILL,
      filters: [['mainline', 'is', 'T'], 'and', statusAnyOf([fields.STATUS.queued, fields.STATUS.failed, fields.STATUS.cancelling])],
      columns: [checked, search.createColumn({ name: 'internalid' })],
    })
    return firstResults(s, settings.checksPerRun).map((r) => String(r.id))
  }

  return { billsToSend, billsToCheck, billsToCancel, dateFilter }
})
