import { createHash } from 'node:crypto'
import t from 'tap'
import { scanBatch, type BatchSink } from '../../src/ingest/json-scan.ts'
import { createBase64Decoder } from '../../src/ingest/base64-decoder.ts'

interface Seen {
  bills: Array<{ index: number; bill: Record<string, unknown>; content: string | null }>
}

function recorder(): { sink: BatchSink; seen: Seen } {
  const seen: Seen = { bills: [] }
  const contents = new Map<number, string>()
  const sink: BatchSink = {
    billStart() {},
    attachmentStart(index) {
      contents.set(index, '')
      return { write: (text) => void contents.set(index, contents.get(index)! + text), end: () => {} }
    },
    async billEnd(index, bill) {
      seen.bills.push({ index, bill, content: contents.get(index) ?? null })
    },
  }
  return { sink, seen }
}

async function scan(text: string, pieces: number[] | number, mode: 'batch' | 'single' = 'batch') {
  const body = Buffer.from(text)
  const chunks: Buffer[] = []
  if (typeof pieces === 'number') for (let i = 0; i < body.length; i += pieces) chunks.push(body.subarray(i, i + pieces))
  else {
    let at = 0
    for (const cut of [...pieces, body.length]) {
      chunks.push(body.subarray(at, cut))
      at = cut
    }
  }
  const { sink, seen } = recorder()
  const result = await scanBatch((async function* () { yield* chunks })(), sink, { mode })
  return { result, seen }
}

/** JSON.parse's view of a bill with numbers as source text and contentBase64 taken out, for comparison. */
function expectedBill(bill: any): any {
  const copy = JSON.parse(JSON.stringify(bill), (_k, v) => (typeof v === 'number' ? { number: String(v) } : v))
  if (copy.attachment && typeof copy.attachment === 'object') delete copy.attachment.contentBase64
  return copy
}

const BILL_A = { externalId: 'NS-1', billNumber: 'INV "1" / é ✓', vendor: { name: 'Acme', externalId: 'V-7' }, lines: [{ account: '6100 Office', amount: 100.5 }, { account: 'x', amount: '2.00' }], attachment: { fileName: 'a.pdf', contentBase64: 'JVBERi0xLjQK', contentType: 'application/pdf' }, flags: [true, false, null], empty: {}, none: [] }
const BILL_B = { attachment: { contentBase64: 'QUJD\/RA==\n', fileName: 'b.pdf' }, externalId: 'NS-2', emoji: '😀 \uD83D\uDE00' }

t.test('every split of a small batch gives the same bills', async (t) => {
  const text = JSON.stringify({ note: { deep: [1, { x: 'y' }] }, batchId: 'B-1', bills: [BILL_A, BILL_B], trailing: 'ok' })
  for (let cut = 0; cut <= Buffer.byteLength(text); cut++) {
    const { result, seen } = await scan(text, [cut])
    if (result.batchId !== 'B-1' || seen.bills.length !== 2) {
      t.fail(`split at ${cut}`)
      return
    }
    t.same(seen.bills[0]!.bill, expectedBill(BILL_A), `split at ${cut}: bill A`)
    t.same(seen.bills[1]!.bill, expectedBill(BILL_B), `split at ${cut}: bill B`)
    t.equal(seen.bills[0]!.content, 'JVBERi0xLjQK')
    t.equal(seen.bills[1]!.content, 'QUJD/RA==\n', 'escapes in contentBase64 resolved')
  }
})

t.test('one-byte chunks, single mode, fields in any order', async (t) => {
  const { result, seen } = await scan(JSON.stringify(BILL_B), 1, 'single')
  t.equal(result.billCount, 1)
  t.same(seen.bills[0]!.bill, expectedBill(BILL_B))
  t.equal(seen.bills[0]!.content, 'QUJD/RA==\n')
})

t.test('numbers keep their exact source text', async (t) => {
  const { seen } = await scan('{"bills":[{"amount": 0.10, "big": 12345678901234567890, "neg": -1e3}]}', 4)
  t.same(seen.bills[0]!.bill, { amount: { number: '0.10' }, big: { number: '12345678901234567890' }, neg: { number: '-1e3' } })
})

t.test('errors carry stable codes and byte offsets', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['', 'MALFORMED_JSON', /empty/],
    ['{"bills": [', 'MALFORMED_JSON', /ends before/],
    ['{"bills": []} x', 'MALFORMED_JSON', /after the end/],
    ['{"bills": [01]}', 'INVALID_ENVELOPE', /bills\[0\] must be a JSON object/],
    ['{"bills": [{"a": tru}]}', 'MALFORMED_JSON', /"tru" is not a JSON value/],
    ['{"bills": [{"a" 1}]}', 'MALFORMED_JSON', /expected ":"/],
    ['{"bills": [{"a": 1,}]}', 'MALFORMED_JSON', /quoted object key/],
    ['{"bills": [{"a": "\u0001"}]}', 'MALFORMED_JSON', /control character/],
    ['[]', 'INVALID_ENVELOPE', /must be a JSON object/],
    ['{"bills": {}}', 'INVALID_ENVELOPE', /must be an array/],
    ['{"batchId": 5, "bills": []}', 'INVALID_ENVELOPE', /batchId/],
    ['{"batchId": "x"}', 'INVALID_ENVELOPE', /no "bills"/],
    ['{"bills": [{"attachment": {"contentBase64": "AA", "contentBase64": "BB"}}]}', 'INVALID_ENVELOPE', /twice/],
    [`{"bills": [{"memo": "${'x'.repeat(70_000)}"}]}`, 'INVALID_ENVELOPE', /longer than/],
    ['{"bills": [' + '['.repeat(40) + ']'.repeat(40) + ']}', 'INVALID_ENVELOPE', /bills\[0\] must be a JSON object/],
    ['{"bills": [{"a":' + '['.repeat(40) + ']'.repeat(40) + '}]}', 'INVALID_ENVELOPE', /nesting deeper/],
  ]
  for (const [text, code, message] of cases) {
    await t.rejects(scan(text, 3), { code, message }, `${text.slice(0, 40)} → ${code}`)
  }
  const err = await scan('{"bills": [{"a" 1}]}', 100).catch((e) => e)
  t.equal(err.details.offset, 16, 'the offset points at the problem')
})

t.test('a 50 MB contentBase64 streams through in bounded memory', async (t) => {
  const piece = Buffer.alloc(48 * 1024, 'QUJD').toString()
  const pieces = Math.ceil((50 * 1024 * 1024) / piece.length)
  const expected = createHash('sha256')
  const actual = createHash('sha256')
  const decoder = createBase64Decoder()
  const before = process.memoryUsage().rss
  async function* body() {
    yield Buffer.from('{"bills":[{"externalId":"big","attachment":{"fileName":"big.pdf","contentBase64":"')
    for (let i = 0; i < pieces; i++) {
      expected.update(Buffer.from(piece, 'base64'))
      yield Buffer.from(piece)
    }
    yield Buffer.from('"}}]}')
  }
  const sink: BatchSink = {
    billStart() {},
    attachmentStart: () => ({ write: (text) => void actual.update(decoder.push(text)), end: () => void actual.update(decoder.end()) }),
    billEnd: async () => {},
  }
  const result = await scanBatch(body(), sink, { mode: 'batch' })
  t.equal(result.billCount, 1)
  t.equal(actual.digest('hex'), expected.digest('hex'), 'the decoded bytes hash the same')
  const growth = (process.memoryUsage().rss - before) / 1024 / 1024
  t.ok(growth < 100, `RSS grew ${growth.toFixed(1)} MB`)
})
