/**
 * Bills deleted in NetSuite after billbridge got them: a deleted bill can no longer be searched, so the User Event
 * leaves a custom record behind (the bill's internal id as its name, the time of the delete), and the sender sends
 * `{ externalId, lastModified, cancelled: true }` for it; the record keeps billbridge's answer once it is final.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/search', 'N/log'], /** @param {typeof import('N/record')} record @param {typeof import('N/search')} search @param {typeof import('N/log')} log */ (record, search, log) => {
  const TYPE = 'customrecord_bb_deleted'
  const AT = 'custrecord_bb_deleted_at'
  const ANSWER = 'custrecord_bb_deleted_answer'
  const PAGE = 1000

  /**
   * Remembers a deleted bill (2 + 4 units). A failure is logged, never thrown: the delete itself has happened.
   * @param {string} billId @param {string} lastModified ISO 8601 with offset: the time of the delete
   */
  function remember(billId, lastModified) {
    try {
      const marker = record.create({ type: TYPE })
      marker.setValue({ fieldId: 'name', value: String(billId) })
      marker.setValue({ fieldId: AT, value: lastModified })
      marker.save()
    } catch (e) {
      const error = /** @type {{ name?: string, message?: string }} */ (e)
      log.error({ title: `billbridge: deleted bill ${billId} could not be remembered; cancel it in billbridge by hand`, details: `${error.name || 'Error'}: ${error.message || String(e)}` })
    }
  }

  /**
   * Deleted bills not yet answered, oldest first, at most `limit`.
   * @param {number} limit @returns {Array<{ recordId: string, billId: string, lastModified: string }>}
   */
  function pending(limit) {
    if (limit <= 0) return []
    const name = search.createColumn({ name: 'name' })
    const at = search.createColumn({ name: AT })
    const set = search.create({ type: TYPE, filters: [[ANSWER, 'isempty', '']], columns: [name, at, search.createColumn({ name: 'internalid', sort: search.Sort.ASC })] }).run()
    const out = []
    for (let start = 0; out.length < limit; start += PAGE) {
      const page = set.getRange({ start, end: start + PAGE })
      for (const r of page) if (out.length < limit) out.push({ recordId: String(r.id), billId: String(r.getValue(name)), lastModified: String(r.getValue(at)) })
      if (page.length < PAGE) break
    }
    return out
  }

  /** billbridge's final answer, kept on the record (2 units): the record is not sent again. @param {string} recordId @param {string} answer */
  function done(recordId, answer) {
    record.submitFields({ type: TYPE, id: recordId, values: { [ANSWER]: answer.slice(0, 300) } })
  }

  return { remember, pending, done, TYPE }
})
