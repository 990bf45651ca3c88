/**
 * billbridge sender: sends vendor bills with their PDF to billbridge and writes billbridge's state back on
 * each bill. Every run is bounded (bills per run, bills per reduce, bytes per request) so that no stage
 * reaches NetSuite's unit, time or size limits; what a run leaves is taken by the next.
 * @NApiVersion 2.1
 * @NScriptType MapReduceScript
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/log', './bb_fields', './bb_bill', './bb_lookups', './bb_worklist', './bb_settings', './bb_send', './bb_check', './bb_run_summary', './bb_unwritten', './bb_cancel', './bb_deleted'],
  /**
   * @param {typeof import('N/record')} record @param {typeof import('N/log')} log
   * @param {any} fields @param {any} billReader @param {any} lookups @param {any} worklist @param {any} settings
   * @param {any} send @param {any} check @param {any} runSummary @param {any} unwritten @param {any} cancel @param {any} deleted
   */
  (record, log, fields, billReader, lookups, worklist, settings, send, check, runSummary, unwritten, cancel, deleted) => {
    const CHECKS_PER_LOOKUP = 100 // POST /v1/transactions/lookup takes at most 100 ids
    const CANCELS_PER_POST = 100 // a batch takes at most 100 bills

    /** Bill ids only: the map stage loads each bill, so nothing large is held between stages. */
    function getInputData() {
      const config = settings.read()
      /** @type {Array<{ kind: 'send' | 'check' | 'hold' | 'cancel' | 'deleted', billId: string, fileId?: string, vendor?: { taxId: string, country: string }, markers?: string[], status?: string, recordId?: string, lastModified?: string, group: string }>} */
      const work = []
      // Bills whose state could not be written are never sent again; their write is tried again with the checks.
      /** @type {Record<string, string[]>} */
      const unwrittenBills = unwritten.list()
      /** @type {Array<{ kind: 'send' | 'hold' | 'cancel', billId: string, fileId: string, vendor: { taxId: string, country: string }, status?: string }>} */
      const found = worklist.billsToSend(config, unwrittenBills)
      found.filter((b) => b.kind === 'send').forEach((bill, i) => work.push({ kind: 'send', billId: bill.billId, fileId: bill.fileId, vendor: bill.vendor, group: `send-${Math.floor(i / config.billsPerGroup)}` }))
      found.filter((b) => b.kind === 'hold').forEach((bill) => work.push({ kind: 'hold', billId: bill.billId, status: bill.status, group: 'held' }))
      // Cancellations: bills the send search found cancelled or voided after billbridge got them, sent bills cancelled
      // or voided since, and bills deleted (their record); each is sent once as { externalId, lastModified, cancelled }.
      const cancelIds = found.filter((b) => b.kind === 'cancel').map((b) => b.billId)
      for (const id of worklist.billsToCancel(config.billsPerRun)) if (cancelIds.indexOf(id) < 0 && !(id in unwrittenBills)) cancelIds.push(id)
      /** @type {Array<{ billId: string, recordId?: string, lastModified?: string }>} */
      const cancels = cancelIds.map((billId) => ({ billId }))
      deleted.pending(config.billsPerRun).forEach(/** @param {{ recordId: string, billId: string, lastModified: string }} d */ (d) => cancels.push(d))
      cancels.forEach((c, i) => work.push({ kind: c.recordId ? 'deleted' : 'cancel', ...c, group: `cancel-${Math.floor(i / CANCELS_PER_POST)}` }))
      /** @type {string[]} */
      // A bill whose cancellation goes in this run is not checked in it: the check would write back the state before it.
      const checks = worklist.billsToCheck(config).filter(/** @param {string} id */ (id) => !(id in unwrittenBills) && cancelIds.indexOf(id) < 0)
      const toCheck = checks.concat(Object.keys(unwrittenBills)).slice(0, Math.max(config.checksPerRun, checks.length))
      toCheck.forEach((billId, i) => work.push({ kind: 'check', billId, markers: unwrittenBills[billId] || [], group: `check-${Math.floor(i / CHECKS_PER_LOOKUP)}` }))
      const count = (/** @type {string} */ kind) => work.filter((w) => w.kind === kind).length
      log.audit({ title: 'billbridge run', details: `${count('send')} bills to send, ${count('check')} to check, ${count('hold')} held in NetSuite, ${count('cancel') + count('deleted')} cancellations` })
      return work
    }

    /** One bill: read and checked here, so a bill that cannot be sent is marked without holding up others. @param {import('N/types').EntryPoints.MapReduce.mapContext} context */
    function map(context) {
      const work = JSON.parse(context.value)
      if (work.kind === 'check') {
        context.write({ key: work.group, value: JSON.stringify({ billId: work.billId, markers: work.markers || [] }) })
        return
      }
      if (work.kind === 'hold') {
        if (unwritten.write(context, work.billId, fields.held(work.status, new Date().toISOString()))) context.write({ key: `held:${work.status}`, value: work.billId })
        return
      }
      if (work.kind === 'deleted') {
        context.write({ key: work.group, value: JSON.stringify({ billId: work.billId, lastModified: work.lastModified, recordId: work.recordId }) })
        return
      }
      if (work.kind === 'cancel') {
        // The cancellation carries the bill's last-modified time: the void or cancel moved it (10 units).
        const cancelled = record.load({ type: record.Type.VENDOR_BILL, id: work.billId })
        context.write({ key: work.group, value: JSON.stringify({ billId: work.billId, lastModified: billReader.lastModified(cancelled.getValue({ fieldId: 'lastmodifieddate' })) }) })
        return
      }
      const bill = record.load({ type: record.Type.VENDOR_BILL, id: work.billId })
      const read = billReader.readBill(bill, lookups.forBill(), work.vendor || {})
      if (!read.ok) {
        if (unwritten.write(context, work.billId, fields.refused(read.code, read.message, new Date().toISOString()))) context.write({ key: 'refused', value: `${work.billId} ${read.code}` })
        return
      }
      context.write({ key: work.group, value: JSON.stringify({ bill: read.bill, fileId: work.fileId, modified: read.modified }) })
    }

    /** A group of up to custscript_bb_bills_per_group bills to send, or up to 100 bills to check. @param {import('N/types').EntryPoints.MapReduce.reduceContext} context */
    function reduce(context) {
      if (context.key.indexOf('send-') === 0) send.group(context, settings.read())
      else if (context.key.indexOf('check-') === 0) check.group(context, settings.read())
      else if (context.key.indexOf('cancel-') === 0) cancel.group(context, settings.read())
      else context.values.forEach((value) => context.write({ key: context.key, value }))
    }

    /** @param {import('N/types').EntryPoints.MapReduce.summarizeContext} summary */
    function summarize(summary) {
      runSummary.log(summary)
      runSummary.ensureSavedSearch(settings.read())
    }

    return { getInputData, map, reduce, summarize }
  })
