// The NetSuite sender kit, run in Node with the N/ modules replaced by small fakes.
import fs from 'node:fs'
import t from 'tap'
import { samplePdf } from '../../scripts/lib/sample-bills.ts'
import { mintKey, postBatch } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

/** Loads a SuiteScript AMD module: define(deps, factory) → factory(...modules). */
function loadAmd(path: string, modules: unknown[]): any {
  let result: unknown
  const define = (_deps: string[], factory: (...args: unknown[]) => unknown) => {
    result = factory(...modules)
  }
  new Function('define', fs.readFileSync(path, 'utf8'))(define)
  return result
}

const lib = loadAmd('netsuite/billbridge_lib.js', [])

function nsBill(id: number, pdfBytes = 3000) {
  return {
    bill: { id, tranid: `VB-${id}`, vendorId: 77, vendorName: 'Acme Supplies', trandate: '2026-11-20', duedate: '2026-12-20', currency: 'USD', memo: 'month end', lines: [{ account: '6100 Office Supplies', amount: 120.5 }] },
    pdf: { name: `VB-${id}.pdf`, base64: samplePdf(`VB-${id}`, pdfBytes).toString('base64') },
  }
}

t.test('batches stay under the byte and count limits', async (t) => {
  const bills = Array.from({ length: 10 }, (_, i) => lib.buildBill(nsBill(i, 20_000).bill, nsBill(i, 20_000).pdf))
  const oneSize = JSON.stringify(bills[0]).length
  const batches = lib.splitIntoBatches(bills, { maxBytes: oneSize * 3 + 10, maxBills: 100 })
  t.same(batches.map((b: unknown[]) => b.length), [3, 3, 3, 1])
  t.same(lib.splitIntoBatches(bills, { maxBytes: 1e9, maxBills: 4 }).map((b: unknown[]) => b.length), [4, 4, 2])
  const huge = lib.buildBill(nsBill(99, 200_000).bill, nsBill(99, 200_000).pdf)
  t.same(lib.splitIntoBatches([bills[0], huge, bills[1]], { maxBytes: oneSize * 3 }).map((b: unknown[]) => b.length), [1, 1, 1], 'an oversized bill travels alone')
  t.equal(lib.batchIdFor(bills.slice(0, 3)), lib.batchIdFor(bills.slice(0, 3)), 'the same bills give the same batchId')
})

t.test('429 and 503 are retried after Retry-After; a long wait leaves the bills for the next run', async (t) => {
  const bills = [lib.buildBill(nsBill(1).bill, nsBill(1).pdf)]
  const waits: number[] = []
  const answers = [{ code: 429, headers: { 'Retry-After': '2' }, body: '{}' }, { code: 503, headers: { 'retry-after': '1' }, body: '{}' }, { code: 202, headers: {}, body: JSON.stringify({ items: [] }) }]
  const deps = { url: 'https://x', authorization: 'Bearer k', post: () => answers.shift(), wait: (ms: number) => waits.push(ms) }
  const sent = lib.postBatch(deps, bills)
  t.equal(sent.ok, true)
  t.same(waits, [2000, 1000], 'waited what the answers said')
  const patient = lib.postBatch({ ...deps, post: () => ({ code: 429, headers: { 'Retry-After': '120' }, body: '{}' }) }, bills)
  t.same({ ok: patient.ok, status: patient.status }, { ok: false, status: 429 }, 'two minutes is too long to wait inside NetSuite')
  const broken = lib.postBatch({ ...deps, post: () => ({ code: 401, headers: {}, body: '{"error":{"code":"UNAUTHENTICATED"}}' }) }, bills)
  t.equal(broken.ok, false)
  t.equal(broken.answer.error.code, 'UNAUTHENTICATED')
})

