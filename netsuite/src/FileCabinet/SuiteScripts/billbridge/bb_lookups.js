/**
 * Look-ups a bill needs beyond its own record: the currency's ISO code and how an item line posts.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/search'], /** @param {typeof import('N/record')} record @param {typeof import('N/search')} search */ (record, search) => {
  /**
   * The account a vendor bill's item line debits, by the item's type (netsuite/README.md, "Item lines"): an
   * inventory or assembly item its asset account, a non-inventory, service or other charge item its expense
   * account, a discount or markup item its own account. Subtotal and description lines post nothing (a
   * subtotal's amount is the lines above it). Any other type is refused rather than guessed.
   * @type {Record<string, { column: string, label: string } | 'skip'>}
   */
  const POSTING = {
    InvtPart: { column: 'assetaccount', label: 'asset account' },
    Assembly: { column: 'assetaccount', label: 'asset account' },
    NonInvtPart: { column: 'expenseaccount', label: 'expense account' },
    Service: { column: 'expenseaccount', label: 'expense account' },
    OthCharge: { column: 'expenseaccount', label: 'expense account' },
    Discount: { column: 'account', label: 'account' },
    Markup: { column: 'account', label: 'account' },
    Subtotal: 'skip',
    Description: 'skip',
  }

  /** The currency record's name is free text ("US Dollar"); its symbol field is the ISO code. @param {string} id */
  function currencyCode(id) {
    if (!id) return ''
    return String(record.load({ type: record.Type.CURRENCY, id }).getValue({ fieldId: 'symbol' }) || '')
  }

  /** @param {unknown} value a select column of lookupFields: [{ value, text }] @param {'value' | 'text'} part */
  function selectPart(value, part) {
    return Array.isArray(value) && value.length > 0 ? String(value[0][part] || '') : ''
  }

  /** One column of an item; a column the item type lacks counts as empty. @param {string} id @param {string} column @param {'value' | 'text'} part */
  function itemColumn(id, column, part) {
    try {
      return selectPart(search.lookupFields({ type: search.Type.ITEM, id, columns: [column] })[column], part)
    } catch (e) {
      return ''
    }
  }

  /**
   * @typedef {{ skip: true } | { account: string } | { code: string, message: string }} Posting
   */

  /** @param {string} id @returns {Posting} */
  function itemPosting(id) {
    const type = itemColumn(id, 'type', 'value')
    const posting = POSTING[type]
    if (posting === 'skip') return { skip: true }
    if (!posting) return { code: 'LINES_INVALID', message: `item ${id} is of type "${type || 'unknown'}", which the sender does not send (only inventory, assembly, non-inventory, service, other charge, discount, markup, subtotal and description items); replace the line` }
    const account = itemColumn(id, posting.column, 'text')
    return account ? { account } : { code: 'LINE_ACCOUNT_MISSING', message: `item ${id} (${type}) has no ${posting.label}; set it on the item record and save the bill` }
  }

  /** Look-ups for one bill, each item asked once. */
  function forBill() {
    /** @type {Record<string, Posting>} */
    const postings = {}
    return {
      currencyCode,
      /** @param {string} id */
      itemPosting(id) {
        if (!(id in postings)) postings[id] = itemPosting(id)
        return postings[id]
      },
    }
  }

  return { forBill, POSTING }
})
