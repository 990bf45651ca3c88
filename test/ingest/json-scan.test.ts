import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { createBase64Decoder } from '../../src/ingest/base64-decoder.ts'
import { LongString, scanBatch, type BatchSink, type ScanOptions } from '../../src/ingest/json-scan.ts'

interface Recorded {
  events: string[]
  bills: Array<{ index: number; bill: Record<string, unknown>; streamed: boolean; content: string | null }>
  writes: string[]
}

function recorder(): { sink: BatchSink; seen: Recorded } {
  const seen: Recorded = { events: [], bills: [], writes: [] }
  const contents = new Map<number, string>()
  const sink: BatchSink = {
    billStart: (index) => void seen.events.push(`start ${index}`),
    attachmentStart(index) {
      seen.events.push(`attachment ${index}`)
      contents.set(index, '')
      return {
        write(text) {
          seen.writes.push(text)
          contents.set(index, contents.get(index)! + text)
        },
        end: () => void seen.events.push(`end ${index}`),
      }
    },
    async billEnd(index, bill, streamed) {
      seen.events.push(`bill ${index}`)
      seen.bills.push({ index, bill, streamed, content: contents.get(index) ?? null })
    },
  }
  return { sink, seen }
}

function split(body: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = []
  let at = 0
  for (const cut of [...cuts, body.length]) {
    chunks.push(body.subarray(at, cut))
    at = cut
  }
  return chunks
}

function pieces(body: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = []
  for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size))
  return chunks
}

async function scan(text: string | Buffer, chunking: number[] | number, options: Partial<ScanOptions> = {}) {
  const body = typeof text === 'string' ? Buffer.from(text) : text
  const chunks = typeof chunking === 'number' ? pieces(body, chunking) : split(body, chunking)
  const { sink, seen } = recorder()
  const result = await scanBatch((async function* () { yield* chunks })(), sink, { mode: 'batch', ...options })
  return { result, seen }
}

/** JSON.parse's view of a bill with numbers as { number } and contentBase64 taken out. */
function expectedBill(bill: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(bill), (_k, v: unknown) => (typeof v === 'number' ? { number: String(v) } : v))
  if (copy.attachment && typeof copy.attachment.contentBase64 === 'string') delete copy.attachment.contentBase64
  return copy
}

function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const BILL_A = {
  externalId: 'NS-1', billNumber: 'INV "1" / é ✓ 中文', vendor: { name: 'Acme\tSupplies', externalId: 'V-7' },
  lines: [{ account: '6100 Office', amount: 100.5 }, { account: 'x\\y', amount: '2.00' }],
  attachment: { fileName: 'a.pdf', contentBase64: 'JVBERi0xLjQK', contentType: 'application/pdf' },
  flags: [true, false, null], empty: {}, none: [], nested: [[1, [2, { deep: -3 }]]],
}
const BILL_B = { attachment: { contentBase64: 'QUJD\/RA==\n\u0041😀\uD83D\uDE00', fileName: 'b.pdf' }, externalId: 'NS-2', emoji: '😀 \uD83D\uDE00 ü' }
const BILL_C = { externalId: 'NS-3', attachment: { fileName: 'c.pdf', contentBase64: null } }
const BATCH = JSON.stringify({ note: { deep: [1, { x: 'y' }], s: 'a\\"b' }, batchId: 'B-1', bills: [BILL_A, BILL_B, BILL_C], trailing: 'ok' })

function checkBatch(t: Test, result: Awaited<ReturnType<typeof scan>>, label: string): boolean {
  const { result: r, seen } = result
  const ok = r.batchId === 'B-1' && r.billCount === 3 && seen.bills.length === 3
    && t.same(seen.bills.map((b) => b.bill), [BILL_A, BILL_B, BILL_C].map(expectedBill), `${label}: bills`)
    && seen.bills[0]!.content === BILL_A.attachment.contentBase64 && seen.bills[1]!.content === BILL_B.attachment.contentBase64
    && seen.bills.map((b) => b.streamed).join() === 'true,true,false'
    && !seen.writes.some((w) => /[\uD800-\uDBFF]$/.test(w))
  if (!ok) t.fail(`${label}: ${JSON.stringify({ r, events: seen.events })}`)
  return ok
}

