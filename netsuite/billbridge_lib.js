/**
 * billbridge sender: the logic of the Map/Reduce script, free of N/ modules so it can be tested in Node.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define([], () => {
  const DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024 // under N/https and map/reduce limits (a value ≤ 10 MB)
  const DEFAULT_MAX_BATCH_BILLS = 100
  const MAX_WAIT_MS = 30000 // longer Retry-After waits leave the bills for the next run

  /** A NetSuite vendor bill (plain values) and its PDF (base64) as docs/api.md describes it. */
  function buildBill(bill, pdf) {
    return {
      externalId: String(bill.id),
      billNumber: bill.tranid,
      vendor: { externalId: String(bill.vendorId), name: bill.vendorName, ...(bill.vendorEmail ? { email: bill.vendorEmail } : {}) },
      date: bill.trandate,
      ...(bill.duedate ? { dueDate: bill.duedate } : {}),
      currency: bill.currency,
      ...(bill.memo ? { memo: bill.memo } : {}),
      ...(bill.otherrefnum ? { referenceNumber: bill.otherrefnum } : {}),
      lines: bill.lines.map((l) => ({ account: l.account, amount: Number(l.amount).toFixed(2), ...(l.memo ? { description: l.memo } : {}) })),
      attachment: { fileName: pdf.name, contentType: 'application/pdf', contentBase64: pdf.base64 },
    }
  }

  /** Groups bills into batches under a byte and a count limit; one oversized bill travels alone. */
  function splitIntoBatches(bills, options) {
    const maxBytes = (options && options.maxBytes) || DEFAULT_MAX_BATCH_BYTES
    const maxBills = (options && options.maxBills) || DEFAULT_MAX_BATCH_BILLS
    const batches = []
    let current = []
    let size = 0
    for (const bill of bills) {
      const bytes = JSON.stringify(bill).length + 1
      if (current.length > 0 && (size + bytes > maxBytes || current.length >= maxBills)) {
        batches.push(current)
        current = []
        size = 0
      }
      current.push(bill)
      size += bytes
    }
    if (current.length > 0) batches.push(current)
    return batches
  }

  /** A batch id that stays the same when NetSuite re-runs a reduce after a restart (idempotent resend). */
  function batchIdFor(bills) {
    let h = 2166136261
    const text = bills.map((b) => `${b.externalId}:${b.attachment.contentBase64.length}`).join('|')
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0
    return `ns-${bills.length}-${h.toString(16)}`
  }

  function retryAfterMs(headers) {
    const value = headers && (headers['Retry-After'] || headers['retry-after'])
    const seconds = Number(value)
    return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 5000
  }

  /**
   * Posts one batch; on 429 or 503 waits the answer's Retry-After (up to MAX_WAIT_MS) and tries again.
   * Returns { ok, status, answer } — ok false leaves the bills unsent for the next run.
   */
  function postBatch(deps, bills, options) {
    const maxAttempts = (options && options.maxAttempts) || 4
    const body = JSON.stringify({ batchId: batchIdFor(bills), bills })
    for (let attempt = 1; ; attempt++) {
      const response = deps.post({ url: deps.url, body, headers: { 'Content-Type': 'application/json', Authorization: deps.authorization } })
      const status = response.code
      if (status === 202 || status === 422) return { ok: true, status, answer: JSON.parse(response.body) }
      if ((status === 429 || status === 503) && attempt < maxAttempts) {
        const wait = retryAfterMs(response.headers)
        if (wait > MAX_WAIT_MS) return { ok: false, status, answer: null }
        deps.wait(wait)
        continue
      }
      return { ok: false, status, answer: safeJson(response.body) }
    }
  }

  function safeJson(text) {
    try {
      return JSON.parse(text)
    } catch (e) {
      return null
    }
  }

  /** What to write back on each NetSuite bill: billbridge's transaction id, or the rejection. */
  function outcomes(answer) {
    return (answer.items || []).map((item) => ({
      billId: item.externalId,
      transactionId: item.transactionId || '',
      status: item.status,
      error: item.error ? `${item.error.code}: ${item.error.message}` : '',
    }))
  }

  return { buildBill, splitIntoBatches, batchIdFor, postBatch, outcomes, retryAfterMs, DEFAULT_MAX_BATCH_BYTES, MAX_WAIT_MS }
})
