// The fake SuiteScript runtime enforces NetSuite's limits: a script that breaks one fails here as it would there.
import t from 'tap'
import { FakeAccount } from './fake/account.ts'
import { createLoader } from './fake/amd.ts'
import { createEnv } from './fake/env.ts'
import { runMapReduce, type MapReduceScript } from './fake/map-reduce.ts'
import { pdfBytes } from './fake/kit.ts'

function setup() {
  const account = new FakeAccount()
  account.files.set('1', { id: '1', name: 'big.pdf', fileType: 'PDF', size: 10_000_001, content: () => pdfBytes('big', 10_000_001) })
  account.files.set('2', { id: '2', name: 'small.pdf', fileType: 'PDF', size: 1000, content: () => pdfBytes('small', 1000) })
  const env = createEnv(account, () => ({ code: 200, headers: {}, body: '{}' }), { hosts: { 'bb.example': 'http://127.0.0.1:9' } })
  const loader = createLoader(env)
  const N = { file: loader.load('N/file'), https: loader.load('N/https'), search: loader.load('N/search') }
  const script = (parts: Partial<MapReduceScript>): MapReduceScript => ({ getInputData: () => ['a'], map: () => {}, reduce: () => {}, summarize: () => {}, ...parts })
  return { env, N, script }
}

t.test('usage units per stage, at each call\'s documented cost', async (t) => {
  const { env, N, script } = setup()
  const report = runMapReduce(env, script({ map: () => { for (let i = 0; i < 101; i++) N.file.load({ id: '2' }) } }))
  t.match(report.errors, [{ stage: 'map', name: 'SSS_USAGE_LIMIT_EXCEEDED' }], '101 file.load calls are 1,010 units, over the map limit of 1,000')
  t.equal(report.peakUnits.map, 1000)
  const reduce = runMapReduce(env, script({ map: (c: any) => c.write({ key: 'k', value: 'v' }), reduce: () => { for (let i = 0; i < 500; i++) N.file.load({ id: '2' }) } }))
  t.same(reduce.errors, [], '500 file.load calls fit in the reduce limit of 5,000')
  t.equal(reduce.peakUnits.reduce, 5000)
})

t.test('keys of 3,000 characters, values of 10 MB, 200 MB persisted between stages', async (t) => {
  const { env, script } = setup()
  const longKey = runMapReduce(env, script({ map: (c: any) => c.write({ key: 'k'.repeat(3001), value: 'v' }) }))
  t.match(longKey.errors, [{ name: 'MAP_REDUCE_KEY_TOO_LONG' }])
  const bigValue = runMapReduce(env, script({ map: (c: any) => c.write({ key: 'k', value: 'v'.repeat(10_000_001) }) }))
  t.match(bigValue.errors, [{ name: 'MAP_REDUCE_VALUE_TOO_LARGE' }])
  let summarized = false
  let reduced = 0
  const persisted = runMapReduce(env, script({
    getInputData: () => Array.from({ length: 25 }, (_, i) => String(i)),
    map: (c: any) => c.write({ key: c.key, value: 'v'.repeat(9_000_000) }),
    reduce: () => { reduced++ },
    summarize: (s: any) => { summarized = s.inputSummary.error.includes('PERSISTED_DATA_LIMIT_FOR_MAPREDUCE_SCRIPT_EXCEEDED') },
  }))
  t.equal(persisted.persistedLimitHit, true)
  t.equal(reduced, 0, 'nothing reduces after the limit')
  t.equal(summarized, true, 'the script goes straight to summarize')
})

t.test('getContents holds at most 10 MB; https.post takes https URLs and may time out', async (t) => {
  const { env, N, script } = setup()
  const report = runMapReduce(env, script({ map: () => { N.file.load({ id: '1' }).getContents() } }))
  t.match(report.errors, [{ name: 'SSS_FILE_CONTENT_SIZE_EXCEEDED' }])
  const plain = runMapReduce(env, script({ map: () => { N.https.post({ url: 'http://bb.example/x', body: '' }) } }))
  t.match(plain.errors, [{ name: 'SSS_INVALID_URL' }])
  env.fault = () => 'timeout'
  const slow = runMapReduce(env, script({ map: () => { for (let i = 0; i < 7; i++) { try { N.https.post({ url: 'https://bb.example/x', body: '' }) } catch (e) { if ((e as Error).name !== 'SSS_REQUEST_TIME_EXCEEDED') throw e } } } }))
  t.match(slow.errors, [{ stage: 'map', name: 'SSS_TIME_LIMIT_EXCEEDED' }], 'seven 45 s timeouts exceed the map stage\'s 300 s')
})