t.test('a small batch gives the same bills at every single split, in 1-byte chunks and at random splits', async (t) => {
  const body = Buffer.from(BATCH)
  for (let cut = 0; cut <= body.length; cut++) if (!checkBatch(t, await scan(body, [cut]), `split at ${cut}`)) return
  if (!checkBatch(t, await scan(body, 1), '1-byte chunks')) return
  const next = random(7)
  for (let round = 0; round < 300; round++) {
    const cuts = Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * body.length)).sort((a, b) => a - b)
    if (!checkBatch(t, await scan(body, cuts), `random cuts ${cuts.join(',')}`)) return
  }
  const { result } = await scan(body, 64)
  t.same(result, { batchId: 'B-1', billCount: 3, bytes: body.length, ignoredKeys: ['note', 'trailing'] }, 'the result counts bills and bytes, and reports ignored keys')
})

t.test('fields come in any order: contentBase64 first, last, attachment anywhere', async (t) => {
  const attachmentOrders = [['fileName', 'contentType', 'contentBase64'], ['contentBase64', 'fileName', 'contentType'], ['contentType', 'contentBase64', 'fileName']]
  const values: Record<string, string> = { fileName: 'x.pdf', contentType: 'application/pdf', contentBase64: 'JVBERi0=' }
  for (const order of attachmentOrders) {
    const attachment = Object.fromEntries(order.map((k) => [k, values[k]]))
    for (const bill of [{ attachment, externalId: 'E', lines: [] }, { externalId: 'E', attachment, lines: [] }, { externalId: 'E', lines: [], attachment }]) {
      const { seen } = await scan(JSON.stringify({ bills: [bill], batchId: 'late' }), 3)
      t.same(seen.bills[0]!.bill, { externalId: 'E', lines: [], attachment: { fileName: 'x.pdf', contentType: 'application/pdf' } }, `${Object.keys(bill).join(',')} / ${order.join(',')}`)
      t.notOk('contentBase64' in (seen.bills[0]!.bill.attachment as object), 'contentBase64 is absent, not undefined')
      t.equal(seen.bills[0]!.content, 'JVBERi0=')
    }
  }
})

t.test('escapes, unicode and surrogate pairs are resolved whatever the split', async (t) => {
  const raw = '{"bills":[{"memo":"\\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\\u4E2D \\uD83D\\uDE00 é中😀","attachment":{"contentBase64":"QU\\/J\\u0044\\n\\uD83D\\uDE00=="}}]}'
  const body = Buffer.from(raw)
  const expected = JSON.parse(raw).bills[0]
  for (let cut = 0; cut <= body.length; cut++) {
    const { seen } = await scan(body, [cut, Math.min(cut + 3, body.length)])
    const ok = seen.bills[0]!.bill.memo === expected.memo && seen.bills[0]!.content === expected.attachment.contentBase64 && !seen.writes.some((w) => /[\uD800-\uDBFF]$/.test(w))
    if (!ok) return t.fail(`split at ${cut}: ${JSON.stringify(seen.bills[0])} ${JSON.stringify(seen.writes)}`)
  }
  t.pass('every split')
})

t.test('numbers keep their exact source text; "__proto__" is a key like any other', async (t) => {
  const { seen } = await scan('{"bills":[{"amount": 0.10, "big": 12345678901234567890, "neg": -1e3, "e": 1E+2, "z": 0, "__proto__": {"x": 1}}]}', 4)
  const bill = seen.bills[0]!.bill
  t.same({ ...bill }, { amount: { number: '0.10' }, big: { number: '12345678901234567890' }, neg: { number: '-1e3' }, e: { number: '1E+2' }, z: { number: '0' }, ['__proto__']: { x: { number: '1' } } })
  t.equal(Object.getPrototypeOf(bill), Object.prototype, 'the prototype is untouched')
  t.ok(Object.hasOwn(bill, '__proto__'))
})

t.test('single mode: the body is one bill, reported as index 0', async (t) => {
  const { result, seen } = await scan(`  ${JSON.stringify(BILL_B)}\n`, 1, { mode: 'single' })
  t.same(result, { billCount: 1, bytes: Buffer.byteLength(JSON.stringify(BILL_B)) + 3, ignoredKeys: [] })
  t.same(seen.events, ['start 0', 'attachment 0', 'end 0', 'bill 0'])
  t.same(seen.bills[0]!.bill, expectedBill(BILL_B))
  t.equal(seen.bills[0]!.content, BILL_B.attachment.contentBase64)
})

