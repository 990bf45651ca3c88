// Several organizations benchmark: N Zoho organizations (each its own budget, in two data centres), bills spread
// over their subsidiaries, W worker processes. Reports each organization's share of its budget and the
// aggregate share of the summed budget, 429s per organization, bills in Zoho more than once, and the time from
// the first Zoho request to the last bill delivered against the ideal (bills ÷ summed budget).
//   npm run bench -- organizations [--organizations 4] [--rate 100] [--bills 5000] [--workers 2] [--window-seconds 60]
//                                  [--worker-concurrency 4] [--pdf-kb 20]
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { sandboxOrganizationsEnv, startZohoSandbox } from '../../src/sandbox/server.ts'
import { batchBody, sampleBill } from '../lib/sample-bills.ts'
import { openBenchDatabase } from '../lib/bench-database.ts'
import { organizationsServiceEnv, startServiceProcess, stopServiceProcess } from '../lib/service-process.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'organizations'),
  options: {
    organizations: { type: 'string', default: '4' },
    rate: { type: 'string', default: '100' },
    bills: { type: 'string', default: '5000' },
    workers: { type: 'string', default: '2' },
    'window-seconds': { type: 'string', default: '60' },
    'worker-concurrency': { type: 'string', default: '4' },
    'pdf-kb': { type: 'string', default: '20' },
  },
})
const orgCount = Number(values.organizations)
const rate = Number(values.rate)
const windowSeconds = Number(values['window-seconds'])
const billCount = Number(values.bills)
const budgetPerMinute = (rate * 60) / windowSeconds
const { work, databaseUrl, pool, key, close } = await openBenchDatabase('organizations')

// Alternate organizations in two data centres (com, eu); the first and third share one Zoho user's client
// (one token for both), the others have their own.
const ids = Array.from({ length: orgCount }, (_, i) => String(70_000_000_001 + i))
const shared = { clientId: '1000.BENCHSHARED', clientSecret: 'bench-shared-secret', refreshToken: '1000.bench.shared-refresh' }
const sandbox = await startZohoSandbox({
  ratePerMinute: rate, windowMs: windowSeconds * 1000, grantsPerWindow: 600,
  organizations: ids.map((organizationId, i) => ({ organizationId, dataCentre: i % 2 === 0 ? 'com' : 'eu', name: `Bench ${i + 1}`, ...(i === 0 || i === 2 ? { client: shared } : {}) })),
})
const subsidiaryOf = (organizationId: string) => `Subsidiary ${ids.indexOf(organizationId) + 1}`
const env = organizationsServiceEnv(databaseUrl, work, sandboxOrganizationsEnv(sandbox, Object.fromEntries(ids.map((id) => [id, [subsidiaryOf(id)]]))), rate, windowSeconds,
  { WORKER_CONCURRENCY: values['worker-concurrency'] })
const startService = (role: 'api' | 'worker') => startServiceProcess(env, role, { stderr: 'inherit' })

