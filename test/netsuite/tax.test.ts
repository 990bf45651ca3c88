// Tax, segments, the vendor's tax id and country, and the total: what the kit sends under both of NetSuite's tax engines.
import t from 'tap'
import type { ExpenseLine, TaxDetail } from './fake/account.ts'
import { addBill, createKit } from './fake/kit.ts'
import { acceptingResponder } from './fake/responder.ts'
import { drainBacklog } from './backlog/scenario.ts'

function setup(options: { suiteTax?: boolean } = {}) {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_checks_per_run: 0 } })
  kit.account.suiteTax = options.suiteTax ?? false
  const sent = () => billbridge.requests.flatMap((r) => r.bills)
  return { kit, billbridge, sent }
}

const STANDARD = { id: '11', name: 'VAT:S-GB' }
const REDUCED = { id: '12', name: 'VAT:R-GB' }
const ZERO = { id: '13', name: 'VAT:Z-GB' }
const UK_VENDOR = { id: '79', name: 'Northwind Stationers Ltd' }
const OFFICE = { id: '61', name: '6100 Office Supplies' }
const TRAVEL = { id: '62', name: '6200 Travel' }

/** A UK bill at 20% with two lines, as legacy tax keeps it: code, rate and amount on each line. */
function legacyUkBill(): ExpenseLine[] {
  return [
    { account: OFFICE, amount: 80, memo: 'paper', tax: { code: STANDARD, rate: 20, amount: 16 } },
    { account: TRAVEL, amount: 20.25, tax: { code: STANDARD, rate: 20, amount: 4.05 } },
  ]
}

/** The same bill under SuiteTax: the lines name their tax details, which sit on the bill's taxdetails sublist. */
function suiteTaxUkBill(): { expense: ExpenseLine[]; taxdetails: TaxDetail[] } {
  const vat = { id: '1', name: 'VAT_GB' }
  return {
    expense: [
      { account: OFFICE, amount: 80, memo: 'paper', taxdetailsreference: 'r1' },
      { account: TRAVEL, amount: 20.25, taxdetailsreference: 'r2' },
    ],
    taxdetails: [
      { taxdetailsreference: 'r1', taxtype: vat, taxcode: STANDARD, taxbasis: 80, taxrate: 20, taxamount: 16 },
      { taxdetailsreference: 'r2', taxtype: vat, taxcode: STANDARD, taxbasis: 20.25, taxrate: 20, taxamount: 4.05 },
    ],
  }
}

const UK_LINES = [
  { account: '6100 Office Supplies', amount: '80.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '16.00', description: 'paper' },
  { account: '6200 Travel', amount: '20.25', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '4.05' },
]

t.test('legacy tax: a UK bill at 20% with two lines goes with each line\'s tax, the total, and the vendor\'s VAT number and country', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '1', vendor: UK_VENDOR, expense: legacyUkBill() })
  t.equal(kit.account.bill('1').usertotal, 120.3, 'NetSuite\'s total is the lines plus their tax')
  kit.run()
  t.equal(kit.account.bill('1').custom.custbody_bb_error_code ?? '', '', 'no TOTAL_MISMATCH refusal for a taxed bill')
  t.equal(kit.account.bill('1').custom.custbody_bb_status, 'queued')
  const bill = sent()[0]!
  t.same(bill.lines, UK_LINES)
  t.equal(bill.total, '120.30')
  t.same(bill.vendor, { externalId: '79', name: 'Northwind Stationers Ltd', taxId: 'GB123456789', country: 'GB' })
})

t.test('legacy tax: a mixed-rate bill, a zero-rated line and a line without tax', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, {
    id: '2',
    vendor: UK_VENDOR,
    expense: [
      { account: OFFICE, amount: 100, tax: { code: STANDARD, rate: 20, amount: 20 } },
      { account: OFFICE, amount: 50, tax: { code: REDUCED, rate: 5, amount: 2.5 } },
      { account: TRAVEL, amount: 30, tax: { code: ZERO, rate: 0, amount: 0 } },
    ],
    item: [{ item: '501', quantity: 2, rate: 7.25, amount: 14.5 }],
  })
  kit.run()
  const bill = sent()[0]!
  t.same(bill.lines.map((l: Record<string, string>) => [l.taxCode, l.taxRate, l.taxAmount]), [
    ['VAT:S-GB', '20', '20.00'],
    ['VAT:R-GB', '5', '2.50'],
    ['VAT:Z-GB', '0', '0.00'],
    [undefined, undefined, undefined],
  ], 'each line its own rate; a zero-rated line keeps its code at 0; a line without a tax code has no tax fields')
  t.equal(bill.total, '217.00')
})

