/**
 * The reduce step that reads up to 100 sent bills' state from billbridge and writes it on each bill.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/record', './bb_fields', './bb_client', './bb_settings'],
  /** @param {typeof import('N/record')} record @param {any} fields @param {any} client @param {any} settings */
  (record, fields, client, settings) => {
    /** @param {import('N/types').EntryPoints.MapReduce.reduceContext} context @param {any} config */
    function group(context, config) {
      const found = client.lookup(settings.connection(config), context.values)
      if (found.kind !== 'found') {
        context.values.forEach((id) => context.write({ key: 'unchecked', value: `${id} ${found.reason}` }))
        return
      }
      const now = new Date().toISOString()
      for (const item of found.items) {
        record.submitFields({ type: record.Type.VENDOR_BILL, id: item.externalId, values: fields.afterLookup(item, now) })
        context.write({ key: `checked:${fields.fromService(item.status)}`, value: item.externalId })
      }
      for (const id of found.missing) {
        record.submitFields({ type: record.Type.VENDOR_BILL, id, values: fields.unknownToService(now) })
        context.write({ key: 'checked:unknown', value: id })
      }
    }

    return { group }
  })
