/**
 * Which bills NetSuite lets the kit send: with vendor bill approval routing on, only approved ones; a bill cancelled
 * or voided in NetSuite is never sent as a bill (netsuite/README.md, "Approval routing" and "Cancellations").
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/runtime', './bb_fields'], /** @param {typeof import('N/runtime')} runtime @param {any} fields */ (runtime, fields) => {
  // Setup > Accounting > Accounting Preferences > Approval Routing > Vendor Bills (Oracle's "Accounting Preferences" page).
  const ROUTING_PREFERENCE = 'CUSTOMAPPROVALVENDORBILL'
  // The vendor bill's approvalstatus: 1 Pending Approval, 2 Approved, 3 Rejected.
  const APPROVAL = { pending: '1', approved: '2', rejected: '3' }

  /**
   * Whether approval routing for vendor bills is on. A preference the script cannot read counts as on: the kit then
   * holds only bills whose own approval status says pending or rejected, which is right either way.
   */
  function routingOn() {
    try {
      // Typed as text; a checkbox preference may read 'T' or true, so both are taken.
      const value = /** @type {unknown} */ (runtime.getCurrentUser().getPreference({ name: ROUTING_PREFERENCE }))
      if (value === null || value === undefined || value === '') return true
      return value === true || value === 'T' || String(value).toLowerCase() === 'true'
    } catch (e) {
      return true
    }
  }

  /** A checkbox as a search or record returns it (true or 'T'). @param {unknown} value */
  function checked(value) {
    return value === true || value === 'T'
  }

  /**
   * The status a bill is held in, or '' when it may be sent. The bill's transaction status (statusref) pendingApproval
   * or rejected holds it whatever the preference; with routing on, its approval status must be Approved (2) or unset
   * (a bill entered before routing was turned on).
   * @param {{ approvalStatus: string, transactionStatus: string }} bill @param {boolean} routing
   */
  function hold(bill, routing) {
    const approval = String(bill.approvalStatus || '')
    const status = String(bill.transactionStatus || '')
    if (status === 'rejected' || (routing && approval === APPROVAL.rejected)) return fields.STATUS.rejectedInNetsuite
    if (status === 'pendingApproval' || (routing && approval === APPROVAL.pending)) return fields.STATUS.awaitingApproval
    return ''
  }

  /** Cancelled (statusref cancelled, search value VendBill:C) or voided (the Voided checkbox). @param {{ transactionStatus: string, voided: unknown }} bill */
  function cancelled(bill) {
    return String(bill.transactionStatus || '') === 'cancelled' || checked(bill.voided)
  }

  return { routingOn, hold, cancelled, checked, APPROVAL, ROUTING_PREFERENCE }
})
