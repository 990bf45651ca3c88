/**
 * The reduce step that tells billbridge about up to 100 bills cancelled, voided or deleted in NetSuite: one request
 * of `{ externalId, lastModified, cancelled: true }` items, each answer written on the bill (or on the deleted
 * bill's record). Every final answer ends the bill's cancellation, so none is sent run after run.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/log', './bb_fields', './bb_posts', './bb_client', './bb_settings', './bb_unwritten', './bb_deleted', './bb_send'],
  /**
   * @param {typeof import('N/log')} log @param {any} fields @param {any} posts @param {any} client @param {any} settings
   * @param {any} unwritten @param {any} deleted @param {any} send
   */
  (log, fields, posts, client, settings, unwritten, deleted, send) => {
    /** @typedef {{ billId: string, lastModified: string, recordId?: string }} Entry */

    /**
     * The bill's values for billbridge's answer to its cancellation: `cancelled` (or `duplicate`: billbridge had it
     * cancelled already) makes it `cancelling`, which the status check follows to `cancelled` or, when Zoho refuses the
     * void, `failed` with VOID_REFUSED; `stale` (billbridge holds a version newer than the cancellation), `rejected` and
     * any other status mean billbridge did not cancel it: the bill shows `rejected` with the reason, for a person.
     * @param {{ status: string, error?: { code: string, message: string } }} item @param {string} now
     */
    function outcome(item, now) {
      if (item.status === 'cancelled' || item.status === 'duplicate') return { values: fields.held(fields.STATUS.cancelling, now), key: 'cancelled', answer: item.status }
      const error = item.error || (item.status === 'stale'
        ? { code: 'CANCEL_STALE', message: 'billbridge holds a newer version of this bill than its cancellation; it was not cancelled there' }
        : { code: 'CANCEL_NOT_APPLIED', message: `billbridge answered "${item.status}" to the cancellation` })
      return { values: fields.refused(error.code, error.message, now), key: 'cancel-refused', answer: `${item.status} ${error.code}: ${error.message}` }
    }

    /** @param {any} context @param {Entry} entry @param {{ values: Record<string, string>, key: string, answer: string }} result */
    function record(context, entry, result) {
      if (entry.recordId) {
        deleted.done(entry.recordId, result.answer)
        context.write({ key: result.key, value: `${entry.billId} (deleted)` })
      } else if (unwritten.write(context, entry.billId, result.values)) {
        context.write({ key: result.key, value: entry.billId })
      }
    }

    /**
     * One request for `entries`; a request billbridge refuses as a whole without naming a bill (split) goes again one
     * cancellation per request, so that only the cause is refused.
     * @param {any} context @param {any} connection @param {Entry[]} entries
     */
    function post(context, connection, entries) {
      const bills = entries.map((e) => ({ externalId: e.billId, ...(e.lastModified ? { lastModified: e.lastModified } : {}), cancelled: true }))
      const batchId = posts.batchId(send.sha256Hex, entries.map((e) => ({ bill: { externalId: e.billId }, modified: `cancelled ${e.lastModified}` })))
      const answer = client.postBatch(connection, batchId, bills)
      const now = new Date().toISOString()
      if (answer.kind === 'answered') {
        for (const item of answer.items) {
          const entry = entries[item.index]
          if (entry) record(context, entry, outcome(item, now))
        }
        return
      }
      if (answer.kind === 'split') {
        if (entries.length > 1) entries.forEach((e) => post(context, connection, [e]))
        else record(context, entries[0], outcome({ status: 'rejected', error: { code: answer.code, message: answer.reason } }, now))
        return
      }
      // Transient, or an error a person must fix (logged): the cancellations go next run.
      if (answer.kind === 'stopped') log.error({ title: `billbridge: cancellations not sent (${answer.code})`, details: answer.reason })
      entries.forEach((e) => context.write({ key: 'left', value: `${e.billId} cancellation: ${answer.reason}` }))
    }

    /** @param {import('N/types').EntryPoints.MapReduce.reduceContext} context @param {any} config */
    function group(context, config) {
      post(context, settings.connection(config), context.values.map((v) => JSON.parse(v)))
    }

    return { group, outcome }
  })
