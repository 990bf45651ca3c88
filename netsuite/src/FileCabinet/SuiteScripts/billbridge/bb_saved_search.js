/**
 * The saved search "Vendor bills not in Zoho", created once by the script: Oracle's SDF guide says saved
 * searches are defined in NetSuite, not hand-written as SDF XML ("Saved Searches as XML Definitions").
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/search', './bb_fields', './bb_worklist'], /** @param {typeof import('N/search')} search @param {any} fields @param {any} worklist */ (search, fields, worklist) => {
  const ID = 'customsearch_bb_not_in_zoho'
  const TITLE = 'Vendor bills not in Zoho'

  /** @param {string} value */
  function statusIs(value) {
    return [fields.FIELD.status, 'is', value]
  }

  /** Creates the search unless it exists; returns whether it created it. @param {{ goLive: Date }} settings */
  function ensure(settings) {
    try {
      search.load({ id: ID })
      return false
    } catch (e) {
      // Not there yet (or not visible to this role): create it.
    }
    const F = fields.FIELD
    search.create({
      type: search.Type.VENDOR_BILL,
      id: ID,
      title: TITLE,
      isPublic: true,
      filters: [
        ['mainline', 'is', 'T'], 'and', ['trandate', 'onorafter', worklist.dateFilter(settings.goLive)], 'and',
        [[F.status, 'isempty', ''], 'or', statusIs('queued'), 'or', statusIs('failed'), 'or', statusIs('rejected'), 'or',
          statusIs(fields.STATUS.awaitingApproval), 'or', statusIs(fields.STATUS.rejectedInNetsuite)],
      ],
      columns: ['trandate', 'tranid', 'entity', 'amount', F.status, F.errorCode, F.errorMessage, F.transactionId, F.checkedAt]
        .map((name) => search.createColumn({ name })),
    }).save()
    return true
  }

  return { ensure, ID, TITLE }
})