t.test('several bills reach the sink in order; every sink promise is awaited before the scanner reads on', async (t) => {
  const log: string[] = []
  let busy = false
  const slow = async (what: string) => {
    t.notOk(busy, `${what}: nothing else runs meanwhile`)
    busy = true
    await new Promise((resolve) => setTimeout(resolve, 1))
    log.push(what)
    busy = false
  }
  const sink: BatchSink = {
    billStart: (i) => void (t.notOk(busy), log.push(`start ${i}`)),
    attachmentStart: (i) => {
      t.notOk(busy)
      log.push(`attachment ${i}`)
      return { write: () => slow(`write ${i}`), end: () => slow(`end ${i}`) }
    },
    billEnd: (i, _bill, streamed) => slow(`bill ${i} ${streamed}`),
  }
  const bills = [0, 1, 2, 3].map((i) => (i === 2 ? { externalId: `E${i}` } : { externalId: `E${i}`, attachment: { contentBase64: 'QUJD'.repeat(10) } }))
  const body = Buffer.from(JSON.stringify({ bills }))
  await scanBatch((async function* () { yield* pieces(body, 16) })(), sink, { mode: 'batch' })
  const order = log.filter((l) => !l.startsWith('write'))
  t.same(order, ['start 0', 'attachment 0', 'end 0', 'bill 0 true', 'start 1', 'attachment 1', 'end 1', 'bill 1 true', 'start 2', 'bill 2 false', 'start 3', 'attachment 3', 'end 3', 'bill 3 true'])
  t.ok(log.indexOf('write 0') > log.indexOf('attachment 0') && log.lastIndexOf('write 0') < log.indexOf('end 0'), 'writes come between start and end')
})

const ERRORS: Array<[string, string, RegExp, number]> = [
  ['', 'MALFORMED_JSON', /body is empty/, 0],
  [' \n ', 'MALFORMED_JSON', /body is empty/, 3],
  ['{"bills": [', 'MALFORMED_JSON', /ends before the document is complete at byte 11/, 11],
  ['{"bills": []} x', 'MALFORMED_JSON', /unexpected data after the end/, 14],
  ['{"bills": []}{}', 'MALFORMED_JSON', /unexpected data after the end/, 13],
  ['<xml/>', 'MALFORMED_JSON', /expected a JSON value/, 0],
  ['{"bills": [{"a": tru}]}', 'MALFORMED_JSON', /"tru" is not a JSON value/, 17],
  ['{"bills": [{"a": 01}]}', 'MALFORMED_JSON', /"01" is not a JSON value/, 17],
  ['{"bills": [{"a": -}]}', 'MALFORMED_JSON', /"-" is not a JSON value/, 17],
  ['{"bills": [{"a" 1}]}', 'MALFORMED_JSON', /expected ":" after an object key/, 16],
  ['{"bills": [{"a": 1,}]}', 'MALFORMED_JSON', /expected a quoted object key at/, 19],
  ['{"bills": [{"a": 1 "b": 2}]}', 'MALFORMED_JSON', /expected "," or "}"/, 19],
  ['{"bills": [{}, ]}', 'MALFORMED_JSON', /expected a JSON value/, 15],
  ['{"bills": [{"a": [1,]}]}', 'MALFORMED_JSON', /expected a JSON value/, 20],
  ['{"bills": [{"a": [1}]}', 'MALFORMED_JSON', /expected "," or "]"/, 19],
  ['{"bills": [{ 1: 2}]}', 'MALFORMED_JSON', /expected a quoted object key or "}"/, 13],
  ['{"bills": [{"a": "x\u0001y"}]}', 'MALFORMED_JSON', /control character inside a string/, 19],
  ['{"bills": [{"a": "x\ny"}]}', 'MALFORMED_JSON', /control character inside a string/, 19],
  ['{"bills": [{"attachment": {"contentBase64": "QU\nJD"}}]}', 'MALFORMED_JSON', /control character inside a string/, 47],
  ['{"bills": [{"a": "\\x"}]}', 'MALFORMED_JSON', /invalid escape "\\\\x"/, 18],
  ['{"bills": [{"a": "\\u12G4"}]}', 'MALFORMED_JSON', /invalid escape "\\\\u12G4"/, 18],
  ['{"bills": [{"attachment": {"contentBase64": "AB\\q"}}]}', 'MALFORMED_JSON', /invalid escape/, 47],
  ['{"x": "\\x"}', 'MALFORMED_JSON', /invalid escape/, 7],
  ['{"x": "a\u0002", "bills": []}', 'MALFORMED_JSON', /control character/, 8],
  ['not json', 'INVALID_ENVELOPE', /must be a JSON object/, 0],
  ['[]', 'INVALID_ENVELOPE', /must be a JSON object/, 0],
  ['"bills"', 'INVALID_ENVELOPE', /must be a JSON object/, 0],
  ['{"bills": {}}', 'INVALID_ENVELOPE', /"bills" must be an array/, 10],
  ['{"bills": null}', 'INVALID_ENVELOPE', /"bills" must be an array/, 10],
  ['{"batchId": 5, "bills": []}', 'INVALID_ENVELOPE', /"batchId" must be a string/, 12],
  ['{"batchId": "x"}', 'INVALID_ENVELOPE', /no "bills" array/, 15],
  ['{"bills": [], "bills": []}', 'INVALID_ENVELOPE', /"bills" twice/, 23],
  ['{"bills": [{}, 1]}', 'INVALID_ENVELOPE', /bills\[1\] must be a JSON object/, 15],
  ['{"bills": [[]]}', 'INVALID_ENVELOPE', /bills\[0\] must be a JSON object/, 11],
  ['{"bills": [{"attachment": {"contentBase64": "AA", "contentBase64": "BB"}}]}', 'INVALID_ENVELOPE', /attachment.contentBase64 twice/, 67],
  ['{"bills": [{"a":' + '['.repeat(40) + ']'.repeat(40) + '}]}', 'INVALID_ENVELOPE', /nested deeper than 32 levels/, 45],
  [`{"bills": [{"memo": "${'x'.repeat(70_000)}"}]}`, 'INVALID_ENVELOPE', /longer than 65536 bytes \(at bills\[0\]\.memo\)/, 20],
  [`{"batchId": "${'b'.repeat(201)}", "bills": []}`, 'INVALID_ENVELOPE', /"batchId" is longer than 200/, 12],
  [`{"bills": [{"n": ${'9'.repeat(65)}}]}`, 'INVALID_ENVELOPE', /number or literal is longer than 64/, 17],
]