t.test('SuiteTax: the same UK bill is read from the taxdetails sublist; the tax id is the registration on the bill', async (t) => {
  const { kit, sent } = setup({ suiteTax: true })
  addBill(kit.account, { id: '3', vendor: UK_VENDOR, entitytaxregnum: { id: '901', number: 'GB987654321' }, ...suiteTaxUkBill() })
  const report = kit.run()
  t.same(report.errors, [])
  const bill = sent()[0]!
  t.same(bill.lines, UK_LINES, 'the same lines as under legacy tax')
  t.equal(bill.total, '120.30')
  t.same(bill.vendor, { externalId: '79', name: 'Northwind Stationers Ltd', taxId: 'GB987654321', country: 'GB' }, "the bill's Entity Tax Reg. Number, not the legacy vendor field")
})

t.test('SuiteTax: a zero-rated line and a line without tax details', async (t) => {
  const { kit, sent } = setup({ suiteTax: true })
  const vat = { id: '1', name: 'VAT_GB' }
  addBill(kit.account, {
    id: '4',
    expense: [{ account: OFFICE, amount: 30, taxdetailsreference: 'z' }, { account: TRAVEL, amount: 10 }],
    taxdetails: [{ taxdetailsreference: 'z', taxtype: vat, taxcode: ZERO, taxbasis: 30, taxrate: 0, taxamount: 0 }],
  })
  kit.run()
  t.same(sent()[0]!.lines, [
    { account: '6100 Office Supplies', amount: '30.00', taxCode: 'VAT:Z-GB', taxRate: '0', taxAmount: '0.00' },
    { account: '6200 Travel', amount: '10.00' },
  ])
})

t.test('SuiteTax: several taxes on one line go as one group (codes joined, rates and amounts summed)', async (t) => {
  const { kit, sent } = setup({ suiteTax: true })
  const gst = { id: '5', name: 'GST' }
  addBill(kit.account, {
    id: '5',
    expense: [{ account: OFFICE, amount: 1000, taxdetailsreference: 'in1' }, { account: TRAVEL, amount: 200, taxdetailsreference: 'ca1' }],
    taxdetails: [
      { taxdetailsreference: 'in1', taxtype: gst, taxcode: { id: '21', name: 'SGST_IN 9' }, taxbasis: 1000, taxrate: 9, taxamount: 90 },
      { taxdetailsreference: 'in1', taxtype: gst, taxcode: { id: '20', name: 'CGST_IN 9' }, taxbasis: 1000, taxrate: 9, taxamount: 90 },
      { taxdetailsreference: 'ca1', taxtype: gst, taxcode: { id: '30', name: 'CA_GST 5' }, taxbasis: 200, taxrate: 5, taxamount: 10 },
      { taxdetailsreference: 'ca1', taxtype: { id: '6', name: 'PST' }, taxcode: { id: '31', name: 'CA_BC_PST 7' }, taxbasis: 200, taxrate: 7, taxamount: 14 },
    ],
  })
  kit.run()
  const bill = sent()[0]!
  t.same(bill.lines.map((l: Record<string, string>) => [l.taxCode, l.taxRate, l.taxAmount]), [
    ['CGST_IN 9+SGST_IN 9', '18', '180.00'],
    ['CA_BC_PST 7+CA_GST 5', '12', '24.00'],
  ], 'codes in name order, whatever order NetSuite lists the details in')
  t.equal(bill.total, '1404.00')
})

t.test('SuiteTax: taxes on different bases on one line (a compound tax) are refused with a clear code', async (t) => {
  const { kit, sent } = setup({ suiteTax: true })
  const gst = { id: '5', name: 'GST' }
  addBill(kit.account, {
    id: '6',
    expense: [{ account: OFFICE, amount: 100, taxdetailsreference: 'q' }],
    taxdetails: [
      { taxdetailsreference: 'q', taxtype: gst, taxcode: { id: '30', name: 'CA_GST 5' }, taxbasis: 100, taxrate: 5, taxamount: 5 },
      { taxdetailsreference: 'q', taxtype: gst, taxcode: { id: '32', name: 'CA_QC_QST 7.5' }, taxbasis: 105, taxrate: 7.5, taxamount: 7.88 },
    ],
  })
  kit.run()
  t.equal(sent().length, 0)
  t.equal(kit.account.bill('6').custom.custbody_bb_error_code, 'TAX_DETAILS_UNSUPPORTED')
  t.match(kit.account.bill('6').custom.custbody_bb_error_message, /expense line 1 .*CA_GST 5 on 100\.00, CA_QC_QST 7\.5 on 105\.00/)
})

