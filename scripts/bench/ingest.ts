// Ingest benchmark: one batch of the most bills allowed with the smallest PDFs, one 500 MB batch, then
// batches of 100 bills × 300 KB PDFs against a running service (ROLE=api); and the machine's raw rate for the same bytes.
//   npm run bench -- ingest [--batches 20] [--bills 100] [--size 300kb] [--big-mb 500] [--many-bills 1000] [--concurrency 1]
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import readline from 'node:readline'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { openBenchDatabase } from '../lib/bench-database.ts'
import { parseSize, sampleBill } from '../lib/sample-bills.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'ingest'),
  options: {
    batches: { type: 'string', default: '20' },
    bills: { type: 'string', default: '100' },
    size: { type: 'string', default: '300kb' },
    'big-mb': { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '1' },
    'many-bills': { type: 'string', default: '1000' },
  },
})
const MB = 1024 * 1024
const { work, databaseUrl, key, close } = await openBenchDatabase('ingest')

/** A fresh service process, so that each single-request case measures its own RSS from the same start. */
async function startService() {
  const child = spawn(process.execPath, ['src/server.ts'], {
    env: { ...process.env, ROLE: 'api', PORT: '0', DATABASE_URL: databaseUrl, DATA_DIR: work, LOG_LEVEL: 'info', API_RATE_PER_MINUTE: '100000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string }
      if (entry.msg === 'billbridge started' && entry.url) resolve(entry.url)
    })
    child.on('exit', (code) => reject(new Error(`service exited with ${code}`)))
  })
  return { child, url }
}

async function stopService(child: ReturnType<typeof spawn>) {
  child.kill('SIGTERM')
  await new Promise((resolve) => child.on('exit', resolve))
}

let service = await startService()
let url = service.url

let peakRss = 0
const rssOf = async () => {
  const status = await fs.readFile(`/proc/${service.child.pid}/status`, 'utf8').catch(() => '')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024
}
const sampler = setInterval(async () => (peakRss = Math.max(peakRss, await rssOf())), 50)

// Bills are serialised once; each batch only swaps the externalId prefix in front of the cached rest.
const billCount = Number(values.bills)
const pdfBytes = parseSize(values.size)
const cached = Array.from({ length: billCount }, (_, i) => {
  const { externalId: _id, ...rest } = sampleBill({ index: i, prefix: 'BENCH', pdfBytes })
  return Buffer.from(JSON.stringify(rest).slice(1))
})
const batchBytes = cached.reduce((sum, b) => sum + b.length, 0)

function batch(tag: string): Readable {
  return Readable.from((function* () {
    yield Buffer.from(`{"batchId":"${tag}","bills":[`)
    for (let i = 0; i < cached.length; i++) {
      yield Buffer.from(`${i ? ',' : ''}{"externalId":"${tag}-${i}",`)
      yield cached[i]!
    }
    yield Buffer.from(']}')
  })())
}

