// Parser benchmark: a ~300 MB batch (100 bills × 3 MB of base64) through json-scan and through stream-json,
// each followed by the streaming base64 decoder and SHA-256, next to the machine's raw base64 + SHA-256 rate.
// No disk, no HTTP: the body is served from memory in 64 KiB chunks that share one encoded PDF.
//   npm run bench -- parser [--bills 100] [--size 3mb] [--rounds 3]
import { createHash } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import { parseArgs } from 'node:util'
import streamJson from 'stream-json/parser.js'
import { jsonParser } from 'stream-json/core/parser.js'
import { createBase64Decoder, type Base64Decoder } from '../../src/ingest/base64-decoder.ts'
import { scanBatch, type BatchSink } from '../../src/ingest/json-scan.ts'
import { parseSize, sampleBill, samplePdf } from '../lib/sample-bills.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'parser'),
  options: { bills: { type: 'string', default: '100' }, size: { type: 'string', default: '3mb' }, rounds: { type: 'string', default: '3' } },
})
const MB = 1024 * 1024
const CHUNK = 64 * 1024
const billCount = Number(values.bills)
const rounds = Number(values.rounds)
const pdf = samplePdf('BENCH', Math.floor((parseSize(values.size) * 3) / 4))
const base64 = Buffer.from(pdf.toString('base64'))
const expectedDigest = createHash('sha256').update(pdf).digest('hex')
const bodyBytes = [...body()].reduce((n, c) => n + c.length, 0)

/** The batch as 64 KiB chunks; every bill's contentBase64 is a view of the same encoded PDF. */
function* body(): Generator<Buffer> {
  yield Buffer.from('{"batchId":"bench","bills":[')
  for (let i = 0; i < billCount; i++) {
    const bill = sampleBill({ index: i, prefix: 'BENCH', pdfBytes: 1000 })
    const [head, tail] = JSON.stringify({ ...bill, attachment: { ...bill.attachment, contentBase64: '@' } }).split('"@"') as [string, string]
    const headBytes = Buffer.from(`${i === 0 ? '' : ','}${head}"`)
    yield headBytes
    // The first piece tops the head up to a whole chunk, so chunk edges fall anywhere in a group of 4.
    let at = CHUNK - headBytes.length
    yield base64.subarray(0, at)
    for (; at < base64.length; at += CHUNK) yield base64.subarray(at, at + CHUNK)
    yield Buffer.from(`"${tail}`)
  }
  yield Buffer.from(']}')
}

async function* source(): AsyncGenerator<Buffer> {
  yield* body()
}

/** One PDF's way through: decode the base64 text as it comes, hash the bytes. */
class HashedAttachment {
  private readonly decoder: Base64Decoder = createBase64Decoder()
  private readonly hash = createHash('sha256')
  private readonly digests: string[]

  constructor(digests: string[]) {
    this.digests = digests
  }

  write(text: string): void {
    this.hash.update(this.decoder.push(text))
  }

  end(): void {
    this.hash.update(this.decoder.end())
    this.digests.push(this.hash.digest('hex'))
  }
}

async function rawRate(digests: string[]): Promise<void> {
  for (let i = 0; i < billCount; i++) {
    const hash = createHash('sha256')
    for (let at = 0; at < base64.length; at += CHUNK) hash.update(Buffer.from(base64.toString('latin1', at, at + CHUNK), 'base64'))
    digests.push(hash.digest('hex'))
  }
}

async function jsonScan(digests: string[], decode: boolean): Promise<void> {
  const sink: BatchSink = {
    billStart() {},
    attachmentStart: () => (decode ? new HashedAttachment(digests) : { write() {}, end: () => void digests.push(expectedDigest) }),
    billEnd: async () => {},
  }
  await scanBatch(source(), sink, { mode: 'batch' })
}

const STREAM_JSON_OPTIONS = { packKeys: true, streamKeys: false, packStrings: false, streamStrings: true, packNumbers: true, streamNumbers: false }

