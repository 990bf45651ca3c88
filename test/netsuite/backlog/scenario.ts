// A backlog of vendor bills drained by successive runs of the kit; runs in a worker thread (https.post is synchronous).
import type { Transport } from '../fake/env.ts'
import { SuiteScriptError } from '../fake/errors.ts'
import type { Stage } from '../fake/governance.ts'
import type { ExpenseLine, ItemLine, LineExtras, TaxDetail, VendorBill } from '../fake/account.ts'
import { addBill, createKit } from '../fake/kit.ts'

export interface BacklogOptions {
  bills: number
  pdfBytes: number
  apiKey: string
  billbridgeUrl: string
  maxRuns: number
  /** pause between runs that sent nothing, to let billbridge deliver */
  idleMs: number
  parameters?: Record<string, unknown>
  /** every Nth bill refuses every save (a closed period): its state can never be written back */
  refuseEvery?: number
  /** bills with UK VAT (20% and 5% lines) and a department, from legacy tax fields or (suitetax) SuiteTax tax details */
  taxed?: 'legacy' | 'suitetax'
}

export interface RunLine { run: number; outcomes: Record<string, number>; errors: string[] }

export interface BacklogResult {
  runs: RunLine[]
  peakUnits: Record<Stage, number>
  peakPersistedBytes: number
  peakValueBytes: number
  peakKeyChars: number
  peakRequestBytes: number
  requests: number
  postsPerBill: Record<string, number>
  fields: Array<[string, Record<string, string>]>
  persistedLimitHit: boolean
  /** bills whose saves the account refused */
  refused: string[]
  /** refused bills named in an ERROR log entry with the reason */
  refusedLogged: string[]
}

const STANDARD = { id: '11', name: 'VAT:S-GB' }
const REDUCED = { id: '12', name: 'VAT:R-GB' }

/**
 * A bill's lines taxed at UK VAT: odd lines at 20%, even ones at 5%, with their tax on the line (legacy) or on the
 * bill's tax details (SuiteTax); the bill in department "Sales : EMEA" and its first line in "Finance".
 */
function taxedSpec(spec: { expense?: ExpenseLine[]; item?: ItemLine[] }, engine: 'legacy' | 'suitetax'): Partial<VendorBill> {
  const taxdetails: TaxDetail[] = []
  let n = 0
  const tax = <T extends LineExtras & { amount: number }>(line: T): T => {
    const code = n % 2 === 0 ? STANDARD : REDUCED
    const rate = n % 2 === 0 ? 20 : 5
    const amount = Math.round(line.amount * rate) / 100
    const reference = `line${n}`
    const department = n === 0 ? { department: '3' } : {}
    n++
    if (engine === 'legacy') return { ...line, ...department, tax: { code, rate, amount } }
    taxdetails.push({ taxdetailsreference: reference, taxtype: { id: '1', name: 'VAT_GB' }, taxcode: code, taxbasis: line.amount, taxrate: rate, taxamount: amount })
    return { ...line, ...department, taxdetailsreference: reference }
  }
  const expense = (spec.expense ?? []).map(tax)
  const item = (spec.item ?? []).map(tax)
  return { expense, item, department: '2', ...(engine === 'suitetax' ? { taxdetails } : {}) }
}

/** Bills of three kinds (expense lines, item lines, both) and two currencies, each with a PDF of pdfBytes. */
function fillAccount(kit: ReturnType<typeof createKit>, options: BacklogOptions): void {
  kit.account.suiteTax = options.taxed === 'suitetax'
  for (let i = 0; i < options.bills; i++) {
    const kind = i % 3
    const spec = kind === 0
      ? { expense: [{ account: { id: '61', name: '6100 Office Supplies' }, amount: 100 + (i % 50) }] }
      : kind === 1
        ? { item: [{ item: '501', quantity: 2, rate: 12.5, amount: 25 }, { item: '502', quantity: 1, rate: 40, amount: 40 }] }
        : { expense: [{ account: { id: '62', name: '6200 Travel' }, amount: 80 }], item: [{ item: '501', quantity: 3, rate: 5, amount: 15 }] }
    // Zoho books a bill in its vendor's currency: the EUR bills come from a vendor of their own.
    const euro = i % 4 === 0
    const taxes = options.taxed ? taxedSpec(spec, options.taxed) : {}
    // Under SuiteTax the bill names the vendor's tax registration that applies.
    const registration = options.taxed === 'suitetax' ? { entitytaxregnum: euro ? { id: '902', number: 'DE123456789' } : { id: '901', number: 'GB123456789' } } : {}
    // A taxed backlog's GBP bills come from a UK vendor (VAT number and country GB).
    const vendor = euro ? { vendor: { id: '78', name: 'Acme Europe' } } : options.taxed ? { vendor: { id: '79', name: 'Northwind Stationers Ltd' } } : {}
    addBill(kit.account, { ...spec, ...taxes, ...registration, id: String(100000 + i), currency: euro ? '2' : '1', exchangerate: euro ? 1.0842 : 1, ...vendor, pdfSize: options.pdfBytes })
  }
}