async function post(body: Readable): Promise<{ ms: number; status: number }> {
  const started = performance.now()
  const res = await request(`${url}/v1/vendor-bills/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body })
  await res.body.dump()
  return { ms: performance.now() - started, status: res.statusCode }
}

const runTag = Date.now().toString(36)
// The most bills a batch may hold (MAX_BILLS_PER_BATCH) with the smallest PDF samplePdf makes: the most
// bill objects one request keeps in memory. The service starts fresh, so its RSS is this batch's alone.
const manyCount = Number(values['many-bills'])
const tinyBill = (() => {
  const { externalId: _id, ...rest } = sampleBill({ index: 0, prefix: 'TINY', pdfBytes: 0 })
  return Buffer.from(JSON.stringify(rest).slice(1))
})()
// The same count with the most text a bill may carry within the per-request cap on held fields (16 MB):
// a 2,000-character memo and 6 lines with 2,000-character descriptions.
const fatBill = (() => {
  const { externalId: _id, ...rest } = sampleBill({ index: 0, prefix: 'FAT', pdfBytes: 0 })
  const lines = Array.from({ length: 6 }, (_, i) => ({ account: '6100 Office Supplies', amount: '1.00', description: `${i}`.padEnd(2000, 'd') }))
  return Buffer.from(JSON.stringify({ ...rest, memo: 'm'.repeat(2000), lines }).slice(1))
})()
const manyBody = (count: number, tag: string, bill = tinyBill) => Readable.from((function* () {
  yield Buffer.from(`{"batchId":"${tag}","bills":[`)
  for (let i = 0; i < count; i++) yield Buffer.concat([Buffer.from(`${i ? ',' : ''}{"externalId":"${tag}-${i}",`), bill])
  yield Buffer.from(']}')
})())
peakRss = 0
const manyBaseline = await rssOf()
const manyResult = await post(manyBody(manyCount, `many-${runTag}`))
const manyPeak = peakRss
const overResult = await post(manyBody(manyCount * 10, `over-${runTag}`))
await stopService(service.child)
service = await startService()
url = service.url
peakRss = 0
const fatBaseline = await rssOf()
const fatResult = await post(manyBody(manyCount, `fat-${runTag}`, fatBill))
const fatPeak = peakRss
await stopService(service.child)
service = await startService()
url = service.url
// One big batch: peak RSS while about big-mb of JSON streams in.
const bigMb = Number(values['big-mb'])
const bigPdf = sampleBill({ index: 0, prefix: 'BIG', pdfBytes: 3.75 * MB })
const { externalId: _bigId, ...bigRest } = bigPdf
const bigBill = Buffer.from(JSON.stringify(bigRest).slice(1))
const bigCount = Math.ceil((bigMb * MB) / bigBill.length)
peakRss = 0
const baseline = await rssOf()
const bigResult = await post(Readable.from((function* () {
  yield Buffer.from(`{"batchId":"big-${runTag}","bills":[`)
  for (let i = 0; i < bigCount; i++) {
    yield Buffer.from(`${i ? ',' : ''}{"externalId":"big-${runTag}-${i}",`)
    yield bigBill
  }
  yield Buffer.from(']}')
})()))
const bigPeak = peakRss

peakRss = 0
await post(batch(`warm-${runTag}`))
const latencies: number[] = []
const batches = Number(values.batches)
const concurrency = Number(values.concurrency)
let next = 0
const started = performance.now()
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < batches) {
    const n = next++
    const { ms, status } = await post(batch(`b${n}-${runTag}`))
    if (status !== 202) throw new Error(`batch ${n}: HTTP ${status}`)
    latencies.push(ms)
  }
}))
const seconds = (performance.now() - started) / 1000
const ingestMBps = (batchBytes * batches) / MB / seconds
const steadyPeak = peakRss

clearInterval(sampler)

// The machine's raw rate on the same bytes: base64 decode + SHA-256 + write to disk; and the same with an
// fsync per file, which is what storing each PDF durably before the 202 costs.
const base64Text = cached.map((b) => JSON.parse(`{${b.toString()}`).attachment.contentBase64 as string)
async function rawRate(durable: boolean): Promise<number> {
  const started = performance.now()
  let bytes = 0
  for (let round = 0; round < 3; round++) {
    for (const [i, text] of base64Text.entries()) {
      const out = createWriteStream(path.join(work, `raw-${i}.bin`), { flush: durable })
      const hash = createHash('sha256')
      await pipeline(Readable.from((function* () {
        for (let at = 0; at < text.length; at += 64 * 1024) {
          const chunk = Buffer.from(text.slice(at, at + 64 * 1024), 'base64')
          hash.update(chunk)
          yield chunk
        }
      })()), out)
      hash.digest()
      bytes += text.length
    }
  }
  return bytes / MB / ((performance.now() - started) / 1000)
}
const rawMBps = await rawRate(false)
const durableMBps = await rawRate(true)

await stopService(service.child)
await close()

const sorted = [...latencies].sort((a, b) => a - b)
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(0)
const out = [
  `ingest: ${batches} batches × ${billCount} bills × ${values.size} PDFs (${(batchBytes / MB).toFixed(1)} MB of JSON per batch), concurrency ${concurrency}`,
  `  202 latency ms: p50 ${pct(50)}  p95 ${pct(95)}  p99 ${pct(99)}  max ${sorted.at(-1)!.toFixed(0)}`,
  `  throughput: ${ingestMBps.toFixed(1)} MB/s of request body`,
  `  raw rate (base64 decode + SHA-256 + disk write, same bytes): ${rawMBps.toFixed(1)} MB/s`,
  `  raw rate with an fsync per file: ${durableMBps.toFixed(1)} MB/s`,
  `  ratio ingest/raw: ${(ingestMBps / rawMBps).toFixed(2)}; ingest/raw-with-fsync: ${(ingestMBps / durableMBps).toFixed(2)}`,
  `  service peak RSS during the batches: ${(steadyPeak / MB).toFixed(0)} MB`,
  `most bills: ${manyCount} bills × ${tinyBill.length} bytes of JSON each (smallest PDF) in one request: HTTP ${manyResult.status} in ${(manyResult.ms / 1000).toFixed(1)} s; service RSS before ${(manyBaseline / MB).toFixed(0)} MB, peak ${(manyPeak / MB).toFixed(0)} MB; ${manyCount * 10} bills: HTTP ${overResult.status}`,
  `most bills with the most text: ${manyCount} bills × ${fatBill.length} bytes of JSON each (smallest PDF): HTTP ${fatResult.status} in ${(fatResult.ms / 1000).toFixed(1)} s; service RSS before ${(fatBaseline / MB).toFixed(0)} MB, peak ${(fatPeak / MB).toFixed(0)} MB`,
  `big batch: ${((bigCount * bigBill.length) / MB).toFixed(0)} MB in one request (${bigCount} bills): HTTP ${bigResult.status} in ${(bigResult.ms / 1000).toFixed(1)} s; service RSS before ${(baseline / MB).toFixed(0)} MB, peak ${(bigPeak / MB).toFixed(0)} MB`,
]
process.stdout.write(out.join('\n') + '\n')
