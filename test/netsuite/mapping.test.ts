// How the kit maps NetSuite vendor bills to billbridge bills, run in the fake SuiteScript runtime.
import t from 'tap'
import { addBill, createKit } from './fake/kit.ts'
import { acceptingResponder } from './fake/responder.ts'

function setup() {
  const billbridge = acceptingResponder()
  const kit = createKit(billbridge.respond, { parameters: { custscript_bb_checks_per_run: 0 } })
  const sent = () => billbridge.requests.flatMap((r) => r.bills)
  return { kit, billbridge, sent }
}

t.test('the currency is the ISO code from the currency record, not its name', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '1', currency: '1' })
  addBill(kit.account, { id: '2', currency: '2', exchangerate: 1.0842311 })
  kit.run()
  t.same(sent().map((b) => b.currency), ['USD', 'EUR'], 'the symbol field, not "US Dollar" or "Euro"')
  t.equal(sent()[1]!.exchangeRate, '1.0842311', 'the exchange rate travels as a decimal')
  t.notOk('exchangeRate' in sent()[0]! && sent()[0]!.exchangeRate !== '1', 'a home-currency bill carries rate 1 at most')
})

t.test('a currency whose symbol is not an ISO code is not sent, and the bill says why', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '3', currency: '3' })
  const report = kit.run()
  t.equal(sent().length, 0)
  t.equal(kit.account.bill('3').custom.custbody_bb_status, 'rejected')
  t.equal(kit.account.bill('3').custom.custbody_bb_error_code, 'CURRENCY_INVALID')
  t.match(kit.account.bill('3').custom.custbody_bb_error_message, /Old Peso.*Peso/)
  t.same(report.output.filter(([k]) => k === 'refused').map(([, v]) => v), ['3 CURRENCY_INVALID'])
})

t.test('expense lines, item lines and both', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '10', expense: [{ account: { id: '61', name: '6100 Office Supplies' }, amount: 80, memo: 'pens' }, { account: { id: '62', name: '6200 Travel' }, amount: 20.25 }] })
  addBill(kit.account, { id: '11', item: [{ item: '501', quantity: 4, rate: 12.5, amount: 50 }, { item: '502', quantity: 3, rate: 3.3333, amount: 10 }] })
  addBill(kit.account, { id: '12', expense: [{ account: { id: '62', name: '6200 Travel' }, amount: 100 }], item: [{ item: '501', quantity: 2, rate: 7.25, amount: 14.5, description: 'A4, 2 boxes' }] })
  kit.run()
  const [expense, items, mixed] = sent()
  t.same(expense!.lines, [{ account: '6100 Office Supplies', amount: '80.00', description: 'pens' }, { account: '6200 Travel', amount: '20.25' }])
  t.same(items!.lines, [
    { account: '6100 Office Supplies', amount: '50.00', quantity: '4', rate: '12.5', description: 'Paper A4' },
    { account: '5000 Cost of Goods Sold', amount: '10.00', quantity: '3', rate: '3.3333', description: 'Toner' },
  ], "a non-inventory item line takes its item's expense account (for resale, a COGS account), with quantity and rate")
  t.same(mixed!.lines.map((l: { account: string; amount: string }) => [l.account, l.amount]), [['6200 Travel', '100.00'], ['6100 Office Supplies', '14.50']], 'a mixed bill sends all of its total')
})

t.test('quantity and rate travel only when the amount is their product', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '13', item: [{ item: '501', quantity: 3, rate: 10, amount: 27 }, { item: '501', quantity: -1, rate: 10, amount: -10 }, { item: '501', quantity: 3, rate: 3.335, amount: 10.01 }] })
  kit.run()
  t.same(sent()[0]!.lines, [
    { account: '6100 Office Supplies', amount: '27.00', description: 'Paper A4' },
    { account: '6100 Office Supplies', amount: '-10.00', description: 'Paper A4' },
    { account: '6100 Office Supplies', amount: '10.01', quantity: '3', rate: '3.335', description: 'Paper A4' },
  ], 'a discounted line and a returned (negative) quantity go without quantity and rate; a rounded product within a cent keeps them')
})

t.test('a bill whose total is not the sum of its lines is not sent', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '14', usertotal: 130.5 })
  kit.run()
  t.equal(sent().length, 0)
  t.equal(kit.account.bill('14').custom.custbody_bb_error_code, 'TOTAL_MISMATCH')
})

t.test('a bill without a bill number is not sent, and the run logs why', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '15', tranid: '' })
  addBill(kit.account, { id: '16' })
  kit.run()
  t.same(sent().map((b) => b.externalId), ['16'])
  t.equal(kit.account.bill('15').custom.custbody_bb_error_code, 'BILL_NUMBER_MISSING')
  t.ok(kit.env.logs.some((l) => l.title === 'billbridge: refused 1' && l.details.includes('15 BILL_NUMBER_MISSING')), 'summarize names the bill and the reason')
})

