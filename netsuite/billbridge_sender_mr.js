/**
 * billbridge sender: finds vendor bills with a PDF attached that were not sent yet, posts them to
 * billbridge in batches and records the returned transaction ids on each bill.
 * @NApiVersion 2.1
 * @NScriptType MapReduceScript
 * @NModuleScope SameAccount
 */
define(['N/search', 'N/record', 'N/file', 'N/https', 'N/runtime', 'N/log', './billbridge_lib'], (search, record, file, https, runtime, log, lib) => {
  const SENT = 'custbody_bb_sent'
  const TRANSACTION_ID = 'custbody_bb_transaction_id'
  const LAST_ERROR = 'custbody_bb_last_error'

  function parameter(name, fallback) {
    const value = runtime.getCurrentScript().getParameter({ name })
    return value === null || value === undefined || value === '' ? fallback : value
  }

  /** Unsent vendor bills that have a PDF attached, one result per bill. */
  function getInputData() {
    return search.create({
      type: search.Type.VENDOR_BILL,
      filters: [['mainline', 'is', 'T'], 'and', [SENT, 'is', 'F'], 'and', ['file.filetype', 'anyof', 'PDF']],
      columns: [search.createColumn({ name: 'internalid', summary: search.Summary.GROUP }), search.createColumn({ name: 'internalid', join: 'file', summary: search.Summary.MAX })],
    })
  }

  /** One bill: its fields, lines and PDF, as billbridge wants it; grouped under one key per run. */
  function map(context) {
    const result = JSON.parse(context.value)
    const billId = result.values['GROUP(internalid)'].value
    const fileId = result.values['MAX(internalid.file)']
    const bill = record.load({ type: record.Type.VENDOR_BILL, id: billId })
    const lines = []
    for (let i = 0; i < bill.getLineCount({ sublistId: 'expense' }); i++) {
      lines.push({
        account: bill.getSublistText({ sublistId: 'expense', fieldId: 'account', line: i }),
        amount: bill.getSublistValue({ sublistId: 'expense', fieldId: 'amount', line: i }),
        memo: bill.getSublistValue({ sublistId: 'expense', fieldId: 'memo', line: i }),
      })
    }
    const pdf = file.load({ id: fileId })
    const value = lib.buildBill({
      id: billId,
      tranid: bill.getValue({ fieldId: 'tranid' }),
      vendorId: bill.getValue({ fieldId: 'entity' }),
      vendorName: bill.getText({ fieldId: 'entity' }),
      trandate: isoDate(bill.getValue({ fieldId: 'trandate' })),
      duedate: isoDate(bill.getValue({ fieldId: 'duedate' })),
      currency: bill.getText({ fieldId: 'currency' }),
      memo: bill.getValue({ fieldId: 'memo' }),
      otherrefnum: bill.getValue({ fieldId: 'otherrefnum' }),
      lines,
    }, { name: pdf.name, base64: pdf.getContents() })
    context.write({ key: 'bills', value: JSON.stringify(value) })
  }

  /** All bills of the run: batches under the size limit, posted with retries, outcomes written back. */
  function reduce(context) {
    const bills = context.values.map((v) => JSON.parse(v))
    const authorization = https.createSecureString({ input: 'Bearer ' })
    authorization.appendSecureString({ secureString: https.createSecureString({ input: `{${parameter('custscript_bb_api_key_secret', 'custsecret_billbridge_api_key')}}` }), keepEncoding: true })
    const deps = {
      url: `${parameter('custscript_bb_url', '')}/v1/vendor-bills/batches`,
      authorization,
      post: (options) => https.post(options),
      // SuiteScript has no timers: a bounded busy wait, only for a short Retry-After.
      wait: (ms) => {
        const until = Date.now() + ms
        while (Date.now() < until) { /* waiting for Retry-After */ }
      },
    }
    for (const batch of lib.splitIntoBatches(bills, { maxBytes: Number(parameter('custscript_bb_max_batch_bytes', lib.DEFAULT_MAX_BATCH_BYTES)) })) {
      const sent = lib.postBatch(deps, batch)
      if (!sent.ok) {
        log.error({ title: 'billbridge batch not accepted', details: `HTTP ${sent.status}: ${JSON.stringify(sent.answer)}; the ${batch.length} bills stay unsent for the next run` })
        continue
      }
      for (const outcome of lib.outcomes(sent.answer)) {
        const accepted = outcome.status !== 'rejected'
        record.submitFields({
          type: record.Type.VENDOR_BILL,
          id: outcome.billId,
          values: { [SENT]: accepted, [TRANSACTION_ID]: outcome.transactionId, [LAST_ERROR]: outcome.error },
        })
      }
    }
  }

  function summarize(summary) {
    summary.mapSummary.errors.iterator().each((key, error) => {
      log.error({ title: `billbridge: bill ${key} could not be read`, details: error })
      return true
    })
    summary.reduceSummary.errors.iterator().each((key, error) => {
      log.error({ title: 'billbridge: sending failed', details: error })
      return true
    })
  }

  function isoDate(value) {
    if (!value) return ''
    const d = value instanceof Date ? value : new Date(value)
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
  }

  return { getInputData, map, reduce, summarize }
})