t.test('getRange returns at most 1,000 results per call', async (t) => {
  const { env, N, script } = setup()
  const report = runMapReduce(env, script({ getInputData: () => N.search.create({ type: 'vendorbill', filters: [] }).run().getRange({ start: 0, end: 1001 }) }))
  t.match(report.errors, [{ stage: 'getInputData', name: 'SSS_INVALID_SRCH_QUERY' }])
})

t.test('the two tax engines: legacy tax fields on lines, or (SuiteTax) a taxdetails sublist and the feature in effect', async (t) => {
  const account = new FakeAccount()
  account.vendors.set('7', { id: '7', name: 'V', vatregnumber: 'GB1', billcountrycode: 'GB' })
  const code = { id: '11', name: 'VAT:S-GB' }
  account.bills.set('1', {
    id: '1', tranid: 'A', vendor: { id: '7', name: 'V' }, trandate: new Date(2026, 10, 1), currency: '1', exchangerate: 1, usertotal: 120,
    expense: [{ account: { id: '61', name: 'Office' }, amount: 100, tax: { code, rate: 20, amount: 20 }, taxdetailsreference: 'r' }], item: [], files: [], custom: {}, lastmodified: new Date(),
    taxdetails: [{ taxdetailsreference: 'r', taxtype: { id: '1', name: 'VAT_GB' }, taxcode: code, taxbasis: 100, taxrate: 20, taxamount: 20 }],
  })
  const env = createEnv(account, () => ({ code: 200, headers: {}, body: '{}' }))
  const loader = createLoader(env)
  const [record, runtime, search] = [loader.load('N/record'), loader.load('N/runtime'), loader.load('N/search')]
  const line = { sublistId: 'expense', line: 0 }
  let bill = record.load({ type: 'vendorbill', id: '1' })
  t.equal(runtime.isFeatureInEffect({ feature: 'TAX_OVERHAULING' }), false)
  t.same([bill.getSublistText({ ...line, fieldId: 'taxcode' }), bill.getSublistValue({ ...line, fieldId: 'taxrate1' }), bill.getSublistValue({ ...line, fieldId: 'tax1amt' })], ['VAT:S-GB', 20, 20])
  t.equal(bill.getLineCount({ sublistId: 'taxdetails' }), -1, 'no taxdetails sublist under legacy tax')
  account.suiteTax = true
  bill = record.load({ type: 'vendorbill', id: '1' })
  t.equal(runtime.isFeatureInEffect({ feature: 'tax_overhauling' }), true, 'feature ids are case-insensitive')
  t.equal(bill.getSublistValue({ ...line, fieldId: 'taxcode' }), '', 'no tax code on the line under SuiteTax')
  t.equal(bill.getLineCount({ sublistId: 'taxdetails' }), 1)
  t.same([bill.getSublistValue({ ...line, fieldId: 'taxdetailsreference' }), bill.getSublistValue({ sublistId: 'taxdetails', fieldId: 'taxdetailsreference', line: 0 }), bill.getSublistText({ sublistId: 'taxdetails', fieldId: 'taxcode', line: 0 })], ['r', 'r', 'VAT:S-GB'])
  const columns = [search.createColumn({ name: 'billcountrycode', join: 'vendor' }), search.createColumn({ name: 'vatregnumber', join: 'vendor' })]
  const [row] = search.create({ type: 'vendorbill', filters: [['mainline', 'is', 'T']], columns }).run().getRange({ start: 0, end: 10 })
  t.same(columns.map((c: unknown) => row.getValue(c)), ['GB', 'GB1'], "the bill search's vendor join")
  t.throws(() => search.create({ type: 'vendorbill', filters: [], columns: [search.createColumn({ name: 'taxid', join: 'vendor' })] }).run().getRange({ start: 0, end: 1 }), { name: 'SSS_INVALID_SRCH_COL' })
})