t.test('errors carry stable codes and the byte offset of the problem, whatever the chunking', async (t) => {
  for (const [text, code, message, offset] of ERRORS) {
    for (const chunking of [1, 3, 1 << 20]) {
      const err = await scan(text, chunking).then(() => null, (e: unknown) => e)
      const label = `${text.slice(0, 50)} in ${chunking}-byte chunks`
      t.match(err, { code, message, statusCode: 400, details: { offset } }, label)
    }
  }
  t.match(await scan('{"memo": "x"}', 5, { mode: 'single' }).then(() => null), null, 'single mode accepts a bill')
  await t.rejects(scan('[{}]', 5, { mode: 'single' }), { code: 'INVALID_ENVELOPE', message: /one bill as a JSON object/ })
})

t.test('invalid UTF-8 is malformed JSON, wherever the string is', async (t) => {
  for (const [before, after] of [['{"bills": [{"a": "x', '"}]}'], ['{"z": "x', '", "bills": []}'], ['{"bills": [{"', '": 1}]}'], ['{"bills": [{"attachment": {"contentBase64": "', '"}}]}']]) {
    for (const bad of [[0xff], [0xc3], [0xe4, 0xb8], [0xed, 0xa0, 0x80]]) {
      const body = Buffer.concat([Buffer.from(before!), Buffer.from(bad), Buffer.from(after!)])
      await t.rejects(scan(body, 2), { code: 'MALFORMED_JSON', message: /invalid UTF-8 in the string that starts at byte/ }, `${before} ${bad.join(',')}`)
    }
  }
})

t.test('caps keep a hostile bill from holding memory', async (t) => {
  const many = JSON.stringify({ bills: [{ lines: Array.from({ length: 40_000 }, (_, i) => ({ account: `a${i}`, amount: '1.00' })) }] })
  await t.rejects(scan(many, 65536), { code: 'INVALID_ENVELOPE', message: /bills\[0\] is larger than 1048576 bytes/ })
  const ok = await scan(many, 65536, { maxBillBytes: 8 * 1024 * 1024 })
  t.equal((ok.seen.bills[0]!.bill.lines as unknown[]).length, 40_000, 'the cap is an option')
  await t.rejects(scan('{"bills": [{"memo": "123456789"}]}', 4, { maxStringBytes: 8 }), { message: /longer than 8 bytes/ })
  await t.rejects(scan('{"bills": [{"a": [[]]}]}', 4, { maxDepth: 4 }), { message: /nested deeper than 4/ })
  const skipped = await scan(`{"junk": "${'x'.repeat(200_000)}", "bills": []}`, 4096)
  t.same(skipped.result.ignoredKeys, ['junk'], 'a long string under an ignored key is read through, never kept')
})

