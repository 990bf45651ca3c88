/**
 * An edit of a vendor bill by anyone but billbridge's own script re-opens a bill that billbridge rejected or
 * failed, so the next run sends the corrected bill; untouched rejected bills are never resent.
 * @NApiVersion 2.1
 * @NScriptType UserEventScript
 * @NModuleScope SameAccount
 */
define(['N/runtime', './bb_fields'], /** @param {typeof import('N/runtime')} runtime @param {any} fields */ (runtime, fields) => {
  /** @param {import('N/types').EntryPoints.UserEvent.beforeSubmitContext} context */
  function beforeSubmit(context) {
    if (context.type !== context.UserEventType.EDIT && context.type !== context.UserEventType.XEDIT) return
    // The sender's own write-back runs in a Map/Reduce context and must not re-open the bill.
    if (runtime.executionContext === runtime.ContextType.MAP_REDUCE) return
    const status = context.oldRecord ? context.oldRecord.getValue({ fieldId: fields.FIELD.status }) : ''
    if (status !== fields.STATUS.rejected && status !== fields.STATUS.failed) return
    context.newRecord.setValue({ fieldId: fields.FIELD.status, value: '' })
  }

  return { beforeSubmit }
})
