/**
 * The reduce step that sends one group of bills: PDFs loaded, requests under the byte limit, outcomes
 * written back; a request that fails leaves its bills (status empty) for the next run.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/file', 'N/runtime', 'N/crypto', 'N/encode', 'N/log', './bb_fields', './bb_posts', './bb_client', './bb_settings', './bb_unwritten'],
  /**
   * @param {typeof import('N/file')} file @param {typeof import('N/runtime')} runtime
   * @param {typeof import('N/crypto')} crypto @param {typeof import('N/encode')} encode @param {typeof import('N/log')} log
   * @param {any} fields @param {any} posts @param {any} client @param {any} settings @param {any} unwritten
   */
  (file, runtime, crypto, encode, log, fields, posts, client, settings, unwritten) => {
    const TIME_BUDGET_MS = 600 * 1000 // of the reduce stage's 900 s, leaving room for one last 45 s request and write-back
    const UNITS_PER_BILL = 10 // record.submitFields on a transaction
    const UNITS_PER_POST = 10 // https.post
    const UNIT_MARGIN = 200

    /**
     * @typedef {{ bill: { externalId: string }, fileId: string, modified: string }} Entry
     * @typedef {Entry & { pdf: import('N/file').File, fileName: string, fileBytes: number }} Loaded
     */

    /** @param {string} text */
    function sha256Hex(text) {
      const hash = crypto.createHash({ algorithm: crypto.HashAlg.SHA256 })
      hash.update({ input: text, inputEncoding: encode.Encoding.UTF_8 })
      return hash.digest({ outputEncoding: encode.Encoding.HEX }).toLowerCase()
    }

    /** A file name billbridge accepts: no folders, ending in .pdf. @param {string} name */
    function pdfName(name) {
      const printable = String(name || 'bill').split('').map((c) => (c < ' ' || c === '\u007f' || c === '/' || c === '\\' ? '_' : c)).join('')
      const base = printable.slice(0, 240)
      return /\.pdf$/i.test(base) ? base : `${base}.pdf`
    }

    /** @param {any} context @param {Entry[]} entries @param {string} reason */
    function leave(context, entries, reason) {
      entries.forEach((e) => context.write({ key: 'left', value: `${e.bill.externalId} ${reason}` }))
    }

    /**
     * Loads each bill's PDF file (not its contents yet) and refuses those that cannot travel.
     * @param {any} context @param {Entry[]} entries @param {{ maxPostBytes: number }} config
     */
    function withFiles(context, entries, config) {
      /** @type {Loaded[]} */
      const ready = []
      const now = new Date().toISOString()
      for (const entry of entries) {
        const pdf = file.load({ id: entry.fileId })
        const withFile = { ...entry, pdf, fileName: pdfName(pdf.name), fileBytes: pdf.size }
        let refusal = null
        if (pdf.fileType !== file.Type.PDF) refusal = ['ATTACHMENT_NOT_PDF', `the newest file attached (${pdf.name}) is not a PDF`]
        else if (!posts.fitsAlone(withFile, config.maxPostBytes)) refusal = ['ATTACHMENT_TOO_LARGE', `the PDF (${pdf.size} bytes) does not fit in one request of ${config.maxPostBytes} bytes`]
        if (refusal) {
          if (unwritten.write(context, entry.bill.externalId, fields.refused(refusal[0], refusal[1], now))) context.write({ key: 'refused', value: `${entry.bill.externalId} ${refusal[0]}` })
        } else {
          ready.push(withFile)
        }
      }
      return ready
    }

    /** @param {Loaded[]} post */
    function body(post) {
      return post.map((e) => ({ ...e.bill, attachment: { fileName: e.fileName, contentType: 'application/pdf', contentBase64: e.pdf.getContents() } }))
    }

    /** @param {any} context @param {Loaded[]} post @param {Array<{ index: number, status: string }>} items */
    function recordAnswer(context, post, items) {
      const now = new Date().toISOString()
      for (const item of items) {
        const entry = post[item.index]
        if (!entry) continue
        // A bill whose state cannot be written is reported as unwritten; the rest of the group is still marked.
        if (unwritten.write(context, entry.bill.externalId, fields.afterAnswer(item, now))) context.write({ key: item.status === 'rejected' ? 'rejected' : 'sent', value: entry.bill.externalId })
      }
    }

    /** @param {import('N/types').EntryPoints.MapReduce.reduceContext} context @param {any} config */
    function group(context, config) {
      const started = Date.now()
      const connection = settings.connection(config)
      /** @type {Loaded[][]} */
      const planned = posts.plan(withFiles(context, context.values.map((v) => JSON.parse(v)), config), config.maxPostBytes)
      for (let i = 0; i < planned.length; i++) {
        const post = planned[i]
        const unitsNeeded = UNITS_PER_POST + UNITS_PER_BILL * post.length + UNIT_MARGIN
        let stop = null
        if (Date.now() - started > TIME_BUDGET_MS) stop = 'time budget of the reduce stage used'
        else if (runtime.getCurrentScript().getRemainingUsage() < unitsNeeded) stop = 'usage units of the reduce stage used'
        if (stop) {
          planned.slice(i).forEach((p) => leave(context, p, stop))
          return
        }
        const answer = client.postBatch(connection, posts.batchId(sha256Hex, post), body(post))
        if (answer.kind === 'answered') {
          recordAnswer(context, post, answer.items)
          continue
        }
        if (answer.kind === 'split' && post.length > 1) {
          // Nothing was stored and the answer names no bill: each bill goes alone, so only the cause is refused.
          planned.splice(i + 1, 0, ...post.map((e) => [e]))
          continue
        }
        const now = new Date().toISOString()
        if (answer.kind === 'split') {
          const billId = post[0].bill.externalId
          if (unwritten.write(context, billId, fields.refused(answer.code, answer.reason, now))) context.write({ key: 'rejected', value: `${billId} ${answer.code}` })
          continue
        }
        if (answer.kind === 'stopped') {
          log.error({ title: `billbridge: sending stopped (${answer.code})`, details: `${answer.reason}. Bills not sent: ${planned.slice(i).map((p) => p.map((e) => e.bill.externalId).join(', ')).join(', ')}` })
          for (const p of planned.slice(i)) {
            for (const e of p) if (unwritten.write(context, e.bill.externalId, fields.notSent(answer.code, answer.reason, now))) context.write({ key: 'stopped', value: `${e.bill.externalId} ${answer.code}` })
          }
          return
        }
        leave(context, post, answer.reason)
        if (answer.stop) {
          planned.slice(i + 1).forEach((p) => leave(context, p, `not tried after: ${answer.reason}`))
          return
        }
      }
    }

    return { group, pdfName, sha256Hex }
  })
