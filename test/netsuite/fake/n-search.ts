import { SuiteScriptError } from './errors.ts'
import type { ScriptEnv } from './env.ts'
import { COST, MAX_RANGE } from './limits.ts'
import { BILL_STATUS_FILTER, ITEM_TYPE_TEXT, type VendorBill } from './account.ts'

interface Column { name: string; join?: string; summary?: string; sort?: string; label?: string }
/** One result row: the bill's main line (line null) or one of its expense or item lines, joined to one file when asked. */
type Row = { bill: VendorBill; fileId: string | null; line: { amount: number } | null }
type Expression = unknown[]

/** A column's value on one row (a vendor bill on its main line, joined to one attached file when asked). */
function fieldValue(env: ScriptEnv, row: Row, name: string, join?: string): unknown {
  if (join === 'file') {
    if (!row.fileId) return null
    const file = env.account.files.get(row.fileId)!
    return name === 'internalid' ? file.id : name === 'filetype' ? file.fileType : name === 'name' ? file.name : null
  }
  // The transaction search's vendor join: the legacy Tax Reg. Number and the billing address's country code.
  if (join === 'vendor') {
    const vendor = env.account.vendors.get(row.bill.vendor.id)
    if (name === 'vatregnumber') return vendor?.vatregnumber ?? ''
    if (name === 'billcountrycode') return vendor?.billcountrycode ?? ''
    if (name === 'internalid') return row.bill.vendor.id
    throw new SuiteScriptError('SSS_INVALID_SRCH_COL', `the fake knows no vendor field ${name}`)
  }
  if (join) throw new SuiteScriptError('SSS_INVALID_SRCH_COL', `the fake knows no join ${join}`)
  const bill = row.bill
  switch (name) {
    case 'internalid': return bill.id
    case 'mainline': return row.line ? 'F' : 'T'
    case 'trandate': return bill.trandate
    case 'tranid': return bill.tranid
    case 'entity': return bill.vendor.id
    case 'amount': return row.line ? row.line.amount : bill.usertotal
    // Approval status '1' | '2' | '3'; the transaction status as statusref ('pendingApproval'; filters use VendBill:D);
    // the Voided checkbox ('T' | 'F'). netsuite/README.md, "Approval routing" and "Cancellations".
    case 'approvalstatus': return bill.approvalstatus ?? ''
    case 'status': return bill.status ?? 'open'
    case 'voided': return bill.voided ? 'T' : 'F'
    case 'lastmodifieddate': return bill.lastmodified
    default:
      if (name.startsWith('custbody_')) {
        if (!env.account.fields.has(name)) throw new SuiteScriptError('SSS_INVALID_SRCH_FILTER', `An nlobjSearchFilter contains an invalid field: ${name}`)
        return bill.custom[name] ?? ''
      }
      throw new SuiteScriptError('SSS_INVALID_SRCH_COL', `the fake knows no vendor bill field ${name}`)
  }
}

function splitName(field: string): { name: string; join?: string } {
  const dot = field.indexOf('.')
  return dot < 0 ? { name: field } : { join: field.slice(0, dot), name: field.slice(dot + 1) }
}

/** Filter expressions as "Search Filter Expressions" describes them: [field, operator, values…] joined by 'and'/'or'. */
function matches(env: ScriptEnv, row: Row, expression: Expression): boolean {
  const isCondition = typeof expression[0] === 'string' && typeof expression[1] === 'string' && !['and', 'or'].includes(String(expression[1]).toLowerCase())
  if (isCondition) return condition(env, row, expression as [string, string, ...unknown[]])
  let result: boolean | null = null
  let joiner = 'and'
  for (const part of expression) {
    if (typeof part === 'string') {
      joiner = part.toLowerCase()
      if (joiner !== 'and' && joiner !== 'or') throw new SuiteScriptError('SSS_INVALID_SRCH_FILTER_EXPR', `unknown joiner ${part}`)
      continue
    }
    const value = matches(env, row, part as Expression)
    result = result === null ? value : joiner === 'and' ? result && value : result || value
  }
  return result ?? true
}

function condition(env: ScriptEnv, row: Row, [field, operator, ...rest]: [string, string, ...unknown[]]): boolean {
  const { name, join } = splitName(field)
  const value = fieldValue(env, row, name, join)
  const values = rest.flat().map(String)
  // A transaction status filter takes the status's search value (VendBill:C), not the statusref the column returns.
  if (name === 'status' && !join) {
    const code = BILL_STATUS_FILTER[(value ?? 'open') as keyof typeof BILL_STATUS_FILTER]
    if (operator.toLowerCase() !== 'anyof') throw new SuiteScriptError('SSS_INVALID_SRCH_OPERATOR', `the fake filters status with anyof only, not ${operator}`)
    if (values.some((v) => !/^VendBill:[A-F]$/.test(v))) throw new SuiteScriptError('SSS_INVALID_SRCH_FILTER', `a vendor bill status filter takes VendBill:A … VendBill:F, got ${values.join(', ')}`)
    return values.includes(code)
  }
  const text = value === null || value === undefined ? '' : value instanceof Date ? env.account.formatDate(value) : String(value)
  switch (operator.toLowerCase()) {
    case 'is': return text === values[0]
    case 'isnot': return text !== values[0]
    case 'isempty': return text === ''
    case 'isnotempty': return text !== ''
    case 'anyof': return values.includes(text)
    case 'onorafter':
    case 'before': {
      if (!(value instanceof Date)) throw new SuiteScriptError('SSS_INVALID_SRCH_OPERATOR', `${operator} needs a date field, ${field} is not one`)
      const bound = env.account.parseDate(values[0] ?? '')
      const day = new Date(value.getFullYear(), value.getMonth(), value.getDate())
      return operator.toLowerCase() === 'onorafter' ? day >= bound : day < bound
    }
    default: throw new SuiteScriptError('SSS_INVALID_SRCH_OPERATOR', `the fake knows no operator ${operator}`)
  }
}

