/**
 * The reduce step that reads up to 100 sent bills' state from billbridge and writes it on each bill.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/log', './bb_fields', './bb_client', './bb_settings', './bb_unwritten'],
  /** @param {typeof import('N/log')} log @param {any} fields @param {any} client @param {any} settings @param {any} unwritten */
  (log, fields, client, settings, unwritten) => {
    /**
     * Each bill's write is its own: one the account refuses is logged and remembered, the others are written.
     * A bill remembered as unwritten is forgotten once its write succeeds.
     * @param {import('N/types').EntryPoints.MapReduce.reduceContext} context @param {any} config
     */
    function group(context, config) {
      /** @type {Array<{ billId: string, markers: string[] }>} */
      const bills = context.values.map((v) => JSON.parse(v))
      /** @type {Record<string, string[]>} */
      const markers = {}
      bills.forEach((b) => { markers[b.billId] = b.markers })
      const found = client.lookup(settings.connection(config), bills.map((b) => b.billId))
      if (found.kind !== 'found') {
        log.error({ title: 'billbridge: status check failed (bills stay as they are)', details: `${found.reason}; bills ${bills.map((x) => x.billId).join(', ')}` })
        bills.forEach((b) => context.write({ key: 'unchecked', value: `${b.billId} ${found.reason}` }))
        return
      }
      const now = new Date().toISOString()
      /** @param {string} id @param {Record<string, unknown>} values @param {string} key */
      const writeOne = (id, values, key) => {
        const remembered = Boolean(markers[id] && markers[id].length)
        if (!unwritten.write(context, id, values, remembered)) return
        if (remembered) unwritten.forget(markers[id])
        context.write({ key, value: id })
      }
      for (const item of found.items) writeOne(item.externalId, fields.afterLookup(item, now), `checked:${fields.fromService(item.status)}`)
      for (const id of found.missing) writeOne(id, fields.unknownToService(now), 'checked:unknown')
    }

    return { group }
  })
