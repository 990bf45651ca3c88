// Delivery benchmark: queue N bills, then start W worker processes against the Zoho sandbox at a given
// rate, and report delivered bills per minute ÷ the Zoho budget, 429s, token refreshes, requests per bill.
//   npm run bench -- delivery [--rate 600] [--bills 2000] [--workers 1] [--token-lifetime 120] [--window-seconds 60]
//                             [--error-rate 0.04] [--lose-rate 0.04] [--taxed]
// --taxed: a UK organization (VAT 20%, 5%, 0%) with the reporting tags Department and Region (ZOHO_TAGS), and
// bills in GBP whose lines carry a tax code, NetSuite's tax and a department and location.
// With faults (a share of Books requests answered 5xx, a share of created bills whose answer is lost) it
// also reports the time from the first Zoho request to the last bill delivered against the ideal,
// bills ÷ budget.
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { startZohoSandbox } from '../../src/sandbox/server.ts'
import { batchBody, sampleBill } from '../lib/sample-bills.ts'
import { openBenchDatabase } from '../lib/bench-database.ts'
import { sandboxServiceEnv, startServiceProcess, stopServiceProcess } from '../lib/service-process.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'delivery'),
  options: {
    rate: { type: 'string', default: '600' },
    bills: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '1' },
    'token-lifetime': { type: 'string', default: '120' },
    'window-seconds': { type: 'string', default: '60' },
    'pdf-kb': { type: 'string', default: '20' },
    'error-rate': { type: 'string', default: '0' },
    'lose-rate': { type: 'string', default: '0' },
    taxed: { type: 'boolean', default: false },
  },
})
const rate = Number(values.rate)
const windowSeconds = Number(values['window-seconds'])
const billCount = Number(values.bills)
const budgetPerMinute = (rate * 60) / windowSeconds
const { work, databaseUrl, pool, key, close } = await openBenchDatabase('delivery')
const taxed = values.taxed
const seed = taxed ? { edition: 'uk' as const, tags: [{ name: 'Department', options: ['Sales', { name: 'EMEA', parent: 'Sales' }, 'Ops'] }, { name: 'Region', options: ['London', 'Paris'] }] } : undefined
const sandbox = await startZohoSandbox({ ratePerMinute: rate, windowMs: windowSeconds * 1000, tokenLifetimeSeconds: Number(values['token-lifetime']), grantsPerWindow: 600, ...(seed ? { seed } : {}) })

const env = sandboxServiceEnv(databaseUrl, work, sandbox, rate, windowSeconds, taxed ? { ZOHO_TAGS: 'department=Department,location=Region' } : {})
const startService = (role: 'api' | 'worker') => startServiceProcess(env, role, { stderr: 'inherit' })

// Queue everything first, with no worker running, so the measurement is of a full queue.
const api = await startService('api')
const prefix = `D${Date.now().toString(36)}`
for (let sent = 0; sent < billCount; sent += 100) {
  const batch = Array.from({ length: Math.min(100, billCount - sent) }, (_, i) => {
    const bill = sampleBill({ index: sent + i, prefix, pdfBytes: Number(values['pdf-kb']) * 1024 })
    return taxed ? taxedBill(bill, sent + i) : bill
  })
  const res = await request(`${api.url}/v1/vendor-bills/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Readable.from(batchBody(undefined, batch)) })
  await res.body.dump()
  if (res.statusCode !== 202) throw new Error(`ingest answered ${res.statusCode}`)
}
await stopServiceProcess(api)
process.stderr.write(`queued ${billCount}${taxed ? ' taxed, tagged' : ''} bills; starting ${values.workers} worker process(es) at ${rate} requests per ${windowSeconds} s\n`)

const errorRate5xx = Number(values['error-rate'])
const loseAnswerAfterCreateRate = Number(values['lose-rate'])
sandbox.setFaults({ errorRate5xx, loseAnswerAfterCreateRate })
const started = Date.now()
// The first Books request is seen in-process, within a few milliseconds of the sandbox counting it.
let firstRequestAt = 0
const firstRequest = setInterval(() => {
  if (sandbox.counters().booksRequests === 0) return
  firstRequestAt = Date.now()
  clearInterval(firstRequest)
}, 5)
const workers = await Promise.all(Array.from({ length: Number(values.workers) }, () => startService('worker')))
const marks: Array<{ at: number; delivered: number; accepted: number }> = []
for (;;) {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transactions WHERE status = 'delivered'`)
  marks.push({ at: Date.now(), delivered: rows[0]!.n, accepted: sandbox.counters().acceptedBooksRequests })
  if (rows[0]!.n >= billCount) break
  await new Promise((resolve) => setTimeout(resolve, 1000))
}
const totalSeconds = (Date.now() - started) / 1000
await Promise.all(workers.map(stopServiceProcess))

