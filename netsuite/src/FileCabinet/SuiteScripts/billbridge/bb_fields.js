/**
 * The custom body fields billbridge writes on a vendor bill, and what each billbridge status becomes there.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define([], () => {
  const FIELD = {
    status: 'custbody_bb_status',
    transactionId: 'custbody_bb_transaction_id',
    zohoBillId: 'custbody_bb_zoho_bill_id',
    errorCode: 'custbody_bb_error_code',
    errorMessage: 'custbody_bb_error_message',
    deliveredAt: 'custbody_bb_delivered_at',
    checkedAt: 'custbody_bb_checked_at',
  }

  const STATUS = {
    queued: 'queued', delivered: 'delivered', failed: 'failed', rejected: 'rejected', resolved: 'resolved', cancelled: 'cancelled',
    // The cancellation is sent and billbridge took it; the status check reads back `cancelled`, or `failed` (VOID_REFUSED).
    cancelling: 'cancelling',
    // Held in NetSuite, never sent while so (netsuite/README.md, "Approval routing"): the bill waits for its approver.
    awaitingApproval: 'awaiting_approval',
    rejectedInNetsuite: 'rejected_in_netsuite',
  }
  /** Statuses of a bill billbridge holds: an edit by a person sends the new version, a void or cancel sends `cancelled`. */
  const SENT = [STATUS.queued, STATUS.delivered, STATUS.failed, STATUS.resolved]

  // Statuses of billbridge's batch answers and transactions, as the AP team reads them on the bill.
  /** @type {Record<string, string>} */
  const FROM_SERVICE = {
    received: STATUS.queued,
    queued: STATUS.queued,
    processing: STATUS.queued,
    duplicate: STATUS.queued,
    requeued: STATUS.queued,
    updated: STATUS.queued,
    // billbridge holds a newer version than this one and ignored it; the status check reads back its state.
    stale: STATUS.queued,
    cancelled: STATUS.cancelled,
    delivered: STATUS.delivered,
    failed: STATUS.failed,
    resolved: STATUS.resolved,
    rejected: STATUS.rejected,
  }

  const MAX_MESSAGE = 3900 // the message field is a Text Area (4,000 characters)

  /** @param {string} status @returns {string} */
  function fromService(status) {
    return FROM_SERVICE[status] || STATUS.queued
  }

  /** @param {string | null | undefined} message */
  function clip(message) {
    const text = message ? String(message) : ''
    return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text
  }

  /**
   * Values after billbridge answered a batch: one item of the answer.
   * @param {{ status: string, transactionId?: string, error?: { code: string, message: string } }} item
   * @param {string} now ISO time of the write
   */
  function afterAnswer(item, now) {
    const stale = item.status === 'stale' ? 'billbridge holds a newer version of this bill (a later last-modified time); this one was ignored' : ''
    return {
      [FIELD.status]: fromService(item.status),
      ...(item.transactionId || item.status !== 'stale' ? { [FIELD.transactionId]: item.transactionId || '' } : {}),
      [FIELD.errorCode]: item.error ? item.error.code : '',
      [FIELD.errorMessage]: clip((item.error && item.error.message) || stale),
      [FIELD.checkedAt]: now,
    }
  }

  /**
   * Values for a bill the kit holds back because of its state in NetSuite (pending approval, rejected by its
   * approver, cancelled or voided before it was ever sent): the status says why, so a person sees it.
   * @param {string} status one of STATUS.awaitingApproval, STATUS.rejectedInNetsuite, STATUS.cancelled @param {string} now
   */
  function held(status, now) {
    /** @type {Record<string, string>} */
    const why = {
      [STATUS.awaitingApproval]: 'pending approval in NetSuite: sent once it is approved',
      [STATUS.rejectedInNetsuite]: 'rejected by its approver in NetSuite: not sent unless it is approved',
      [STATUS.cancelled]: 'cancelled or voided in NetSuite before it was sent: never sent',
      [STATUS.cancelling]: 'cancelled, voided or deleted in NetSuite: billbridge voids it in Zoho (or never sends it)',
    }
    return { [FIELD.status]: status, [FIELD.errorCode]: '', [FIELD.errorMessage]: why[status] || '', [FIELD.checkedAt]: now }
  }

  /**
   * Values from the bulk lookup: the bill's state in billbridge now.
   * @param {{ status: string, transactionId: string, zohoBillId: string | null, lastErrorCode: string | null, lastErrorMessage: string | null, deliveredAt: string | null }} item
   * @param {string} now
   */
  function afterLookup(item, now) {
    return {
      [FIELD.status]: fromService(item.status),
      [FIELD.transactionId]: item.transactionId || '',
      [FIELD.zohoBillId]: item.zohoBillId || '',
      [FIELD.errorCode]: item.lastErrorCode || '',
      [FIELD.errorMessage]: clip(item.lastErrorMessage),
      [FIELD.deliveredAt]: item.deliveredAt || '',
      [FIELD.checkedAt]: now,
    }
  }

  /**
   * Values for a bill the kit refuses to send; it waits for an edit in NetSuite.
   * @param {string} code @param {string} message @param {string} now
   */
  function refused(code, message, now) {
    return { [FIELD.status]: STATUS.rejected, [FIELD.errorCode]: code, [FIELD.errorMessage]: clip(message), [FIELD.checkedAt]: now }
  }

  /**
   * Values for a bill billbridge did not take because of an error a person must fix (the API secret, billbridge's
   * version): status stays empty so that the bill goes once it is fixed, and the error shows on the bill.
   * @param {string} code @param {string} message @param {string} now
   */
  function notSent(code, message, now) {
    return { [FIELD.status]: '', [FIELD.errorCode]: code, [FIELD.errorMessage]: clip(message), [FIELD.checkedAt]: now }
  }

  /** Values for a bill billbridge does not know (e.g. its database was restored): sent again next run. @param {string} now */
  function unknownToService(now) {
    return { [FIELD.status]: '', [FIELD.transactionId]: '', [FIELD.errorCode]: 'NOT_IN_BILLBRIDGE', [FIELD.errorMessage]: 'billbridge has no record of this bill; it is sent again', [FIELD.checkedAt]: now }
  }

  return { FIELD, STATUS, SENT, fromService, afterAnswer, held, afterLookup, refused, notSent, unknownToService }
})