function columnKey(c: Column): string {
  return `${c.summary ? `${c.summary}(` : ''}${c.join ? `${c.join}.` : ''}${c.name}${c.summary ? ')' : ''}`
}

function compare(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : a
  const y = b instanceof Date ? b.getTime() : b
  if (typeof x === 'string' && typeof y === 'string' && /^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y)
  return x === y ? 0 : String(x ?? '') < String(y ?? '') ? -1 : 1
}

class Result {
  readonly id: string
  readonly recordType: string
  private readonly values: Map<string, unknown>
  constructor(id: string, recordType: string, values: Map<string, unknown>) {
    this.id = id
    this.recordType = recordType
    this.values = values
  }
  getValue(column: Column | string): string {
    const key = typeof column === 'string' ? column : columnKey(column)
    if (!this.values.has(key)) throw new SuiteScriptError('SSS_INVALID_SRCH_COL', `column ${key} is not in the search`)
    const value = this.values.get(key)
    return value === null || value === undefined ? '' : String(value)
  }
}

/**
 * A search of a custom record type: one row per record, columns internalid, name and the type's own fields; filters
 * are conditions on the type's fields with is, isempty or isnotempty, joined by 'and'.
 */
function customRecordResults(env: ScriptEnv, type: string, filters: Expression, columns: Column[]): Result[] {
  const fields = env.account.customRecordTypes.get(type)!
  const conditions = filters.filter((f) => typeof f !== 'string') as Array<[string, string, ...unknown[]]>
  if (filters.some((f) => typeof f === 'string' && f.toLowerCase() !== 'and')) throw new SuiteScriptError('SSS_INVALID_SRCH_FILTER', 'the fake joins custom record filters with and only')
  for (const [field, operator] of conditions) {
    if (field !== 'name' && !fields.has(field)) throw new SuiteScriptError('SSS_INVALID_SRCH_FILTER', `An nlobjSearchFilter contains an invalid field: ${field}`)
    if (!['is', 'isempty', 'isnotempty'].includes(operator.toLowerCase())) throw new SuiteScriptError('SSS_INVALID_SRCH_OPERATOR', `the fake filters custom records with is, isempty, isnotempty, not ${operator}`)
  }
  const valueOf = (r: { name: string; fields: Record<string, string> }, field: string) => (field === 'name' ? r.name : r.fields[field] ?? '')
  const keep = (r: { name: string; fields: Record<string, string> }) => conditions.every(([field, operator, value]) => {
    const v = valueOf(r, field)
    const op = operator.toLowerCase()
    return op === 'isempty' ? v === '' : op === 'isnotempty' ? v !== '' : v === String(value)
  })
  const records = [...env.account.customRecords.values()].filter((r) => r.type === type && keep(r)).sort((a, b) => Number(a.id) - Number(b.id))
  return records.map((r) => new Result(r.id, type, new Map(columns.map((c) => {
    if (c.name !== 'internalid' && c.name !== 'name' && !fields.has(c.name)) throw new SuiteScriptError('SSS_INVALID_SRCH_COL', `An nlobjSearchColumn contains an invalid column: ${c.name}`)
    return [columnKey(c), c.name === 'internalid' ? r.id : c.name === 'name' ? r.name : r.fields[c.name] ?? '']
  }))))
}

/** Runs a search over the account: rows, filters, summary grouping and sort, as a transaction search does. */
function evaluate(env: ScriptEnv, type: string, filters: Expression, columns: Column[]): Result[] {
  if (env.account.customRecordTypes.has(type)) return customRecordResults(env, type, filters, columns)
  if (type !== 'vendorbill') throw new SuiteScriptError('SSS_INVALID_SRCH_TYPE', `the fake searches vendor bills only, not ${type}`)
  const joinsFiles = JSON.stringify(filters).includes('"file.') || columns.some((c) => c.join === 'file')
  const rows: Row[] = []
  // A transaction search returns the main line and one row per line unless mainline is filtered ("Using Main
  // Line in Transaction Search Criteria"; netsuite/README.md).
  for (const bill of env.account.bills.values()) {
    const fileIds = joinsFiles ? (bill.files.length ? bill.files : [null]) : [null]
    const lines: Array<{ amount: number } | null> = [null, ...bill.expense, ...bill.item]
    for (const line of lines) for (const fileId of fileIds) rows.push({ bill, fileId, line })
  }
  const kept = rows.filter((row) => matches(env, row, filters))
  const summarised = columns.some((c) => c.summary)
  let results: Array<{ id: string; values: Map<string, unknown> }>
  if (summarised) {
    const groups = new Map<string, Row[]>()
    const groupColumns = columns.filter((c) => c.summary?.toUpperCase() === 'GROUP')
    for (const row of kept) {
      const key = JSON.stringify(groupColumns.map((c) => fieldValue(env, row, c.name, c.join)))
      groups.set(key, [...(groups.get(key) ?? []), row])
    }
    results = [...groups.values()].map((group) => {
      const values = new Map<string, unknown>()
      for (const c of columns) {
        const all = group.map((row) => fieldValue(env, row, c.name, c.join))
        const summary = c.summary?.toUpperCase()
        values.set(columnKey(c), summary === 'MAX' ? all.sort(compare).at(-1) : summary === 'COUNT' ? all.length : all[0])
      }
      return { id: '', values }
    })
  } else {
    results = kept.map((row) => ({ id: row.bill.id, values: new Map(columns.map((c) => [columnKey(c), fieldValue(env, row, c.name, c.join)])) }))
  }
  const sorts = columns.filter((c) => c.sort)
  results.sort((a, b) => {
    for (const c of sorts) {
      const order = compare(a.values.get(columnKey(c)), b.values.get(columnKey(c)))
      if (order !== 0) return c.sort!.toUpperCase() === 'DESC' ? -order : order
    }
    return compare(a.id, b.id)
  })
  return results.map((r) => new Result(r.id, type, r.values))
}

export function createSearchModule(env: ScriptEnv) {
  function createColumn(options: Column | string): Column {
    return typeof options === 'string' ? { name: options } : { ...options }
  }

  function create(options: { type: string; filters?: Expression; columns?: Array<Column | string>; id?: string; title?: string; isPublic?: boolean }) {
    const columns = (options.columns ?? []).map(createColumn)
    const filters = options.filters ?? []
    return {
      searchType: options.type,
      filterExpression: filters,
      columns,
      id: options.id,
      title: options.title,
      isPublic: options.isPublic ?? false,
      run: () => ({
        getRange({ start, end }: { start: number; end: number }) {
          env.meter.spend(COST.resultSetGetRange, 'ResultSet.getRange')
          if (end - start > MAX_RANGE || end < start) throw new SuiteScriptError('SSS_INVALID_SRCH_QUERY', `getRange may return at most ${MAX_RANGE} results, asked ${start}..${end}`)
          return evaluate(env, options.type, filters, columns).slice(start, end)
        },
      }),
      save() {
        env.meter.spend(COST.searchSave, 'Search.save')
        if (!options.id || !options.title) throw new SuiteScriptError('SSS_MISSING_REQD_ARGUMENT', 'Search.save needs an id and a title')
        if (env.account.savedSearches.has(options.id)) throw new SuiteScriptError('DUP_ID', `a saved search ${options.id} exists`)
        env.account.savedSearches.set(options.id, { type: options.type, title: options.title, filters, columns, isPublic: options.isPublic ?? false })
        return options.id
      },
    }
  }

  return {
    Type: { VENDOR_BILL: 'vendorbill', ITEM: 'item', CURRENCY: 'currency' },
    Summary: { GROUP: 'GROUP', MAX: 'MAX', COUNT: 'COUNT', MIN: 'MIN', SUM: 'SUM', AVG: 'AVG' },
    Sort: { ASC: 'ASC', DESC: 'DESC', NONE: 'NONE' },
    create,
    createColumn,
    load({ id }: { id: string }) {
      env.meter.spend(COST.searchLoad, 'search.load')
      const saved = env.account.savedSearches.get(id)
      if (!saved) throw new SuiteScriptError('INVALID_SEARCH', `That search or mass update does not exist: ${id}`)
      return saved
    },
    /** "search.lookupFields": select fields come back as [{ value, text }], an unknown column throws. */
    lookupFields({ type, id, columns }: { type: string; id: string; columns: string[] }) {
      env.meter.spend(COST.searchLookupFields, 'search.lookupFields')
      if (type !== 'item') throw new SuiteScriptError('SSS_INVALID_SRCH_TYPE', `the fake looks up items only, not ${type}`)
      const item = env.account.items.get(String(id))
      if (!item) throw new SuiteScriptError('RCRD_DSNT_EXIST', `That record does not exist. item ${id}`)
      const out: Record<string, unknown> = {}
      for (const column of columns) {
        if (column === 'type') {
          out.type = [{ value: item.type, text: ITEM_TYPE_TEXT[item.type] }]
          continue
        }
        if (column !== 'expenseaccount' && column !== 'cogsaccount' && column !== 'assetaccount' && column !== 'account') throw new SuiteScriptError('SSS_INVALID_SRCH_COL', `An nlobjSearchColumn contains an invalid column: ${column}`)
        const account = item[column]
        out[column] = account ? [{ value: account.id, text: account.name }] : []
      }
      return out
    },
  }
}