t.test('the Map/Reduce script end to end with fake N/ modules, its output accepted by a running billbridge', async (t) => {
  const runtime = await startTestRuntime(t, { ROLE: 'api' })
  const key = await mintKey(runtime, ['ingest'])
  const store = new Map([1, 2, 3].map((id) => [String(id), nsBill(id)]))
  const written: Array<{ id: string; values: Record<string, unknown> }> = []
  const posted: string[] = []
  const fake = {
    search: { Type: { VENDOR_BILL: 'vendorbill' }, Summary: { GROUP: 'group', MAX: 'max' }, create: (o: unknown) => o, createColumn: (o: unknown) => o },
    record: {
      Type: { VENDOR_BILL: 'vendorbill' },
      load: ({ id }: { id: string }) => {
        const { bill } = store.get(String(id))!
        const fields: Record<string, unknown> = { tranid: bill.tranid, entity: bill.vendorId, trandate: new Date(`${bill.trandate}T12:00:00`), duedate: new Date(`${bill.duedate}T12:00:00`), memo: bill.memo, otherrefnum: '' }
        const texts: Record<string, string> = { entity: bill.vendorName, currency: bill.currency }
        return {
          getValue: ({ fieldId }: { fieldId: string }) => fields[fieldId],
          getText: ({ fieldId }: { fieldId: string }) => texts[fieldId],
          getLineCount: () => bill.lines.length,
          getSublistText: ({ line }: { line: number }) => bill.lines[line]!.account,
          getSublistValue: ({ fieldId, line }: { fieldId: string; line: number }) => (fieldId === 'amount' ? bill.lines[line]!.amount : ''),
        }
      },
      submitFields: ({ id, values }: { id: string; values: Record<string, unknown> }) => written.push({ id, values }),
    },
    file: { load: ({ id }: { id: string }) => ({ name: store.get(id)!.pdf.name, getContents: () => store.get(id)!.pdf.base64 }) },
    https: {
      createSecureString: ({ input }: { input: string }) => ({ input, appendSecureString() {} }),
      post: (options: { body: string }) => {
        posted.push(options.body)
        return { code: 202, headers: {}, body: JSON.stringify({ items: (JSON.parse(options.body).bills as Array<{ externalId: string }>).map((b, index) => ({ index, externalId: b.externalId, transactionId: `tx-${b.externalId}`, status: 'queued' })) }) }
      },
    },
    runtime: { getCurrentScript: () => ({ getParameter: ({ name }: { name: string }) => (name === 'custscript_bb_url' ? runtime.url : null) }) },
    log: { error: () => {}, audit: () => {} },
  }
  const script = loadAmd('netsuite/billbridge_sender_mr.js', [fake.search, fake.record, fake.file, fake.https, fake.runtime, fake.log, lib])
  const input = script.getInputData()
  t.ok(JSON.stringify(input.filters).includes('custbody_bb_sent'), 'the search looks for unsent bills with a PDF')
  const mapped: string[] = []
  for (const id of store.keys()) {
    script.map({ value: JSON.stringify({ values: { 'GROUP(internalid)': { value: id }, 'MAX(internalid.file)': id } }), write: ({ value }: { value: string }) => mapped.push(value) })
  }
  script.reduce({ key: 'bills', values: mapped })
  t.equal(posted.length, 1, 'one batch for three small bills')
  t.same(written.map((w) => [w.id, w.values.custbody_bb_sent, w.values.custbody_bb_transaction_id]), [['1', true, 'tx-1'], ['2', true, 'tx-2'], ['3', true, 'tx-3']], 'the transaction ids are recorded on the bills')

  const real = await postBatch(runtime, posted[0]!, { key })
  t.equal(real.status, 202, 'billbridge accepts exactly what the script sends')
  t.equal(real.body.accepted, 3)
  t.same(real.body.items.map((i: { status: string }) => i.status), ['queued', 'queued', 'queued'])
  const again = await postBatch(runtime, posted[0]!, { key })
  t.same(again.body, real.body, 'a re-run after a NetSuite restart gets the same answer')
})
