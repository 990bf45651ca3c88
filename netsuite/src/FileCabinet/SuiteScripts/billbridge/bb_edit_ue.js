/**
 * A vendor bill's life after billbridge got it. An edit by anyone but billbridge's own script re-opens a bill that
 * billbridge rejected or failed, or one it holds already (queued, delivered, resolved): the next run sends the new
 * version with its newer lastModified. Untouched rejected bills are never resent. A delete of a bill billbridge got
 * leaves a record behind (bb_deleted), from which the next run sends the bill's cancellation.
 * @NApiVersion 2.1
 * @NScriptType UserEventScript
 * @NModuleScope SameAccount
 */
define(['N/runtime', './bb_fields', './bb_deleted', './bb_bill'], /** @param {typeof import('N/runtime')} runtime @param {any} fields @param {any} deleted @param {any} billReader */ (runtime, fields, deleted, billReader) => {
  /** @param {import('N/types').EntryPoints.UserEvent.beforeSubmitContext} context */
  function beforeSubmit(context) {
    if (context.type !== context.UserEventType.EDIT && context.type !== context.UserEventType.XEDIT) return
    // The sender's own write-back runs in a Map/Reduce context and must not re-open the bill.
    if (runtime.executionContext === runtime.ContextType.MAP_REDUCE) return
    const status = context.oldRecord ? String(context.oldRecord.getValue({ fieldId: fields.FIELD.status }) || '') : ''
    if (status !== fields.STATUS.rejected && fields.SENT.indexOf(status) < 0) return
    // Set on the record being saved: no second save, no units, and it lands with the edit or not at all.
    context.newRecord.setValue({ fieldId: fields.FIELD.status, value: '' })
    if (status !== fields.STATUS.rejected && status !== fields.STATUS.failed) {
      context.newRecord.setValue({ fieldId: fields.FIELD.errorMessage, value: 'changed after it was sent to billbridge: the new version is sent by the next run' })
    }
  }

  /**
   * After a delete (so a delete NetSuite refuses leaves nothing behind): a bill billbridge got is remembered with the
   * time of the delete, from which its cancellation is sent.
   * @param {import('N/types').EntryPoints.UserEvent.afterSubmitContext} context
   */
  function afterSubmit(context) {
    if (context.type !== context.UserEventType.DELETE) return
    const old = context.oldRecord || context.newRecord
    if (!old) return
    const status = String(old.getValue({ fieldId: fields.FIELD.status }) || '')
    const transactionId = String(old.getValue({ fieldId: fields.FIELD.transactionId }) || '')
    if (!transactionId && fields.SENT.indexOf(status) < 0) return
    deleted.remember(String(old.id), billReader.lastModified(new Date()))
  }

  return { beforeSubmit, afterSubmit }
})
