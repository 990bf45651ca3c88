/**
 * Write-back that cannot stop a group: a bill whose fields NetSuite refuses to save (closed period, another
 * script's beforeSubmit) is logged with the reason and remembered in a custom record, so that later runs do
 * not send it again; each run tries its write once more (bb_check) and forgets it when the write succeeds.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/search', 'N/log'], /** @param {typeof import('N/record')} record @param {typeof import('N/search')} search @param {typeof import('N/log')} log */ (record, search, log) => {
  const TYPE = 'customrecord_bb_unwritten'
  const REASON = 'custrecord_bb_unwritten_reason'
  const PAGE = 1000

  /** @param {unknown} e */
  function reasonOf(e) {
    const error = /** @type {{ name?: string, message?: string }} */ (e)
    return `${error.name || 'Error'}: ${error.message || String(e)}`.slice(0, 3900)
  }

  /** @param {string} billId @param {string} reason */
  function remember(billId, reason) {
    try {
      const marker = record.create({ type: TYPE })
      marker.setValue({ fieldId: 'name', value: String(billId) })
      marker.setValue({ fieldId: REASON, value: reason })
      marker.save()
    } catch (e) {
      log.error({ title: `billbridge: bill ${billId} could not be remembered as unwritten`, details: reasonOf(e) })
    }
  }

  /**
   * Writes the values on the bill; a refusal is logged, remembered and reported under 'unwritten', and the
   * caller goes on with the next bill.
   * @param {{ write: (o: { key: string, value: string }) => void }} context
   * @param {string} billId @param {Record<string, unknown>} values
   * @param {boolean} [remembered] the bill is remembered already (a retried write): no second record
   * @returns {boolean} whether the values were written
   */
  function write(context, billId, values, remembered = false) {
    try {
      record.submitFields({ type: record.Type.VENDOR_BILL, id: billId, values })
      return true
    } catch (e) {
      const reason = reasonOf(e)
      log.error({ title: `billbridge: bill ${billId}: its billbridge state could not be written`, details: reason })
      if (!remembered) remember(billId, reason)
      context.write({ key: 'unwritten', value: `${billId} ${reason}` })
      return false
    }
  }

  /** Remembered bills: bill id → ids of their marker records. @returns {Record<string, string[]>} */
  function list() {
    const name = search.createColumn({ name: 'name' })
    const set = search.create({ type: TYPE, filters: [], columns: [name, search.createColumn({ name: 'internalid', sort: search.Sort.ASC })] }).run()
    /** @type {Record<string, string[]>} */
    const markers = {}
    for (let start = 0; ; start += PAGE) {
      const page = set.getRange({ start, end: start + PAGE })
      for (const r of page) {
        const billId = String(r.getValue(name))
        ;(markers[billId] = markers[billId] || []).push(String(r.id))
      }
      if (page.length < PAGE) return markers
    }
  }

  /** The bill's state was written at last: its markers go. @param {string[]} markerIds */
  function forget(markerIds) {
    for (const id of markerIds) record.delete({ type: TYPE, id })
  }

  return { write, list, forget, remember, TYPE }
})
