import t from 'tap'
import { LongString } from '../../src/ingest/json-scan.ts'
import { validateBill } from '../../src/ingest/validate-bill.ts'

function bill(overrides: Record<string, unknown> = {}, line: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    externalId: 'NS-1', billNumber: 'INV-1', vendor: { name: 'Acme' }, date: '2026-11-01', currency: 'EUR',
    lines: [{ account: '6100 Office Supplies', amount: '100.00', ...line }],
    attachment: { fileName: 'a.pdf', contentType: 'application/pdf' },
    ...overrides,
  }
}

t.test('exchange rate and subsidiary are carried as sent', async (t) => {
  const check = validateBill(bill({ exchangeRate: '1.0825', subsidiary: 'Acme Europe BV' }))
  t.ok(check.ok)
  if (check.ok) {
    t.equal(check.bill.exchangeRate, '1.0825')
    t.equal(check.bill.subsidiary, 'Acme Europe BV')
  }
  const numeric = validateBill(bill({ exchangeRate: { number: '0.9131' } }))
  t.ok(numeric.ok && numeric.bill.exchangeRate === '0.9131', 'a JSON number keeps its source text')
})

t.test('a zero, negative or malformed exchange rate is refused with its own code', async (t) => {
  for (const exchangeRate of ['0', '0.000', '-1.2', 'abc', '1.12345678901', { number: '1e3' }]) {
    const check = validateBill(bill({ exchangeRate }))
    t.notOk(check.ok, JSON.stringify(exchangeRate))
    if (!check.ok) {
      t.equal(check.error.code, 'EXCHANGE_RATE_INVALID')
      t.equal(check.error.field, 'exchangeRate')
    }
  }
})

t.test('item lines carry quantity and rate, and their amount must be the product to the cent', async (t) => {
  const ok = validateBill(bill({}, { quantity: '3', rate: '33.333', amount: '100.00' }))
  t.ok(ok.ok, '3 × 33.333 = 99.999 rounds to 100.00')
  if (ok.ok) t.same(ok.bill.lines[0], { account: '6100 Office Supplies', amount: '100.00', quantity: '3', rate: '33.333' })
  const off = validateBill(bill({}, { quantity: '3', rate: '30', amount: '100.00' }))
  t.notOk(off.ok)
  if (!off.ok) t.same([off.error.code, off.error.field], ['AMOUNT_INVALID', 'lines[0].amount'])
  const alone = validateBill(bill({}, { quantity: '3' }))
  t.notOk(alone.ok)
  if (!alone.ok) t.same([alone.error.code, alone.error.field], ['LINES_INVALID', 'lines[0].rate'])
  const zeroQuantity = validateBill(bill({}, { quantity: '0', rate: '1', amount: '0.00' }))
  t.notOk(zeroQuantity.ok, 'a zero quantity is refused')
})

t.test('a string the scanner read through (LongString) is refused with the field\'s own code', async (t) => {
  const long = new LongString(70_000, '0'.repeat(64))
  const cases: Array<[Record<string, unknown>, Record<string, unknown>, string, string]> = [
    [{ memo: long }, {}, 'MEMO_INVALID', 'memo'],
    [{ billNumber: long }, {}, 'BILL_NUMBER_MISSING', 'billNumber'],
    [{ dueDate: long }, {}, 'DUE_DATE_INVALID', 'dueDate'],
    [{ exchangeRate: long }, {}, 'EXCHANGE_RATE_INVALID', 'exchangeRate'],
    [{ vendor: { name: 'Acme', email: long } }, {}, 'VENDOR_EMAIL_INVALID', 'vendor.email'],
    [{}, { amount: long }, 'AMOUNT_INVALID', 'lines[0].amount'],
    [{}, { quantity: long, rate: '1' }, 'LINES_INVALID', 'lines[0].quantity'],
    [{}, { quantity: '1', rate: long }, 'LINES_INVALID', 'lines[0].rate'],
  ]
  for (const [overrides, line, code, field] of cases) {
    const check = validateBill(bill(overrides, line))
    t.match(check, { ok: false, error: { code, field, message: new RegExp(`^${field.replace(/[[\]]/g, '\\$&')} is 70000 bytes long`) } }, field)
  }
})
