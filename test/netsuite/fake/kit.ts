import { randomBytes } from 'node:crypto'
import { FakeAccount, type VendorBill } from './account.ts'
import { createLoader } from './amd.ts'
import { createEnv, type ScriptEnv, type Transport } from './env.ts'
import { runMapReduce, type MapReduceScript, type RunOptions, type RunReport } from './map-reduce.ts'
import { deployUserEvent } from './user-event.ts'

export const BILLBRIDGE_HOST = 'billbridge.example.com'
export const API_SECRET = 'custsecret_billbridge_api_key'

/** A NetSuite account with the kit deployed: its script, User Event, parameters, secret and reference data. */
export interface Kit {
  account: FakeAccount
  env: ScriptEnv
  script: MapReduceScript
  run(options?: RunOptions): RunReport
}

export function createKit(transport: Transport, options: { apiKey?: string; target?: string; parameters?: Record<string, unknown> } = {}): Kit {
  const account = new FakeAccount()
  account.secrets.set(API_SECRET, options.apiKey ?? 'test-key')
  account.currencies.set('1', { id: '1', name: 'US Dollar', symbol: 'USD' })
  account.currencies.set('2', { id: '2', name: 'Euro', symbol: 'EUR' })
  account.currencies.set('3', { id: '3', name: 'Old Peso', symbol: 'Peso' })
  account.vendors.set('77', { id: '77', name: 'Acme Supplies', billcountrycode: 'US' })
  account.vendors.set('78', { id: '78', name: 'Acme Europe', vatregnumber: 'DE123456789', billcountrycode: 'DE' })
  account.vendors.set('79', { id: '79', name: 'Northwind Stationers Ltd', vatregnumber: 'GB123456789', billcountrycode: 'GB' })
  account.segments.department.set('1', { id: '1', name: 'Sales' })
  account.segments.department.set('2', { id: '2', name: 'EMEA', parent: '1' })
  account.segments.department.set('3', { id: '3', name: 'Finance' })
  account.segments.class.set('1', { id: '1', name: 'Retail' })
  account.segments.class.set('2', { id: '2', name: 'Online', parent: '1' })
  account.segments.location.set('1', { id: '1', name: 'UK' })
  account.segments.location.set('2', { id: '2', name: 'London', parent: '1' })
  account.items.set('501', { id: '501', name: 'Paper A4', type: 'NonInvtPart', expenseaccount: { id: '61', name: '6100 Office Supplies' } })
  // A non-inventory item for resale: its expense account is a COGS account.
  account.items.set('502', { id: '502', name: 'Toner', type: 'NonInvtPart', expenseaccount: { id: '50', name: '5000 Cost of Goods Sold' } })
  account.items.set('503', { id: '503', name: 'Widget', type: 'InvtPart', assetaccount: { id: '13', name: '1300 Inventory Asset' }, cogsaccount: { id: '50', name: '5000 Cost of Goods Sold' } })
  account.items.set('504', { id: '504', name: 'Consulting', type: 'Service', expenseaccount: { id: '64', name: '6400 Software Subscriptions' } })
  account.items.set('505', { id: '505', name: 'Freight', type: 'OthCharge', expenseaccount: { id: '69', name: '6900 Miscellaneous' } })
  account.items.set('506', { id: '506', name: 'Subtotal', type: 'Subtotal' })
  account.items.set('507', { id: '507', name: 'Note', type: 'Description' })
  account.items.set('508', { id: '508', name: 'Volume discount', type: 'Discount', account: { id: '49', name: '4900 Purchase Discounts' } })
  account.items.set('509', { id: '509', name: 'Handling markup', type: 'Markup', account: { id: '69', name: '6900 Miscellaneous' } })
  account.items.set('510', { id: '510', name: 'Starter set', type: 'Group' })
  account.items.set('511', { id: '511', name: 'Gift box (for sale)', type: 'NonInvtPart' })
  const env = createEnv(account, transport, {
    hosts: { [BILLBRIDGE_HOST]: options.target ?? 'http://billbridge.invalid' },
    parameters: { custscript_bb_url: `https://${BILLBRIDGE_HOST}`, custscript_bb_go_live: new Date(2026, 9, 1), ...options.parameters },
  })
  const loader = createLoader(env)
  deployUserEvent(env, loader)
  const script = loader.load('bb_sender_mr') as MapReduceScript
  return { account, env, script, run: (runOptions) => runMapReduce(env, script, runOptions) }
}

const PDF_FILLER = randomBytes(512 * 1024)

/** A PDF of `size` bytes: a unique header, then shared filler (cheap to make thousands of). */
export function pdfBytes(label: string, size: number): Buffer {
  const head = Buffer.from(`%PDF-1.4\n% ${label}\n`, 'latin1')
  const out = Buffer.allocUnsafe(size)
  head.copy(out)
  for (let at = head.length; at < size; at += PDF_FILLER.length) PDF_FILLER.copy(out, at, 0, Math.min(PDF_FILLER.length, size - at))
  return out
}

export interface BillSpec extends Partial<Omit<VendorBill, 'files' | 'custom'>> {
  pdfSize?: number
  pdfName?: string
  fileType?: string
  noPdf?: boolean
}

/** Adds a vendor bill (one expense line of 120.50 unless told) with a PDF attached. */
export function addBill(account: FakeAccount, spec: BillSpec = {}): VendorBill {
  const id = spec.id ?? account.newId()
  const expense = spec.expense ?? (spec.item ? [] : [{ account: { id: '61', name: '6100 Office Supplies' }, amount: 120.5, memo: 'paper' }])
  const item = spec.item ?? []
  // NetSuite's total is the lines plus their tax (legacy: each line's tax1amt; SuiteTax: the tax details).
  const tax = account.suiteTax ? (spec.taxdetails ?? []).reduce((s, d) => s + Math.round(d.taxamount * 100), 0) : [...expense, ...item].reduce((s, l) => s + Math.round((l.tax?.amount ?? 0) * 100), 0)
  const total = ([...expense, ...item].reduce((s, l) => s + Math.round(l.amount * 100), 0) + tax) / 100
  const files: string[] = []
  if (!spec.noPdf) {
    const fileId = account.newId()
    const size = spec.pdfSize ?? 3000
    account.files.set(fileId, { id: fileId, name: spec.pdfName ?? `INV-${id}.pdf`, fileType: spec.fileType ?? 'PDF', size, content: () => pdfBytes(`bill ${id}`, size) })
    files.push(fileId)
  }
  const bill: VendorBill = {
    id,
    tranid: `INV-${id}`,
    vendor: { id: '77', name: 'Acme Supplies' },
    trandate: new Date(2026, 10, 20),
    duedate: new Date(2026, 11, 20),
    currency: '1',
    exchangerate: 1,
    usertotal: total,
    lastmodified: new Date(2026, 10, 20, 9, 0, 0),
    // With approval routing on a new bill starts Pending Approval, with it off Approved.
    approvalstatus: account.approvalRouting ? '1' : '2',
    status: account.approvalRouting ? 'pendingApproval' : 'open',
    voided: false,
    ...spec,
    expense,
    item,
    files,
    custom: {},
  }
  account.bills.set(id, bill)
  return bill
}