// Steady state: from the first mark with 10% delivered to the first with 90%.
const from = marks.find((m) => m.delivered >= billCount * 0.1)!
const to = marks.find((m) => m.delivered >= billCount * 0.9)!
const steadyPerMinute = ((to.delivered - from.delivered) / ((to.at - from.at) / 1000)) * 60
const steadyRequestsPerBill = (to.accepted - from.accepted) / (to.delivered - from.delivered)
const c = sandbox.counters()
const dupes = Object.values(c.billsByNumber).filter((n) => n !== 1).length
const failed = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transactions WHERE status <> 'delivered'`)
const last = await pool.query<{ at: Date; before: Date | null }>(
  `SELECT max(delivered_at) AS at, (SELECT delivered_at FROM transactions ORDER BY delivered_at DESC OFFSET 1 LIMIT 1) AS before FROM transactions`)
const firstToLastSeconds = (last.rows[0]!.at.getTime() - firstRequestAt) / 1000
const idealSeconds = (billCount / budgetPerMinute) * 60
const outcomes = await pool.query<{ outcome: string; n: number }>('SELECT outcome, count(*)::int AS n FROM attempts GROUP BY outcome ORDER BY outcome')

process.stdout.write([
  `delivery: ${billCount} queued${taxed ? ' taxed, tagged (UK edition, 2 reporting tags)' : ''} bills, ${values.workers} worker process(es), Zoho budget ${rate} requests / ${windowSeconds} s = ${budgetPerMinute.toFixed(0)} per minute, token lifetime ${values['token-lifetime']} s`,
  `  all delivered in ${totalSeconds.toFixed(0)} s; not delivered: ${failed.rows[0]!.n}; bill numbers in Zoho more than once: ${dupes}`,
  `  steady state (10%→90%): ${steadyPerMinute.toFixed(1)} bills/min; ratio to budget ${(steadyPerMinute / budgetPerMinute).toFixed(3)}`,
  `  requests per bill: ${(c.acceptedBooksRequests / billCount).toFixed(3)} overall, ${steadyRequestsPerBill.toFixed(3)} in steady state`,
  `  429s from Zoho: ${c.responses429}; most requests in any ${windowSeconds} s window: ${c.maxRequestsInAnyWindow} (limit ${rate})`,
  `  token refreshes: ${c.tokensIssued} over ${totalSeconds.toFixed(0)} s (lifetime ${values['token-lifetime']} s); refused grants: ${c.refreshDenied}`,
  `  faults: 5xx rate ${errorRate5xx}, lost-answer rate ${loseAnswerAfterCreateRate}; injected 5xx ${c.faults.errors}, answers lost after create ${c.faults.lostAnswers}`,
  `  attempts by outcome: ${outcomes.rows.map((r) => `${r.outcome} ${r.n}`).join(', ')}`,
  `  first Zoho request → last bill delivered: ${firstToLastSeconds.toFixed(1)} s; ideal (bills ÷ budget) ${idealSeconds.toFixed(1)} s; ratio ${(firstToLastSeconds / idealSeconds).toFixed(2)} (goal ≤ 1.3)`,
  `  the last bill was delivered ${(((last.rows[0]!.at.getTime() - (last.rows[0]!.before ?? last.rows[0]!.at).getTime())) / 1000).toFixed(1)} s after the one before it`,
].join('\n') + '\n')

await sandbox.close()
await close()

/** The sample bill in GBP from a GB vendor, each line taxed at 20%, 5% or 0% (NetSuite's tax rounded per line) with a department and location. */
function taxedBill(bill: ReturnType<typeof sampleBill>, index: number) {
  const codes = [['VAT:S-GB', 20], ['VAT:R-GB', 5], ['VAT:Z-GB', 0]] as const
  const lines = bill.lines.map((line, i) => {
    const [taxCode, rate] = codes[(index + i) % codes.length]!
    const taxAmount = (Math.round(Number(line.amount) * rate) / 100).toFixed(2)
    return { ...line, taxCode, taxRate: String(rate), taxAmount, ...(i === 1 ? { department: 'Ops' } : {}) }
  })
  const total = lines.reduce((s, l) => s + Math.round(Number(l.amount) * 100) + Math.round(Number(l.taxAmount) * 100), 0)
  return { ...bill, currency: 'GBP', vendor: { ...bill.vendor, country: 'GB', taxId: `GB${String(100000000 + index % 7)}` }, department: 'Sales : EMEA', location: index % 2 ? 'Paris' : 'London', lines, total: (total / 100).toFixed(2) }
}