t.test('a long run of escapes outside contentBase64 is scanned in linear time', async (t) => {
  const run = '\\\\'.repeat(1_500_000)
  const { result } = await scan(`{"junk": "${run}", "junk2": "${'\\/'.repeat(1_500_000)}", "bills": []}`, 65536)
  t.equal(result.billCount, 0)
  const body = Buffer.from(`{"bills":[{"attachment":{"contentBase64":"${'QUJD\\/\\/'.repeat(400_000)}"}}]}`)
  const { seen } = await scan(body, 65536)
  t.equal(seen.bills[0]!.content!.length, 400_000 * 6, 'escaped "/" in contentBase64 (PHP-style encoders) resolve')
})

t.test('a 50 MB contentBase64 streams through in 64 KiB chunks in bounded memory', async (t) => {
  const block = Buffer.alloc(3 * 16 * 1024)
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24
  const blocks = Math.ceil((50 * 1024 * 1024) / 4 / (block.length / 3))
  const expected = createHash('sha256')
  const actual = createHash('sha256')
  const decoder = createBase64Decoder()
  let writes = 0
  async function* encoded() {
    yield Buffer.from('{"bills":[{"externalId":"big","attachment":{"fileName":"big.pdf","contentBase64":"')
    for (let i = 0; i < blocks; i++) {
      block.writeUInt32BE(i, 0)
      expected.update(block)
      yield Buffer.from(block.toString('base64'))
    }
    yield Buffer.from('"}}]}')
  }
  async function* body() {
    let pending = Buffer.alloc(0)
    for await (const part of encoded()) {
      pending = Buffer.concat([pending, part])
      while (pending.length >= 65536) {
        yield pending.subarray(0, 65536)
        pending = pending.subarray(65536)
      }
    }
    yield pending
  }
  const sink: BatchSink = {
    billStart() {},
    attachmentStart: () => ({ write: (text) => void (writes++, actual.update(decoder.push(text))), end: () => void actual.update(decoder.end()) }),
    billEnd: async () => {},
  }
  const before = process.memoryUsage().rss
  const result = await scanBatch(body(), sink, { mode: 'batch' })
  const growth = (process.memoryUsage().rss - before) / 1024 / 1024
  t.equal(result.billCount, 1)
  t.ok(result.bytes > 50 * 1024 * 1024)
  t.ok(writes > 700, `the content arrived in ${writes} pieces, never whole`)
  t.equal(actual.digest('hex'), expected.digest('hex'), 'the decoded bytes hash the same')
  t.ok(growth < 100, `RSS grew ${growth.toFixed(1)} MB`)
})

t.test('the bills kept over a whole body are capped, so held bills cannot grow without bound', async (t) => {
  const body = JSON.stringify({ bills: Array.from({ length: 50 }, (_, i) => ({ externalId: `E-${i}`, memo: 'm'.repeat(1000) })) })
  const ok = await scan(body, 4096, { maxKeptBytes: 200_000 })
  t.equal(ok.result.billCount, 50, 'under the cap every bill is read')
  await t.rejects(scan(body, 4096, { maxKeptBytes: 20_000 }), { code: 'BATCH_TOO_LARGE', statusCode: 413 })
})

