/**
 * billbridge sender: sends vendor bills with their PDF to billbridge and writes billbridge's state back on
 * each bill. Every run is bounded (bills per run, bills per reduce, bytes per request) so that no stage
 * reaches NetSuite's unit, time or size limits; what a run leaves is taken by the next.
 * @NApiVersion 2.1
 * @NScriptType MapReduceScript
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/log', './bb_fields', './bb_bill', './bb_lookups', './bb_worklist', './bb_settings', './bb_send', './bb_check', './bb_run_summary', './bb_unwritten'],
  /**
   * @param {typeof import('N/record')} record @param {typeof import('N/log')} log
   * @param {any} fields @param {any} billReader @param {any} lookups @param {any} worklist @param {any} settings
   * @param {any} send @param {any} check @param {any} runSummary @param {any} unwritten
   */
  (record, log, fields, billReader, lookups, worklist, settings, send, check, runSummary, unwritten) => {
    const CHECKS_PER_LOOKUP = 100 // POST /v1/transactions/lookup takes at most 100 ids

    /** Bill ids only: the map stage loads each bill, so nothing large is held between stages. */
    function getInputData() {
      const config = settings.read()
      /** @type {Array<{ kind: 'send' | 'check', billId: string, fileId?: string, vendor?: { taxId: string, country: string }, markers?: string[], group: string }>} */
      const work = []
      // Bills whose state could not be written are never sent again; their write is tried again with the checks.
      /** @type {Record<string, string[]>} */
      const unwrittenBills = unwritten.list()
      worklist.billsToSend(config, unwrittenBills).forEach(/** @param {{ billId: string, fileId: string, vendor: { taxId: string, country: string } }} bill @param {number} i */ (bill, i) => work.push({ kind: 'send', billId: bill.billId, fileId: bill.fileId, vendor: bill.vendor, group: `send-${Math.floor(i / config.billsPerGroup)}` }))
      /** @type {string[]} */
      const checks = worklist.billsToCheck(config).filter(/** @param {string} id */ (id) => !(id in unwrittenBills))
      const toCheck = checks.concat(Object.keys(unwrittenBills)).slice(0, Math.max(config.checksPerRun, checks.length))
      toCheck.forEach((billId, i) => work.push({ kind: 'check', billId, markers: unwrittenBills[billId] || [], group: `check-${Math.floor(i / CHECKS_PER_LOOKUP)}` }))
      log.audit({ title: 'billbridge run', details: `${work.filter((w) => w.kind === 'send').length} bills to send, ${work.filter((w) => w.kind === 'check').length} to check` })
      return work
    }

    /** One bill: read and checked here, so a bill that cannot be sent is marked without holding up others. @param {import('N/types').EntryPoints.MapReduce.mapContext} context */
    function map(context) {
      const work = JSON.parse(context.value)
      if (work.kind === 'check') {
        context.write({ key: work.group, value: JSON.stringify({ billId: work.billId, markers: work.markers || [] }) })
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
      else context.values.forEach((value) => context.write({ key: context.key, value }))
    }

    /** @param {import('N/types').EntryPoints.MapReduce.summarizeContext} summary */
    function summarize(summary) {
      runSummary.log(summary)
      runSummary.ensureSavedSearch(settings.read())
    }

    return { getInputData, map, reduce, summarize }
  })