/** Follows stream-json's tokens to attachment.contentBase64; its string pieces (≤ 256 characters) are joined per batch of tokens. */
function tokenConsumer(digests: string[], decode: boolean) {
  let key = ''
  let attachment: HashedAttachment | null = null
  let inContent = false
  let pieces: string[] = []
  const flush = () => {
    if (pieces.length > 0 && attachment) attachment.write(pieces.join(''))
    pieces = []
  }
  return {
    token(token: { name: string; value?: unknown }): void {
      switch (token.name) {
        case 'keyValue':
          key = token.value as string
          return
        case 'startString':
          inContent = key === 'contentBase64'
          if (inContent) attachment = decode ? new HashedAttachment(digests) : null
          return
        case 'stringChunk':
          if (inContent && decode) pieces.push(token.value as string)
          return
        case 'endString':
          if (!inContent) return
          flush()
          if (attachment) attachment.end()
          else digests.push(expectedDigest)
          inContent = false
          return
      }
    },
    flush,
  }
}

/** stream-json's tokenizer called directly: its best case, no stream machinery between chunks. */
async function streamJsonTokenizer(digests: string[], decode: boolean): Promise<void> {
  const parse = jsonParser(STREAM_JSON_OPTIONS) as unknown as (text: string | symbol) => { values?: Array<{ name: string; value?: unknown }> } | symbol
  const utf8 = new StringDecoder('utf8')
  const consumer = tokenConsumer(digests, decode)
  for await (const chunk of source()) {
    const out = parse(utf8.write(chunk))
    if (typeof out === 'object' && out.values) for (const token of out.values) consumer.token(token)
    consumer.flush()
  }
  parse(Symbol.for('object-stream.none'))
}

/** stream-json as documented: parser.asStream(), tokens read from the Duplex. */
async function streamJsonDuplex(digests: string[], decode: boolean): Promise<void> {
  const stream = streamJson.asStream(STREAM_JSON_OPTIONS)
  const consumer = tokenConsumer(digests, decode)
  const feeding = (async () => {
    for await (const chunk of source()) if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve))
    stream.end()
  })()
  let count = 0
  for await (const token of stream) {
    consumer.token(token as { name: string; value?: unknown })
    if (++count % 256 === 0) consumer.flush()
  }
  await feeding
}

const runs: Array<[string, (digests: string[]) => Promise<void>]> = [
  ['raw: Buffer.from(base64) + SHA-256', rawRate],
  ['json-scan + decoder + SHA-256', (d) => jsonScan(d, true)],
  ['stream-json tokenizer + decoder + SHA-256', (d) => streamJsonTokenizer(d, true)],
  ['stream-json Duplex + decoder + SHA-256', (d) => streamJsonDuplex(d, true)],
  ['json-scan alone (parse only)', (d) => jsonScan(d, false)],
  ['stream-json tokenizer alone (parse only)', (d) => streamJsonTokenizer(d, false)],
  ['stream-json Duplex alone (parse only)', (d) => streamJsonDuplex(d, false)],
]

const rows: string[] = []
for (const [name, run] of runs) {
  const times: number[] = []
  let digestsOk = true
  for (let r = 0; r < rounds; r++) {
    const digests: string[] = []
    const started = performance.now()
    await run(digests)
    times.push((performance.now() - started) / 1000)
    digestsOk &&= digests.length === billCount && digests.every((d) => d === expectedDigest)
  }
  times.sort((a, b) => a - b)
  const median = times[Math.floor(times.length / 2)]!
  rows.push(`${name.padEnd(44)} ${(bodyBytes / MB / median).toFixed(0).padStart(6)} ${median.toFixed(2).padStart(7)}   ${digestsOk ? 'ok' : 'WRONG'}`)
  process.stderr.write(`${rows.at(-1)}\n`)
}

process.stdout.write([
  `parser: ${billCount} bills × ${(base64.length / MB).toFixed(1)} MB base64 = ${(bodyBytes / MB).toFixed(1)} MB body in 64 KiB chunks, median of ${rounds}, Node ${process.version}`,
  `${'pipeline'.padEnd(44)} ${'MB/s'.padStart(6)} ${'s/run'.padStart(7)}   SHA-256`,
  ...rows,
].join('\n') + '\n')