// Queue everything first, with no worker running, so the measurement is of full queues.
const api = await startService('api')
const prefix = `O${Date.now().toString(36)}`
for (let sent = 0; sent < billCount; sent += 100) {
  const batch = Array.from({ length: Math.min(100, billCount - sent) }, (_, i) => {
    const index = sent + i
    return { ...sampleBill({ index, prefix, pdfBytes: Number(values['pdf-kb']) * 1024 }), subsidiary: subsidiaryOf(ids[index % orgCount]!) }
  })
  const res = await request(`${api.url}/v1/vendor-bills/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Readable.from(batchBody(undefined, batch)) })
  await res.body.dump()
  if (res.statusCode !== 202) throw new Error(`ingest answered ${res.statusCode}`)
}
await stopServiceProcess(api)
process.stderr.write(`queued ${billCount} bills over ${orgCount} organizations; starting ${values.workers} worker process(es), each organization at ${rate} requests per ${windowSeconds} s\n`)

let firstRequestAt = 0
const firstRequest = setInterval(() => {
  if (sandbox.organizations().every((o) => o.counters().booksRequests === 0)) return
  firstRequestAt = Date.now()
  clearInterval(firstRequest)
}, 5)
const started = Date.now()
const workers = await Promise.all(Array.from({ length: Number(values.workers) }, () => startService('worker')))
type Mark = { at: number; delivered: Map<string, number>; accepted: Map<string, number> }
const marks: Mark[] = []
for (;;) {
  const { rows } = await pool.query<{ organization_id: string; n: number }>(`SELECT organization_id, count(*)::int AS n FROM transactions WHERE status = 'delivered' GROUP BY organization_id`)
  const delivered = new Map(rows.map((r) => [r.organization_id, r.n]))
  marks.push({ at: Date.now(), delivered, accepted: new Map(sandbox.organizations().map((o) => [o.organizationId, o.counters().acceptedBooksRequests])) })
  if (rows.reduce((s, r) => s + r.n, 0) >= billCount) break
  if (Date.now() - started > 3 * 3600_000) throw new Error('not all bills were delivered within three hours')
  await new Promise((resolve) => setTimeout(resolve, 1000))
}
await Promise.all(workers.map(stopServiceProcess))

const perOrg = billCount / orgCount
const total = (m: Mark, which: 'delivered' | 'accepted') => [...m[which].values()].reduce((s, n) => s + n, 0)
// Steady state: while every organization still had bills waiting (from 10% of all delivered until the first
// organization finished 95% of its own), so each organization's share is measured while it had work.
const from = marks.find((m) => total(m, 'delivered') >= billCount * 0.1)!
const to = marks.find((m) => ids.some((id) => (m.delivered.get(id) ?? 0) >= perOrg * 0.95))!
const minutes = (to.at - from.at) / 60_000
const lines: string[] = []
for (const id of ids) {
  const o = sandbox.organization(id)
  const c = o.counters()
  const requestsPerMinute = ((to.accepted.get(id) ?? 0) - (from.accepted.get(id) ?? 0)) / minutes
  const billsPerMinute = ((to.delivered.get(id) ?? 0) - (from.delivered.get(id) ?? 0)) / minutes
  const dupes = Object.values(c.billsByNumber).filter((n) => n !== 1).length
  lines.push(`  organization ${id} (${o.dataCentre}): requests ${requestsPerMinute.toFixed(1)}/min = ${(requestsPerMinute / budgetPerMinute).toFixed(3)} of its budget; bills ${billsPerMinute.toFixed(1)}/min; 429s ${c.responses429}; most requests in any window ${c.maxRequestsInAnyWindow} (limit ${rate}); bills in Zoho more than once ${dupes}; tokens issued ${c.tokensIssued}`)
}
const aggregateRequests = (total(to, 'accepted') - total(from, 'accepted')) / minutes
const aggregateBills = (total(to, 'delivered') - total(from, 'delivered')) / minutes
const last = await pool.query<{ at: Date }>(`SELECT max(delivered_at) AS at FROM transactions`)
const notDelivered = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM transactions WHERE status <> 'delivered'`)
const firstToLast = (last.rows[0]!.at.getTime() - firstRequestAt) / 1000
const ideal = (billCount / (budgetPerMinute * orgCount)) * 60
const all = sandbox.organizations().map((o) => o.counters())
process.stdout.write([
  `organizations: ${billCount} bills over ${orgCount} organizations (2 data centres), ${values.workers} worker process(es), WORKER_CONCURRENCY ${values['worker-concurrency']}, each organization ${rate} requests / ${windowSeconds} s`,
  `  all delivered; not delivered: ${notDelivered.rows[0]!.n}; 429s: ${all.reduce((s, c) => s + c.responses429, 0)}; requests per bill ${(all.reduce((s, c) => s + c.acceptedBooksRequests, 0) / billCount).toFixed(3)}`,
  `  steady state (${minutes.toFixed(1)} min, every organization with bills waiting): ${aggregateRequests.toFixed(1)} requests/min = ${(aggregateRequests / (budgetPerMinute * orgCount)).toFixed(3)} of the summed budget (${budgetPerMinute * orgCount}/min); ${aggregateBills.toFixed(1)} bills/min`,
  ...lines,
  `  first Zoho request → last bill delivered: ${firstToLast.toFixed(1)} s; ideal (bills ÷ summed budget) ${ideal.toFixed(1)} s; ratio ${(firstToLast / ideal).toFixed(3)}`,
].join('\n') + '\n')
await sandbox.close()
await close()
