// Backlog ETA benchmark: queue N bills, start one worker process against the Zoho sandbox, and compare the
// ETA GET /v1/backlog shows at the start and at 25%, 50% and 75% with the measured finish.
//   npm run bench -- backlog-eta [--bills 900] [--rate 600] [--daily-limit 100000]
// With a daily limit the backlog cannot fit (e.g. --daily-limit 400), the ETA is after the next UTC
// midnight, which a run cannot wait for (neither the service nor the sandbox has a shorter quota day):
// the figures are then the time today's quota runs out and the bills it takes, predicted at each moment
// from the same figures (requests left ÷ requests per bill ÷ pace), against the measured ones; the
// arithmetic past midnight is covered by test/delivery/backlog-eta.test.ts.
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { createApiKeyRepository } from '../../src/auth/api-keys.ts'
import { createKysely } from '../../src/db/pool.ts'
import { startZohoSandbox } from '../../src/sandbox/server.ts'
import { batchBody, sampleBill } from '../lib/sample-bills.ts'
import { openBenchDatabase } from '../lib/bench-database.ts'
import { sandboxServiceEnv, startServiceProcess, stopServiceProcess } from '../lib/service-process.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'backlog-eta'),
  options: {
    bills: { type: 'string', default: '900' },
    rate: { type: 'string', default: '600' },
    'daily-limit': { type: 'string', default: '100000' },
    'pdf-kb': { type: 'string', default: '8' },
  },
})
const billCount = Number(values.bills)
const rate = Number(values.rate)
const dailyLimit = Number(values['daily-limit'])
const { work, databaseUrl, pool, key, close } = await openBenchDatabase('backlog-eta')
const db = createKysely(pool)
const reader = (await createApiKeyRepository(db).create(`bench-backlog-reader-${Date.now()}`, ['read'])).key
const sandbox = await startZohoSandbox({ ratePerMinute: rate, dailyLimit, grantsPerWindow: 600 })
const env = sandboxServiceEnv(databaseUrl, work, sandbox, rate, 60, { ZOHO_DAILY_LIMIT: String(dailyLimit) })

const api = await startServiceProcess(env, 'api')
const prefix = `E${Date.now().toString(36)}`
for (let sent = 0; sent < billCount; sent += 100) {
  const batch = Array.from({ length: Math.min(100, billCount - sent) }, (_, i) => sampleBill({ index: sent + i, prefix, pdfBytes: Number(values['pdf-kb']) * 1024 }))
  const res = await request(`${api.url}/v1/vendor-bills/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Readable.from(batchBody(undefined, batch)) })
  await res.body.dump()
  if (res.statusCode !== 202) throw new Error(`ingest answered ${res.statusCode}`)
}

interface Backlog { billsWaiting: number; requestsLeftToday: number; pacePerMinute: number; budgetPerMinute: number; requestsPerBill: number; eta: string | null; etaBasis: string; limitedBy: string | null; quotaResets: number }
const backlog = async (): Promise<{ at: number; b: Backlog }> => {
  const res = await request(`${api.url}/v1/backlog`, { headers: { authorization: `Bearer ${reader}` } })
  const body = await res.body.json() as { organizations: Backlog[] }
  return { at: Date.now(), b: body.organizations[0]! }
}
const delivered = async () => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered'`)).rows[0]!.n

process.stderr.write(`queued ${billCount} bills; one worker process at ${rate} requests a minute, daily limit ${dailyLimit}\n`)
const worker = await startServiceProcess(env, 'worker')
const startedAt = Date.now()
const samples: Array<{ label: string; delivered: number; at: number; b: Backlog }> = []
const marks = [0, 0.25, 0.5, 0.75]
// The moments are taken on the part that can go today: at most the whole backlog, or the daily limit's worth of bills (a bill is one request at least).
const todaysPart = Math.min(billCount, dailyLimit)
let lastProgress = { n: -1, at: Date.now() }
for (;;) {
  const n = await delivered()
  const next = marks[samples.length]
  if (next !== undefined && n >= next * todaysPart) samples.push({ label: next === 0 ? 'start' : `${next * 100}%`, delivered: n, ...(await backlog()) })
  if (n !== lastProgress.n) lastProgress = { n, at: Date.now() }
  if (n >= billCount) break
  // The quota spent: nothing more goes today.
  if (Date.now() - lastProgress.at > 15_000) break
  await new Promise((resolve) => setTimeout(resolve, 250))
}
await stopServiceProcess(worker)
const end = await backlog()
const { rows } = await pool.query<{ at: Date }>(`SELECT max(finished_at) AS at FROM attempts WHERE outcome IN ('delivered', 'adopted')`)
const finishedAt = rows[0]!.at.getTime()
const doneToday = await delivered()
const fits = doneToday >= billCount

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19)
const lines = [
  `backlog-eta: ${billCount} bills, Zoho budget ${rate} requests a minute, daily limit ${dailyLimit}; measured ${fits ? 'finish of the whole backlog' : "finish of the part today's quota allowed"}: ${clock(finishedAt)} UTC, ${((finishedAt - startedAt) / 1000).toFixed(1)} s after the worker started, ${doneToday} bills delivered`,
]
for (const s of samples) {
  const shown = `${s.label.padEnd(5)} at ${clock(s.at)} (${String(s.delivered).padStart(4)} delivered): waiting ${s.b.billsWaiting}, pace ${s.b.pacePerMinute.toFixed(1)}/min, ${s.b.requestsPerBill.toFixed(2)} requests/bill, ${s.b.requestsLeftToday} requests left; ETA ${s.b.eta ?? 'none'} (${s.b.etaBasis}, ${s.b.limitedBy ?? '-'}, ${s.b.quotaResets} resets)`
  if (fits) {
    const eta = new Date(s.b.eta!).getTime()
    const left = finishedAt - s.at
    lines.push(`  ${shown}\n        predicted finish ${clock(eta)}, measured ${clock(finishedAt)}: off by ${((eta - finishedAt) / 1000).toFixed(1)} s (${((100 * (eta - finishedAt)) / Math.max(1, left)).toFixed(0)}% of the ${(left / 1000).toFixed(1)} s left)`)
  } else {
    // Today's part, from the same figures the ETA uses: bills the requests left allow, at the pace now.
    const fitBills = s.b.requestsLeftToday / s.b.requestsPerBill
    const pace = s.b.pacePerMinute > 0 ? s.b.pacePerMinute : s.b.budgetPerMinute / s.b.requestsPerBill
    const outAt = s.at + (fitBills / pace) * 60_000
    const left = finishedAt - s.at
    lines.push(`  ${shown}\n        today's part predicted: ${Math.floor(s.delivered + fitBills)} bills by ${clock(outAt)}; measured: ${doneToday} bills by ${clock(finishedAt)}: off by ${((outAt - finishedAt) / 1000).toFixed(1)} s (${((100 * (outAt - finishedAt)) / Math.max(1, left)).toFixed(0)}% of the ${(left / 1000).toFixed(1)} s left)`)
  }
}
lines.push(`  after the run: waiting ${end.b.billsWaiting}, requests left today ${end.b.requestsLeftToday}, ETA ${end.b.eta ?? 'none'} (${end.b.etaBasis}, limited by ${end.b.limitedBy ?? '-'}, ${end.b.quotaResets} quota resets)`)
process.stdout.write(`${lines.join('\n')}\n`)

await stopServiceProcess(api)
await sandbox.close()
await close()
