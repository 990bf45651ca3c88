import { SuiteScriptError } from './errors.ts'
import type { ScriptEnv } from './env.ts'
import { COST, TRANSACTION_TYPES } from './limits.ts'
import { BILL_STATUS_TEXT, type LineExtras, type SegmentType, type VendorBill } from './account.ts'

function cost(table: { transaction: number; other: number; custom: number }, type: string): number {
  return TRANSACTION_TYPES.has(type) ? table.transaction : type.startsWith('customrecord') ? table.custom : table.other
}

const SEGMENTS = ['department', 'class', 'location'] as const

/**
 * A loaded vendor bill in standard mode: date fields are Date objects, select fields have value and text. The tax
 * fields depend on the account's tax engine: legacy tax puts `taxcode`, `taxrate1` and `tax1amt` on each expense and
 * item line; SuiteTax replaces them with a `taxdetails` sublist linked to lines by `taxdetailsreference`, and puts
 * the vendor's tax registration on the bill (`entitytaxregnum`). Department, class and location are select fields
 * on the body and on each line whose text is the hierarchical name ("Sales : EMEA").
 */
function billRecord(env: ScriptEnv, bill: VendorBill) {
  const account = env.account
  const currency = account.currencies.get(bill.currency)
  const values: Record<string, unknown> = {
    tranid: bill.tranid, entity: bill.vendor.id, trandate: bill.trandate, duedate: bill.duedate ?? null, currency: bill.currency,
    exchangerate: bill.exchangerate, subsidiary: bill.subsidiary?.id ?? '', memo: bill.memo ?? '', usertotal: bill.usertotal,
    lastmodifieddate: bill.lastmodified, department: bill.department ?? '', class: bill.class ?? '', location: bill.location ?? '',
    ...(account.suiteTax ? { entitytaxregnum: bill.entitytaxregnum?.id ?? '' } : {}),
    // Approval and status (netsuite/README.md, "Approval routing"): approvalstatus '1' | '2' | '3', status as its text
    // and statusRef as its id, the Voided checkbox.
    approvalstatus: bill.approvalstatus ?? '', status: BILL_STATUS_TEXT[bill.status ?? 'open'], statusRef: bill.status ?? 'open', voided: Boolean(bill.voided),
    ...bill.custom,
  }
  const texts: Record<string, string> = {
    entity: bill.vendor.name, currency: currency?.name ?? '', subsidiary: bill.subsidiary?.name ?? '',
    ...Object.fromEntries(SEGMENTS.map((s) => [s, account.segmentText(s, bill[s])])),
    ...(account.suiteTax ? { entitytaxregnum: bill.entitytaxregnum?.number ?? '' } : {}),
  }
  const extras = (l: LineExtras): Record<string, unknown> => ({
    department: l.department ?? '', class: l.class ?? '', location: l.location ?? '',
    ...(account.suiteTax
      ? { taxdetailsreference: l.taxdetailsreference ?? '' }
      : { taxcode: l.tax?.code.id ?? '', taxrate1: l.tax ? l.tax.rate : '', tax1amt: l.tax ? l.tax.amount : '' }),
  })
  const lineOwner = (sublistId: string): LineExtras[] => (sublistId === 'expense' ? bill.expense : sublistId === 'item' ? bill.item : [])
  const sublist = (sublistId: string): Array<Record<string, unknown>> => {
    if (sublistId === 'expense') return bill.expense.map((l) => ({ account: l.account.id, amount: l.amount, memo: l.memo ?? '', ...extras(l) }))
    if (sublistId === 'item') return bill.item.map((l) => ({ item: l.item, quantity: l.quantity, rate: l.rate, amount: l.amount, description: l.description ?? '', ...extras(l) }))
    if (sublistId === 'taxdetails' && account.suiteTax) {
      return (bill.taxdetails ?? []).map((d) => ({ taxdetailsreference: d.taxdetailsreference, taxtype: d.taxtype.id, taxcode: d.taxcode.id, taxbasis: d.taxbasis, taxrate: d.taxrate, taxamount: d.taxamount }))
    }
    return []
  }
  const sublistText = (sublistId: string, fieldId: string, line: number): string => {
    if (sublistId === 'expense' && fieldId === 'account') return bill.expense[line]!.account.name
    if (sublistId === 'item' && fieldId === 'item') return account.items.get(bill.item[line]!.item)?.name ?? ''
    if ((SEGMENTS as readonly string[]).includes(fieldId) && (sublistId === 'expense' || sublistId === 'item')) return account.segmentText(fieldId as SegmentType, lineOwner(sublistId)[line]![fieldId as SegmentType])
    if (fieldId === 'taxcode' && !account.suiteTax && (sublistId === 'expense' || sublistId === 'item')) return lineOwner(sublistId)[line]!.tax?.code.name ?? ''
    if (sublistId === 'taxdetails' && (fieldId === 'taxcode' || fieldId === 'taxtype')) return bill.taxdetails![line]![fieldId].name
    return String(sublist(sublistId)[line]?.[fieldId] ?? '')
  }
  const hasSublist = (sublistId: string) => sublistId === 'expense' || sublistId === 'item' || (sublistId === 'taxdetails' && account.suiteTax)
  const lineOf = (sublistId: string, line: number) => {
    const lines = sublist(sublistId)
    if (line < 0 || line >= lines.length) throw new SuiteScriptError('SSS_INVALID_SUBLIST_OPERATION', `line ${line} of ${sublistId} does not exist`)
    return lines[line]!
  }
  return {
    id: bill.id,
    type: 'vendorbill',
    getValue: ({ fieldId }: { fieldId: string }) => values[fieldId] ?? '',
    getText: ({ fieldId }: { fieldId: string }) => texts[fieldId] ?? String(values[fieldId] ?? ''),
    // "Record.getLineCount": -1 for a sublist the record does not have (taxdetails without SuiteTax).
    getLineCount: ({ sublistId }: { sublistId: string }) => (hasSublist(sublistId) ? sublist(sublistId).length : -1),
    getSublistValue: ({ sublistId, fieldId, line }: { sublistId: string; fieldId: string; line: number }) => lineOf(sublistId, line)[fieldId] ?? '',
    getSublistText: ({ sublistId, fieldId, line }: { sublistId: string; fieldId: string; line: number }) => (lineOf(sublistId, line), sublistText(sublistId, fieldId, line)),
  }
}

