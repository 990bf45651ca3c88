/**
 * Look-ups a bill needs beyond its own record: the currency's ISO code and an item's purchase account.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/search'], /** @param {typeof import('N/record')} record @param {typeof import('N/search')} search */ (record, search) => {
  /** The currency record's name is free text ("US Dollar"); its symbol field is the ISO code. @param {string} id */
  function currencyCode(id) {
    if (!id) return ''
    return String(record.load({ type: record.Type.CURRENCY, id }).getValue({ fieldId: 'symbol' }) || '')
  }

  /** @param {unknown} value a select column of lookupFields: [{ value, text }] */
  function selectText(value) {
    return Array.isArray(value) && value.length > 0 ? String(value[0].text || '') : ''
  }

  /** One account column of an item; a column the item type lacks counts as empty. @param {string} id @param {string} column */
  function itemColumn(id, column) {
    try {
      return selectText(search.lookupFields({ type: search.Type.ITEM, id, columns: [column] })[column])
    } catch (e) {
      return ''
    }
  }

  /** Look-ups for one bill, each item asked once. */
  function forBill() {
    /** @type {Record<string, string>} */
    const accounts = {}
    return {
      currencyCode,
      /** The expense account of a purchased item, else its COGS account. @param {string} id */
      itemAccount(id) {
        if (!(id in accounts)) {
          accounts[id] = itemColumn(id, 'expenseaccount') || itemColumn(id, 'cogsaccount')
        }
        return accounts[id]
      },
    }
  }

  return { forBill }
})