export function drainBacklog(transport: Transport, options: BacklogOptions, sleep: (ms: number) => void, progress: (line: string) => void): BacklogResult {
  const postsPerBill: Record<string, number> = {}
  let peakRequestBytes = 0
  let requests = 0
  const counting: Transport = (request) => {
    if (request.url.endsWith('/v1/vendor-bills/batches')) {
      requests++
      peakRequestBytes = Math.max(peakRequestBytes, Buffer.byteLength(request.body))
      for (const bill of (JSON.parse(request.body) as { bills: Array<{ externalId: string }> }).bills) postsPerBill[bill.externalId] = (postsPerBill[bill.externalId] ?? 0) + 1
    }
    return transport(request)
  }
  const kit = createKit(counting, { apiKey: options.apiKey, target: options.billbridgeUrl, parameters: options.parameters })
  fillAccount(kit, options)
  const every = options.refuseEvery ?? 0
  const refused = new Set(every > 0 ? [...kit.account.bills.keys()].filter((_, i) => i % every === every - 1) : [])
  kit.account.refuseSave = (bill) => (refused.has(bill.id) ? new SuiteScriptError('USER_ERROR', 'You cannot edit a transaction in a closed period') : undefined)
  const result: BacklogResult = {
    runs: [], peakUnits: { getInputData: 0, map: 0, reduce: 0, summarize: 0 }, peakPersistedBytes: 0, peakValueBytes: 0, peakKeyChars: 0,
    peakRequestBytes: 0, requests: 0, postsPerBill, fields: [], persistedLimitHit: false, refused: [...refused], refusedLogged: [],
  }
  for (let run = 1; run <= options.maxRuns; run++) {
    const report = kit.run()
    const outcomes: Record<string, number> = {}
    for (const [key] of report.output) outcomes[key] = (outcomes[key] ?? 0) + 1
    result.runs.push({ run, outcomes, errors: report.errors.map((e) => `${e.stage} ${e.key}: ${e.name} ${e.message}`) })
    for (const stage of Object.keys(result.peakUnits) as Stage[]) result.peakUnits[stage] = Math.max(result.peakUnits[stage], report.peakUnits[stage])
    result.peakPersistedBytes = Math.max(result.peakPersistedBytes, report.peakPersistedBytes)
    result.peakValueBytes = Math.max(result.peakValueBytes, report.peakValueBytes)
    result.peakKeyChars = Math.max(result.peakKeyChars, report.peakKeyChars)
    result.persistedLimitHit ||= report.persistedLimitHit
    progress(`run ${run}: ${JSON.stringify(outcomes)}${report.errors.length ? ` errors ${report.errors.length}` : ''}`)
    const delivered = [...kit.account.bills.values()].filter((b) => b.custom.custbody_bb_status === 'delivered').length
    // Drained: every writable bill delivered and every refused one posted (its state can never be written).
    if (delivered + [...refused].filter((id) => postsPerBill[id]).length === options.bills) break
    if (!outcomes.sent) sleep(options.idleMs)
  }
  result.peakRequestBytes = peakRequestBytes
  result.requests = requests
  result.fields = [...kit.account.bills.values()].map((b) => [b.id, b.custom])
  result.refusedLogged = [...refused].filter((id) => kit.env.logs.some((l) => l.level === 'ERROR' && l.title.includes(`bill ${id}:`) && l.details.includes('closed period')))
  return result
}