t.test('a total that is not the lines plus their tax is refused, naming both figures', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '7', vendor: UK_VENDOR, expense: legacyUkBill(), usertotal: 125 })
  const suite = setup({ suiteTax: true })
  // A tax detail that belongs to no line: its tax would not reach Zoho.
  const uk = suiteTaxUkBill()
  addBill(suite.kit.account, { id: '8', ...uk, taxdetails: [...uk.taxdetails, { ...uk.taxdetails[0]!, taxdetailsreference: 'shipping', taxamount: 1 }] })
  kit.run()
  suite.kit.run()
  t.equal(sent().length + suite.sent().length, 0)
  t.equal(kit.account.bill('7').custom.custbody_bb_error_code, 'TOTAL_MISMATCH')
  t.match(kit.account.bill('7').custom.custbody_bb_error_message, /total 125\.00 is not its lines 100\.25 plus their tax 20\.05 \(= 120\.30\)/)
  t.equal(suite.kit.account.bill('8').custom.custbody_bb_error_code, 'TOTAL_MISMATCH')
  t.match(suite.kit.account.bill('8').custom.custbody_bb_error_message, /total 121\.30 is not its lines 100\.25 plus their tax 20\.05/)
})

t.test('department, class and location: the bill\'s apply to lines without their own; names as NetSuite shows them', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, {
    id: '9',
    department: '2',
    class: '1',
    location: '2',
    expense: [
      { account: OFFICE, amount: 80, department: '3', class: '2' },
      { account: TRAVEL, amount: 20 },
    ],
    item: [{ item: '501', quantity: 1, rate: 10, amount: 10, location: '1' }],
  })
  kit.run()
  const bill = sent()[0]!
  t.same({ department: bill.department, class: bill.class, location: bill.location }, { department: 'Sales : EMEA', class: 'Retail', location: 'UK : London' }, 'the body\'s, hierarchical names with " : "')
  t.same(bill.lines.map((l: Record<string, string>) => [l.department, l.class, l.location]), [
    ['Finance', 'Retail : Online', undefined],
    [undefined, undefined, undefined],
    [undefined, undefined, 'UK'],
  ], 'a line carries only its own segments')
  addBill(kit.account, { id: '10' })
  kit.run()
  t.notOk(['department', 'class', 'location'].some((k) => k in sent()[1]!), 'a bill without segments sends none')
})

t.test('tax, segments and the vendor fields cost no units: the map stage uses what the loaded bill and the search hold', async (t) => {
  const plain = setup()
  const taxed = setup()
  const suite = setup({ suiteTax: true })
  for (let i = 0; i < 5; i++) {
    addBill(plain.kit.account, { id: String(100 + i), expense: [{ account: OFFICE, amount: 80 }, { account: TRAVEL, amount: 20.25 }] })
    addBill(taxed.kit.account, { id: String(100 + i), vendor: UK_VENDOR, department: '2', expense: legacyUkBill() })
    addBill(suite.kit.account, { id: String(100 + i), vendor: UK_VENDOR, department: '2', entitytaxregnum: { id: '901', number: 'GB987654321' }, ...suiteTaxUkBill() })
  }
  const [a, b, c] = [plain.kit.run(), taxed.kit.run(), suite.kit.run()]
  t.same([b.peakUnits, c.peakUnits], [a.peakUnits, a.peakUnits], `peak units per stage ${JSON.stringify(a.peakUnits)} with or without tax`)
  t.same([taxed.sent().length, suite.sent().length], [5, 5])
})

t.test('the taxed backlog of the bench (both engines) is sent whole: every bill with its total, line tax and department', async (t) => {
  for (const taxed of ['legacy', 'suitetax'] as const) {
    const billbridge = acceptingResponder()
    const result = drainBacklog(billbridge.respond, { bills: 12, pdfBytes: 2000, apiKey: 'k', billbridgeUrl: 'http://billbridge.invalid', maxRuns: 1, idleMs: 0, taxed }, () => {}, () => {})
    const bills = billbridge.requests.flatMap((r) => r.bills)
    t.same(result.runs[0]!.outcomes, { sent: 12 }, `${taxed}: no bill refused`)
    t.ok(bills.every((b) => b.total && b.lines.every((l: Record<string, string>) => l.taxCode && l.taxAmount) && b.department === 'Sales : EMEA' && b.lines[0].department === 'Finance'), `${taxed}: each bill taxed and tagged`)
    t.same([...new Set(bills.map((b) => JSON.stringify(b.vendor)))].sort(), [
      JSON.stringify({ externalId: '78', name: 'Acme Europe', taxId: 'DE123456789', country: 'DE' }),
      JSON.stringify({ externalId: '79', name: 'Northwind Stationers Ltd', taxId: 'GB123456789', country: 'GB' }),
    ].sort())
  }
})
