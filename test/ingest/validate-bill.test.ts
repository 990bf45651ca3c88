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

t.test('tax, dimensions, total and the vendor\'s tax id and country are carried; amount is the gross total', async (t) => {
  const check = validateBill(bill({
    vendor: { name: 'Acme', taxId: 'GB123456789', country: 'GB' }, department: 'Sales : EMEA', class: 'Retail', location: 'London',
    total: '130.00',
    lines: [
      { account: '6100', amount: '100.00', taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '20.00', department: 'Ops' },
      { account: '6200', amount: '10.00', taxCode: 'VAT:Z-GB', taxRate: '0', taxAmount: '0' },
      { account: '6300', amount: { number: '-0.50' }, taxCode: 'VAT:S-GB', taxRate: { number: '20' }, taxAmount: { number: '-0.10' } },
      { account: '6400', amount: '0.60' },
    ],
  }))
  t.ok(check.ok, check.ok ? '' : JSON.stringify(check.error))
  if (!check.ok) return
  t.same(check.bill.vendor, { name: 'Acme', taxId: 'GB123456789', country: 'GB' })
  t.same([check.bill.department, check.bill.class, check.bill.location], ['Sales : EMEA', 'Retail', 'London'])
  t.same(check.bill.lines[0], { account: '6100', amount: '100.00', taxCode: 'VAT:S-GB', taxAmount: '20.00', taxRate: '20', department: 'Ops' })
  t.equal(check.bill.lines[1]!.taxAmount, '0.00', 'a zero tax is kept')
  t.equal(check.bill.lines[2]!.taxAmount, '-0.10')
  t.same(check.bill.lines[3], { account: '6400', amount: '0.60' })
  t.equal(check.bill.total, '130.00')
  t.equal(check.bill.amount, '130.00', 'Σ amount 110.20 + Σ taxAmount 19.90')
})

t.test('a bill without the new fields is as before', async (t) => {
  const check = validateBill(bill())
  t.ok(check.ok)
  if (check.ok) {
    t.same(Object.keys(check.bill).sort(), ['amount', 'attachment', 'billNumber', 'currency', 'date', 'externalId', 'lines', 'vendor'])
    t.equal(check.bill.amount, '100.00')
  }
})

t.test('each new rule is refused with its own code, naming the field', async (t) => {
  const taxed = { taxCode: 'VAT:S-GB', taxRate: '20', taxAmount: '20.00' }
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string, string, RegExp?]> = [
    ['taxAmount without taxCode', {}, { taxAmount: '20.00' }, 'TAX_INVALID', 'lines[0].taxCode'],
    ['taxRate without taxCode', {}, { taxRate: '20' }, 'TAX_INVALID', 'lines[0].taxCode'],
    ['taxCode without taxAmount', {}, { taxCode: 'VAT:S-GB' }, 'TAX_INVALID', 'lines[0].taxAmount'],
    ['taxRate over 100', {}, { ...taxed, taxRate: '100.5' }, 'TAX_INVALID', 'lines[0].taxRate'],
    ['negative taxRate', {}, { ...taxed, taxRate: '-5' }, 'TAX_INVALID', 'lines[0].taxRate'],
    ['taxRate not a number', {}, { ...taxed, taxRate: '20%' }, 'TAX_INVALID', 'lines[0].taxRate'],
    ['taxAmount with 3 decimals', {}, { ...taxed, taxAmount: '20.001' }, 'TAX_INVALID', 'lines[0].taxAmount'],
    ['taxAmount not a number', {}, { ...taxed, taxAmount: 'twenty' }, 'TAX_INVALID', 'lines[0].taxAmount'],
    ['taxAmount with decimals in JPY', { currency: 'JPY' }, { ...taxed, taxAmount: '20.50' }, 'TAX_INVALID', 'lines[0].taxAmount', /JPY has 0/],
    ['taxCode over 200 characters', {}, { ...taxed, taxCode: 'x'.repeat(201) }, 'TAX_INVALID', 'lines[0].taxCode'],
    ['total not the lines and tax', { total: '100.00' }, taxed, 'TOTAL_MISMATCH', 'total', /100\.00.*120\.00/],
    ['total a cent off', { total: '120.01' }, taxed, 'TOTAL_MISMATCH', 'total', /120\.01.*120\.00/],
    ['total malformed', { total: '1,20' }, {}, 'TOTAL_INVALID', 'total'],
    ['line department over 200', {}, { department: 'd'.repeat(201) }, 'DIMENSION_INVALID', 'lines[0].department'],
    ['bill class not a string', { class: 7 }, {}, 'DIMENSION_INVALID', 'class'],
    ['bill location over 200', { location: 'l'.repeat(201) }, {}, 'DIMENSION_INVALID', 'location'],
    ['taxId over 50', { vendor: { name: 'Acme', taxId: '1'.repeat(51) } }, {}, 'VENDOR_TAX_ID_INVALID', 'vendor.taxId'],
    ['country in lower case', { vendor: { name: 'Acme', country: 'gb' } }, {}, 'VENDOR_COUNTRY_INVALID', 'vendor.country'],
    ['country of three letters', { vendor: { name: 'Acme', country: 'GBR' } }, {}, 'VENDOR_COUNTRY_INVALID', 'vendor.country'],
    ['country ISO does not assign', { vendor: { name: 'Acme', country: 'ZZ' } }, {}, 'VENDOR_COUNTRY_INVALID', 'vendor.country'],
    ['a misspelt tax key', {}, { taxcode: 'VAT:S-GB' }, 'UNKNOWN_FIELD', 'lines[0].taxcode'],
  ]
  for (const [name, overrides, line, code, field, message] of cases) {
    const check = validateBill(bill(overrides, line))
    t.notOk(check.ok, name)
    if (!check.ok) {
      t.same([check.error.code, check.error.field], [code, field], name)
      if (message) t.match(check.error.message, message, `${name}: ${check.error.message}`)
    }
  }
  const ok = validateBill(bill({ currency: 'JPY', total: '1100' }, { amount: '1000', taxCode: 'JP:10', taxRate: '10', taxAmount: '100' }))
  t.ok(ok.ok, 'a JPY tax without decimals is fine, and total matches')
  const kosovo = validateBill(bill({ vendor: { name: 'Acme', country: 'XK' } }))
  t.ok(kosovo.ok, 'XK (Kosovo), in common use, is taken')
})