t.test('subsidiary, dates, vendor and the PDF are carried; only documented fields are sent', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '17', subsidiary: { id: '3', name: 'Acme Europe BV' }, memo: 'November', pdfName: 'scan 17' })
  kit.run()
  const bill = sent()[0]!
  t.same(Object.keys(bill).sort(), ['attachment', 'billNumber', 'currency', 'date', 'dueDate', 'exchangeRate', 'externalId', 'lastModified', 'lines', 'memo', 'subsidiary', 'total', 'vendor'])
  t.same({ date: bill.date, dueDate: bill.dueDate, subsidiary: bill.subsidiary, vendor: bill.vendor, total: bill.total }, { date: '2026-11-20', dueDate: '2026-12-20', subsidiary: 'Acme Europe BV', vendor: { externalId: '77', name: 'Acme Supplies', country: 'US' }, total: '120.50' })
  t.equal(bill.attachment.fileName, 'scan 17.pdf', 'a file name without .pdf gets one')
  t.equal(Buffer.from(bill.attachment.contentBase64, 'base64').subarray(0, 5).toString(), '%PDF-')
})

t.test('bills before the go-live date, already sent, or without a PDF are not picked up', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '20', trandate: new Date(2026, 8, 30) })
  addBill(kit.account, { id: '21', trandate: new Date(2026, 9, 1) })
  addBill(kit.account, { id: '22', noPdf: true })
  addBill(kit.account, { id: '23', fileType: 'PNGIMAGE' })
  kit.run()
  t.same(sent().map((b) => b.externalId), ['21'], 'the go-live day itself is included (filter in the user\'s D/M/YYYY date format)')
  kit.run()
  t.same(sent().map((b) => b.externalId), ['21'], 'a second run sends nothing again')
})

t.test('a bill with more distinct items than the map stage can look up is refused, within its units', async (t) => {
  const { kit, sent } = setup()
  for (let i = 0; i < 301; i++) kit.account.items.set(String(9000 + i), { id: String(9000 + i), name: `Part ${i}`, type: 'InvtPart', assetaccount: { id: '13', name: '1300 Inventory Asset' } })
  addBill(kit.account, { id: '30', item: Array.from({ length: 301 }, (_, i) => ({ item: String(9000 + i), quantity: 1, rate: 1, amount: 1 })) })
  addBill(kit.account, { id: '31', item: Array.from({ length: 300 }, (_, i) => ({ item: String(9000 + i), quantity: 1, rate: 1, amount: 1 })) })
  const report = kit.run()
  t.same(report.errors, [])
  t.equal(kit.account.bill('30').custom.custbody_bb_error_code, 'LINES_INVALID')
  t.same(sent().map((b) => b.lines.length), [300], 'the 300-item bill, each item costing two look-ups, fits')
  t.ok(report.peakUnits.map <= 1000, `map used ${report.peakUnits.map} units`)
})

t.test('each item type posts where NetSuite posts it on a vendor bill; subtotal and description lines are left out', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, {
    id: '40',
    item: [
      { item: '503', quantity: 10, rate: 5, amount: 50 },
      { item: '504', quantity: 1, rate: 100, amount: 100 },
      { item: '505', quantity: 1, rate: 12.5, amount: 12.5 },
      { item: '506', quantity: 0, rate: 0, amount: 162.5 },
      { item: '508', quantity: 0, rate: 0, amount: -16.25 },
      { item: '509', quantity: 0, rate: 0, amount: 5 },
      { item: '507', quantity: 0, rate: 0, amount: 0, description: 'delivered to the Leeds warehouse' },
    ],
    usertotal: 151.25,
  })
  kit.run()
  t.same(sent()[0]?.lines.map((l: { account: string; amount: string }) => [l.account, l.amount]), [
    ['1300 Inventory Asset', '50.00'],
    ['6400 Software Subscriptions', '100.00'],
    ['6900 Miscellaneous', '12.50'],
    ['4900 Purchase Discounts', '-16.25'],
    ['6900 Miscellaneous', '5.00'],
  ], "inventory: asset account; service and other charge: expense account; discount and markup: their account; subtotal (already in the lines above) and description: left out")
  t.equal(kit.account.bill('40').custom.custbody_bb_status, 'queued', 'and the total matches')
})

t.test('an item group, or an item without the account its type posts to, is refused with what to do', async (t) => {
  const { kit, sent } = setup()
  addBill(kit.account, { id: '41', item: [{ item: '510', quantity: 1, rate: 20, amount: 20 }] })
  addBill(kit.account, { id: '42', item: [{ item: '511', quantity: 1, rate: 20, amount: 20 }] })
  kit.run()
  t.equal(sent().length, 0)
  t.equal(kit.account.bill('41').custom.custbody_bb_error_code, 'LINES_INVALID')
  t.match(kit.account.bill('41').custom.custbody_bb_error_message, /item 510 is of type "Group"/)
  t.equal(kit.account.bill('42').custom.custbody_bb_error_code, 'LINE_ACCOUNT_MISSING')
  t.match(kit.account.bill('42').custom.custbody_bb_error_message, /item line 1: item 511 \(NonInvtPart\) has no expense account/)
})
