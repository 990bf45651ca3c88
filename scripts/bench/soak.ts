// Month-end soak: one service process (ROLE=all: API and workers) takes N bills in batches of 100 while it
// delivers them to the Zoho sandbox at a high limit; its RSS is sampled every few seconds, printed as a
// series, and drawn as an SVG. Budget: RSS growth under 5% after warm-up.
//   npm run bench -- soak [--bills 50000] [--pdf-kb 40] [--rate 10000] [--sample-seconds 5] [--out bench-output]
import fs from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { startZohoSandbox } from '../../src/sandbox/server.ts'
import { batchBody, sampleBill } from '../lib/sample-bills.ts'
import { openBenchDatabase } from '../lib/bench-database.ts'
import { sandboxServiceEnv, startServiceProcess, stopServiceProcess } from '../lib/service-process.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'soak'),
  options: {
    bills: { type: 'string', default: '50000' },
    'pdf-kb': { type: 'string', default: '40' },
    rate: { type: 'string', default: '10000' },
    'sample-seconds': { type: 'string', default: '5' },
    /** the sender pauses while this many bills wait, so ingest and delivery run side by side all along */
    'max-queued': { type: 'string', default: '1500' },
    out: { type: 'string', default: 'bench-output' },
  },
})
const billCount = Number(values.bills)
const sampleMs = Number(values['sample-seconds']) * 1000
const maxQueued = Number(values['max-queued'])
const { work, databaseUrl, pool, key, close } = await openBenchDatabase('soak')
const sandbox = await startZohoSandbox({ ratePerMinute: Number(values.rate), concurrency: 50, dailyLimit: 10_000_000, grantsPerWindow: 600 })
const service = await startServiceProcess(sandboxServiceEnv(databaseUrl, work, sandbox, Number(values.rate), 60, { ZOHO_DAILY_LIMIT: '10000000', ZOHO_MAX_CONCURRENCY: '10' }), 'all', { stderr: 'inherit' })
const pid = service.child.pid!

async function rssMb(): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024
}
const count = async (sql: string) => (await pool.query<{ n: number }>(sql)).rows[0]!.n

interface Sample { seconds: number; rssMb: number; sent: number; delivered: number }
const samples: Sample[] = []
const started = Date.now()
let sent = 0
let delivered = 0
const sampler = setInterval(() => {
  rssMb().then((rss) => {
    const sample = { seconds: Math.round((Date.now() - started) / 1000), rssMb: Math.round(rss * 10) / 10, sent, delivered }
    samples.push(sample)
    process.stderr.write(`  t=${sample.seconds}s rss=${sample.rssMb} MB sent=${sent} delivered=${delivered}\n`)
  }, () => {})
}, sampleMs)