t.test('markLongStrings: a string over the cap inside a bill is read through and given as a LongString', async (t) => {
  const memo = 'm'.repeat(70_000)
  // 40,000 backslashes, written as 80,000 bytes of escapes, with a two-byte and a three-byte character around them
  const escaped = `é${'\\'.repeat(40_000)}"\u2713`
  const body = JSON.stringify({ batchId: 'L-1', bills: [{ externalId: 'A', memo }, { externalId: 'B', lines: [{ description: escaped, amount: '1.00' }] }] })
  const expectedHash = (text: string) => createHash('sha256').update(text, 'utf16le').digest('hex')
  for (const chunking of [1, 7, 4096, 1 << 20]) {
    const { result, seen } = await scan(body, chunking, { markLongStrings: true })
    t.equal(result.billCount, 2, `${chunking}-byte chunks: both bills`)
    const long = seen.bills[0]!.bill.memo
    t.ok(long instanceof LongString, 'the memo is a LongString')
    t.same({ ...(long as LongString) }, { bytes: 70_000, sha256: expectedHash(memo) }, 'its source length and the hash of its text')
    t.equal(seen.bills[0]!.bill.externalId, 'A', 'the other fields are kept')
    const description = (seen.bills[1]!.bill.lines as Array<Record<string, unknown>>)[0]!.description as LongString
    // Escapes and multi-byte characters split anywhere still hash as the text they stand for.
    t.equal(description.sha256, expectedHash(escaped), 'escaped text hashes as its characters')
    t.equal(description.bytes, Buffer.byteLength(JSON.stringify(escaped)) - 2, 'bytes count the escapes as written')
  }
  const other = await scan(body.replace('mmm', 'mmx'), 4096, { markLongStrings: true })
  t.not((other.seen.bills[0]!.bill.memo as LongString).sha256, expectedHash(memo), 'another text, another hash')
})

t.test('markLongStrings: a long key inside a bill is named by its start; outside bills a long string still fails the body', async (t) => {
  const { seen } = await scan(JSON.stringify({ bills: [{ [`k${'e'.repeat(70_000)}`]: 1, externalId: 'A' }] }), 4096, { markLongStrings: true })
  t.same(Object.keys(seen.bills[0]!.bill), [`k${'e'.repeat(63)}…`, 'externalId'])
  await t.rejects(scan(`{"batchId": "${'b'.repeat(70_000)}", "bills": []}`, 4096, { markLongStrings: true }), { code: 'INVALID_ENVELOPE', message: /longer than 65536 bytes \(at batchId\)/ })
  await t.rejects(scan(`{"junk": "${'x'.repeat(70_000)}", "bills": []}`, 4096, { markLongStrings: true, strictEnvelope: true }), { code: 'UNKNOWN_FIELD' })
  await t.rejects(scan(`{"bills": [{"memo": "${'x'.repeat(70_000)}\u0001"}]}`, 4096, { markLongStrings: true }), { code: 'MALFORMED_JSON' }, 'a string read through is still checked as JSON')
  const capped = await scan(JSON.stringify({ bills: Array.from({ length: 20 }, () => ({ memo: 'x'.repeat(70_000) })) }), 65536, { markLongStrings: true, maxKeptBytes: 20_000 })
  t.equal(capped.result.billCount, 20, 'a string read through counts nothing towards the kept bytes')
})

t.test('markLongStrings: a 50 MB memo is read through in bounded memory', async (t) => {
  const piece = Buffer.alloc(65536, 'abcdefgh')
  async function* body() {
    yield Buffer.from('{"bills":[{"externalId":"big","memo":"')
    for (let i = 0; i < 800; i++) yield piece
    yield Buffer.from('"}]}')
  }
  global.gc?.()
  const before = process.memoryUsage().rss
  const { sink, seen } = recorder()
  const result = await scanBatch(body(), sink, { mode: 'batch', markLongStrings: true })
  const growth = (process.memoryUsage().rss - before) / 1024 / 1024
  t.equal(result.billCount, 1)
  t.equal((seen.bills[0]!.bill.memo as LongString).bytes, 800 * 65536)
  t.ok(growth < 40, `RSS grew ${growth.toFixed(1)} MB while a 50 MB memo was read`)
})

t.test('batchId: empty or blank is BATCH_ID_INVALID wherever it sits; twice is refused', async (t) => {
  for (const text of ['{"batchId": "", "bills": []}', '{"bills": [{"externalId": "A"}], "batchId": " \\t "}']) {
    for (const chunking of [1, 4096]) await t.rejects(scan(text, chunking), { code: 'BATCH_ID_INVALID', statusCode: 400 }, text)
  }
  await t.rejects(scan('{"batchId": "a", "bills": [], "batchId": "b"}', 4096), { code: 'INVALID_ENVELOPE', message: /"batchId" twice/ })
  t.equal((await scan('{"batchId": " a ", "bills": []}', 4096)).result.batchId, ' a ', 'an id with text in it is kept as sent')
})
