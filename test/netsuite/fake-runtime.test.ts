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