const prefix = `S${Date.now().toString(36).toUpperCase()}`
while (delivered < billCount) {
  const queued = sent - delivered
  if (sent < billCount && queued < maxQueued) {
    const bills = Array.from({ length: Math.min(100, billCount - sent) }, (_, i) => sampleBill({ index: sent + i, prefix, pdfBytes: Number(values['pdf-kb']) * 1024, vendorCount: 50 }))
    const res = await request(`${service.url}/v1/vendor-bills/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Readable.from(batchBody(`${prefix}-B${sent / 100}`, bills)) })
    await res.body.dump()
    if (res.statusCode !== 202) throw new Error(`ingest answered ${res.statusCode}`)
    sent += bills.length
  } else {
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  delivered = await count(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered'`)
}
clearInterval(sampler)
const totalSeconds = (Date.now() - started) / 1000
await stopServiceProcess(service)

// Warm-up lasts until a fifth of the bills are delivered (start, first queue-stats refresh, pools and caches
// filled, full pace reached); growth compares the median RSS while the next tenth is delivered with the
// median over the last tenth of the samples.
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const tenth = Math.max(1, Math.floor(samples.length / 10))
const warmUpEnd = samples.findIndex((s) => s.delivered >= billCount * 0.2)
const afterWarmUp = median(samples.filter((s) => s.delivered >= billCount * 0.2 && s.delivered < billCount * 0.3).map((s) => s.rssMb))
const end = median(samples.slice(-tenth).map((s) => s.rssMb))
const peak = Math.max(...samples.map((s) => s.rssMb))
const growth = (end - afterWarmUp) / afterWarmUp
const c = sandbox.counters()
const dupes = Object.values(c.billsByNumber).filter((n) => n !== 1).length
const notDelivered = await count(`SELECT count(*)::int AS n FROM transactions WHERE status <> 'delivered'`)

const outDir = path.resolve(values.out, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`)
await fs.mkdir(outDir, { recursive: true })
await fs.writeFile(path.join(outDir, 'rss.csv'), ['seconds,rss_mb,sent,delivered', ...samples.map((s) => `${s.seconds},${s.rssMb},${s.sent},${s.delivered}`)].join('\n') + '\n')
await fs.writeFile(path.join(outDir, 'rss.svg'), plot(samples, afterWarmUp, samples[warmUpEnd]?.seconds ?? 0, `billbridge soak: ${billCount} bills × ${values['pdf-kb']} KB, one service process (API + workers)`))

process.stdout.write([
  `soak: ${billCount} bills × ${values['pdf-kb']} KB PDFs through one service process (ROLE=all), sandbox limit ${values.rate}/min`,
  `  all delivered in ${totalSeconds.toFixed(0)} s (${((billCount / totalSeconds) * 60).toFixed(0)} bills/min); not delivered: ${notDelivered}; bill numbers in Zoho more than once: ${dupes}`,
  `  RSS series (MB, every ${values['sample-seconds']} s): ${samples.map((s) => s.rssMb.toFixed(0)).join(' ')}`,
  `  warm-up: until 20% delivered, ${samples[warmUpEnd]?.seconds ?? '?'} s; RSS then (median while 20–30% delivered) ${afterWarmUp.toFixed(1)} MB, at the end (median of the last tenth of samples) ${end.toFixed(1)} MB, peak ${peak.toFixed(1)} MB`,
  `  growth after warm-up: ${(growth * 100).toFixed(1)}% (budget < 5%) ${growth < 0.05 ? 'OK' : 'OVER BUDGET'}`,
  `  series and plot: ${path.join(outDir, 'rss.csv')}, ${path.join(outDir, 'rss.svg')}`,
].join('\n') + '\n')

await sandbox.close()
await close()

/** A line chart of RSS over time, with the post-warm-up level and the 5% budget above it drawn in. */
function plot(points: Sample[], baseline: number, warmUpSeconds: number, title: string): string {
  const w = 800, h = 360, left = 60, right = 20, top = 40, bottom = 50
  const maxX = Math.max(1, ...points.map((p) => p.seconds))
  const maxY = Math.ceil(Math.max(baseline * 1.1, ...points.map((p) => p.rssMb)) / 50) * 50
  const x = (s: number) => left + (s / maxX) * (w - left - right)
  const y = (mb: number) => top + (1 - mb / maxY) * (h - top - bottom)
  const line = points.map((p) => `${x(p.seconds).toFixed(1)},${y(p.rssMb).toFixed(1)}`).join(' ')
  const yTicks = Array.from({ length: 6 }, (_, i) => (maxY / 5) * i)
  const xTicks = Array.from({ length: 6 }, (_, i) => Math.round((maxX / 5) * i))
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">
  <rect width="${w}" height="${h}" fill="#fff"/>
  <text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>
  ${yTicks.map((v) => `<line x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`).join('\n  ')}
  ${xTicks.map((v) => `<text x="${x(v)}" y="${h - bottom + 18}" text-anchor="middle">${v}</text>`).join('\n  ')}
  <text x="${w / 2}" y="${h - 10}" text-anchor="middle">seconds</text>
  <text x="15" y="${h / 2}" text-anchor="middle" transform="rotate(-90 15 ${h / 2})">RSS (MB)</text>
  <line x1="${left}" x2="${w - right}" y1="${y(baseline)}" y2="${y(baseline)}" stroke="#888" stroke-dasharray="4 4"/>
  <line x1="${left}" x2="${w - right}" y1="${y(baseline * 1.05)}" y2="${y(baseline * 1.05)}" stroke="#c33" stroke-dasharray="4 4"/>
  <text x="${w - right}" y="${y(baseline * 1.05) - 4}" text-anchor="end" fill="#c33">after warm-up + 5% budget</text>
  <line x1="${x(warmUpSeconds)}" x2="${x(warmUpSeconds)}" y1="${top}" y2="${h - bottom}" stroke="#888"/>
  <text x="${x(warmUpSeconds) + 4}" y="${top + 12}" fill="#555">end of warm-up</text>
  <polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="${line}"/>
</svg>
`
}