export function createRecordModule(env: ScriptEnv) {
  function customType(type: string): Set<string> {
    const fields = env.account.customRecordTypes.get(type)
    if (!fields) throw new SuiteScriptError('SSS_INVALID_RECORD_TYPE', `the account has no record type ${type}`)
    return fields
  }

  return {
    Type: { VENDOR_BILL: 'vendorbill', CURRENCY: 'currency' },
    /** "record.create": a new custom record of a type the SDF project created; Record.save stores it. */
    create({ type }: { type: string }) {
      env.meter.spend(cost(COST.recordCreate, type), `record.create ${type}`)
      const fields = customType(type)
      const values: Record<string, string> = {}
      return {
        type,
        setValue({ fieldId, value }: { fieldId: string; value: unknown }) {
          if (fieldId !== 'name' && !fields.has(fieldId)) throw new SuiteScriptError('INVALID_FLD', `${type} has no field ${fieldId}`)
          values[fieldId] = String(value)
          return this
        },
        getValue: ({ fieldId }: { fieldId: string }) => values[fieldId] ?? '',
        save() {
          env.meter.spend(cost(COST.recordSave, type), `Record.save ${type}`)
          const id = env.account.newId()
          const { name = '', ...rest } = values
          env.account.customRecords.set(id, { type, id, name, fields: rest })
          return id
        },
      }
    },
    /** "record.delete" */
    delete({ type, id }: { type: string; id: string | number }) {
      env.meter.spend(cost(COST.recordDelete, type), `record.delete ${type}`)
      customType(type)
      const stored = env.account.customRecords.get(String(id))
      if (!stored || stored.type !== type) throw new SuiteScriptError('RCRD_DSNT_EXIST', `That record does not exist. ${type} ${id}`)
      env.account.customRecords.delete(String(id))
      return String(id)
    },
    load({ type, id }: { type: string; id: string | number }) {
      env.meter.spend(cost(COST.recordLoad, type), `record.load ${type}`)
      if (type === 'vendorbill') return billRecord(env, env.account.bill(String(id)))
      if (type === 'currency') {
        const currency = env.account.currencies.get(String(id))
        if (!currency) throw new SuiteScriptError('RCRD_DSNT_EXIST', `That record does not exist. currency ${id}`)
        const values: Record<string, string> = { name: currency.name, symbol: currency.symbol }
        return { id: currency.id, type, getValue: ({ fieldId }: { fieldId: string }) => values[fieldId] ?? '' }
      }
      throw new SuiteScriptError('SSS_INVALID_RECORD_TYPE', `the fake loads vendor bills and currencies, not ${type}`)
    },
    /** "record.submitFields": the save runs the bill's User Event scripts (as type xedit) in this script's context. */
    submitFields({ type, id, values }: { type: string; id: string | number; values: Record<string, unknown> }) {
      env.meter.spend(cost(COST.recordSubmitFields, type), `record.submitFields ${type}`)
      if (env.account.customRecordTypes.has(type)) {
        const fields = customType(type)
        const stored = env.account.customRecords.get(String(id))
        if (!stored || stored.type !== type) throw new SuiteScriptError('RCRD_DSNT_EXIST', `That record does not exist. ${type} ${id}`)
        for (const [fieldId, value] of Object.entries(values)) {
          if (!fields.has(fieldId)) throw new SuiteScriptError('INVALID_FLD', `${type} has no field ${fieldId}`)
          stored.fields[fieldId] = String(value)
        }
        return String(id)
      }
      if (type !== 'vendorbill') throw new SuiteScriptError('SSS_INVALID_RECORD_TYPE', `the fake writes vendor bills only, not ${type}`)
      const changes: Record<string, string> = {}
      for (const [fieldId, value] of Object.entries(values)) {
        const field = env.account.fields.get(fieldId)
        if (!field) throw new SuiteScriptError('INVALID_FLD', `vendorbill has no field ${fieldId}`)
        if (typeof value !== 'string') throw new SuiteScriptError('INVALID_FLD_VALUE', `${fieldId} is ${field.fieldtype}; the kit writes text`)
        if (field.maxlength && value.length > field.maxlength) throw new SuiteScriptError('INVALID_FLD_VALUE', `${fieldId} holds at most ${field.maxlength} characters, got ${value.length}`)
        changes[fieldId] = value
      }
      env.account.save(String(id), changes, env.executionContext)
      return String(id)
    },
  }
}
