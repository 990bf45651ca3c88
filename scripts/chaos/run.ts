// The fault suite: a month-end-like load through real service processes against the Zoho sandbox, a fault
// while it runs, then the end state checked by SQL and by the sandbox's counters.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import pg from 'pg'
import { request } from 'undici'
import { createApiKeyRepository } from '../../src/auth/api-keys.ts'
import { createBlobStore } from '../../src/blob/index.ts'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts'
import { migrate } from '../../src/db/migrate.ts'
import { createKysely, createPool } from '../../src/db/pool.ts'
import { createLogger } from '../../src/logger.ts'
import { sandboxOrganizationsEnv, startZohoSandbox, type SandboxOrganization, type ZohoSandbox } from '../../src/sandbox/server.ts'
import { batchBody, sampleBill } from '../lib/sample-bills.ts'
import { organizationsServiceEnv, sandboxServiceEnv, startServiceProcess, stopServiceProcess, type ServiceEnv, type ServiceProcess as Service } from '../lib/service-process.ts'

export type Scenario = 'kill-worker' | 'restart-db' | 'zoho-flaky' | 'resend' | 'rolling-restart' | 'scale-out' | 'org-outage'
export const SCENARIOS: Scenario[] = ['kill-worker', 'restart-db', 'zoho-flaky', 'resend', 'rolling-restart', 'scale-out', 'org-outage']

export interface ChaosOptions {
  scenario: Scenario
  bills: number
  workers: number
  /** sandbox budget per minute; correctness, not Zoho's pace, is under test */
  rate: number
  stormSeconds: number
  /** Zoho's counting window (60 s); the reduced suite in npm test shrinks it so a 429 blocks for less */
  windowSeconds?: number
  kills: number
  /** restart-db: how long PostgreSQL stays down; org-outage: how long the organization is down (half 5xx, half code 45) */
  outageSeconds?: number
  /** every PDF of this size instead of the usual mix (org-outage's reduced run keeps its load light) */
  pdfBytes?: number
  timeoutMs: number
  /** scale-out: the worker-process counts run one after another, each on a freshly queued load */
  phases?: number[]
  /** the sandbox's access-token lifetime (Zoho's is 3,600 s); shorter makes refreshes countable in a short run */
  tokenLifetimeSeconds?: number
  log?: (line: string) => void
}

export interface ChaosResult {
  pass: boolean
  verdict: string
  figures: Record<string, number | string>
}

const INVALID: Array<[string, (b: ReturnType<typeof sampleBill>) => object]> = [
  ['CURRENCY_INVALID', (b) => ({ ...b, currency: 'XXX1' })],
  ['ATTACHMENT_NOT_PDF', (b) => ({ ...b, attachment: { ...b.attachment, contentBase64: Buffer.from('PK\x03\x04 a zip file').toString('base64') } })],
  ['DATE_INVALID', (b) => ({ ...b, date: '2026-02-30' })],
  ['AMOUNT_INVALID', (b) => ({ ...b, lines: [{ account: '6100 Office Supplies', amount: '1.005' }] })],
]
const SIZES = [8 * 1024, 40 * 1024, 150 * 1024, 300 * 1024, 600 * 1024]

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {})
  const logger = createLogger('warn', process.stderr)
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `bb-chaos-${options.scenario}-`))
  await fs.chmod(work, 0o755)
  let embedded: EmbeddedDatabase | undefined
  // restart-db stops the database, so it needs one of its own.
  let databaseUrl = options.scenario === 'restart-db' ? undefined : process.env.BILLBRIDGE_TEST_ADMIN_URL ?? process.env.DATABASE_URL
  let dbName: string | undefined
  if (databaseUrl) {
    dbName = `bb_chaos_${randomBytes(5).toString('hex')}`
    const admin = new pg.Client({ connectionString: databaseUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    await admin.end()
    const url = new URL(databaseUrl)
    url.pathname = `/${dbName}`
    databaseUrl = url.toString()
  } else {
    embedded = await startEmbeddedPostgres(path.join(work, 'pg'), logger)
    databaseUrl = embedded.url
  }
  const pool = createPool(databaseUrl, logger, 4)
  await migrate(pool, logger)
  const db = createKysely(pool)
  const { key } = await createApiKeyRepository(db).create('chaos', ['ingest', 'read'])
  const sandbox = await startZohoSandbox({
    ratePerMinute: options.rate, grantsPerWindow: 600, windowMs: (options.windowSeconds ?? 60) * 1000, tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    ...(options.scenario === 'org-outage' ? { organizations: OUTAGE_ORGANIZATIONS } : {}),
  })
  const services: Service[] = []
  const env = serviceEnv(databaseUrl, work, sandbox, options)
  try {
    const apis: Service[] = [await startService(env, 'api')]
    if (options.scenario === 'rolling-restart') apis.push(await startService(env, 'api'))
    services.push(...apis)
    if (options.scenario === 'scale-out') return await scaleOut(apis, env, services, pool, key, work, sandbox, options, log)
    if (options.scenario === 'org-outage') return await orgOutage(apis, env, services, pool, key, work, sandbox, options, log)
    const workers: Service[] = []
    for (let i = 0; i < options.workers; i++) workers.push(await startService(env, 'worker'))
    services.push(...workers)

    const fault = options.scenario === 'restart-db' ? restartDatabase(embedded!, options.outageSeconds ?? 20, log)
      : options.scenario === 'rolling-restart' ? rollApis(apis, env, services, log)
      : Promise.resolve()
    const { expected, rejectedCodes, sendErrors, unavailable, answers } = await sendLoad(apis, key, options, sandbox, log)
    await fault
    if (options.scenario === 'kill-worker') await killWorkers(workers, env, services, options.kills, log)

    const deadline = Date.now() + options.timeoutMs
    let delivered = 0
    while (Date.now() < deadline) {
      delivered = await countDelivered(pool)
      if (delivered >= expected.size) break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const result = await verify(pool, sandbox, work, expected, rejectedCodes, sendErrors, options)
    if (options.scenario === 'restart-db') result.figures['503s while the database was down'] = unavailable
    result.figures['batch answers by bill status'] = [...answers].map(([k, v]) => `${k} ${v}`).join(', ')
    return result
  } finally {
    for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL')
    await sandbox.close()
    await db.destroy()
    await embedded?.stop()
    if (dbName) {
      const admin = new pg.Client({ connectionString: process.env.BILLBRIDGE_TEST_ADMIN_URL ?? process.env.DATABASE_URL })
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
      await admin.end()
    }
    await fs.rm(work, { recursive: true, force: true })
  }
}

function serviceEnv(databaseUrl: string, work: string, sandbox: ZohoSandbox, options: ChaosOptions): ServiceEnv {
  const extra = { ZOHO_TIMEOUT_MS: '2000', DELIVERY_RETRY_DELAY_SECONDS: '1', DELIVERY_JOB_EXPIRE_SECONDS: '10', SHUTDOWN_DRAIN_DELAY_MS: '1500' }
  if (options.scenario === 'org-outage') {
    const routes = Object.fromEntries(OUTAGE_ORGANIZATIONS.map((o, i) => [o.organizationId, i === OUTAGE_ORGANIZATIONS.length - 1 ? ['*'] : [OUTAGE_SUBSIDIARIES[i]!]]))
    // Deliveries wait for their organization's budget here, so a job gets a minute before it counts as lost.
    return organizationsServiceEnv(databaseUrl, work, sandboxOrganizationsEnv(sandbox, routes), options.rate, options.windowSeconds ?? 60, { ...extra, DELIVERY_JOB_EXPIRE_SECONDS: '60' })
  }
  return sandboxServiceEnv(databaseUrl, work, sandbox, options.rate, options.windowSeconds ?? 60, extra)
}

// org-outage: three organizations, the third (the "*" entry, in another data centre) goes down mid-load.
const OUTAGE_ORGANIZATIONS = [
  { organizationId: '72000000001', dataCentre: 'com', name: 'Acme US' },
  { organizationId: '72000000002', dataCentre: 'com', name: 'Acme Canada' },
  { organizationId: '72000000003', dataCentre: 'eu', name: 'Acme Europe' },
]
const OUTAGE_SUBSIDIARIES = ['Acme US Inc', 'Acme Canada Ltd', 'Acme Europe BV']

const startService = (env: ServiceEnv, role: 'api' | 'worker', port = 0) => startServiceProcess(env, role, { port })

/** The instance a load balancer would pick: the first whose readiness says 200. */
async function readyUrl(apis: Service[]): Promise<string> {
  for (;;) {
    for (const api of apis) {
      const ok = await request(`${api.url}/health/ready`).then(async (r) => {
        await r.body.dump()
        return r.statusCode === 200
      }, () => false)
      if (ok) return api.url
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function sendLoad(apis: Service[], key: string, options: ChaosOptions, sandbox: ZohoSandbox, log: (line: string) => void, tag = '') {
  const prefix = `CH${tag}${Date.now().toString(36).toUpperCase()}`
  const expected = new Map<string, string>()
  const invalidWanted = new Map<string, string>()
  const batches: Array<{ id: string; bills: object[] }> = []
  for (let start = 0; start < options.bills; start += 100) {
    const bills: object[] = []
    for (let i = start; i < Math.min(start + 100, options.bills); i++) {
      const sample = sampleBill({ index: i, prefix, pdfBytes: options.pdfBytes ?? SIZES[i % SIZES.length]! })
      const bill = options.scenario === 'org-outage' ? { ...sample, subsidiary: OUTAGE_SUBSIDIARIES[i % OUTAGE_SUBSIDIARIES.length]! } : sample
      // Every twentieth bill is invalid in one of several ways: 5%.
      if (i % 20 === 7) {
        const [code, spoil] = INVALID[(i / 20 | 0) % INVALID.length]!
        invalidWanted.set(bill.externalId, code)
        bills.push(spoil(bill))
      } else {
        expected.set(bill.externalId, bill.billNumber)
        bills.push(bill)
      }
    }
    batches.push({ id: `${prefix}-B${start / 100}`, bills })
  }
  // resend: the same batches again in reverse order (the batchId replay), then once more under new batch ids,
  // as a re-run NetSuite script would send them (each bill a duplicate by its externalId).
  const sends = options.scenario === 'resend' ? [...batches, ...batches.slice().reverse(), ...batches.map((b) => ({ ...b, id: `${b.id}-again` }))] : batches
  if (options.scenario === 'zoho-flaky') {
    // Flaky for the whole run (and some bills created in Zoho whose answer never arrives); a 429 storm a few
    // seconds in, once deliveries are under way.
    sandbox.setFaults({ errorRate5xx: 0.05, timeoutRate: 0.02, dropRate: 0.02, loseAnswerAfterCreateRate: 0.02 })
    setTimeout(() => sandbox.setFaults({ rateLimitStormUntil: Date.now() + options.stormSeconds * 1000 }), 8_000).unref()
  }
  const rejectedCodes = new Map<string, string>()
  let sendErrors = 0
  let unavailable = 0
  const answers = new Map<string, number>()
  for (const batch of sends) {
    // As NetSuite's script does: a 503 (nothing was stored) is sent again after a pause; anything else counts as failed.
    for (;;) {
      const url = options.scenario === 'rolling-restart' ? await readyUrl(apis) : apis[0]!.url
      let status = 0
      let answer: { items?: Array<{ externalId?: string; status: string; error?: { code: string } }> } = {}
      try {
        const res = await request(`${url}/v1/vendor-bills/batches`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Readable.from(batchBody(batch.id, batch.bills)) })
        status = res.statusCode
        answer = (await res.body.json()) as typeof answer
      } catch (err) {
        // An early 503 can reach the sender as a reset while it is still uploading: the same outcome.
        log(`send failed: ${(err as Error).message}`)
        status = options.scenario === 'restart-db' ? 503 : 0
      }
      if (status === 503 && options.scenario === 'restart-db') {
        unavailable++
        await new Promise((resolve) => setTimeout(resolve, 500))
        continue
      }
      if (status !== 202) sendErrors++
      for (const item of answer.items ?? []) {
        answers.set(item.status, (answers.get(item.status) ?? 0) + 1)
        if (item.status === 'rejected' && item.externalId) rejectedCodes.set(item.externalId, item.error!.code)
      }
      break
    }
    if (options.scenario === 'rolling-restart' || options.scenario === 'restart-db') await new Promise((resolve) => setTimeout(resolve, 300))
  }
  log(`sent ${sends.length} batches (${options.bills} bills, ${invalidWanted.size} invalid)`)
  for (const [id, code] of invalidWanted) if (rejectedCodes.get(id) !== code) rejectedCodes.set(id, `WRONG:${rejectedCodes.get(id) ?? 'accepted'}`)
  return { expected, rejectedCodes, sendErrors, unavailable, answers }
}

/** Stops PostgreSQL a moment into the load and starts it again after the outage. */
async function restartDatabase(db: EmbeddedDatabase, seconds: number, log: (line: string) => void): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  await db.stop()
  log(`PostgreSQL stopped for ${seconds} s`)
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  await db.start()
  log('PostgreSQL started again')
}

/** Restarts each API instance in turn with SIGTERM, on its own port, while the sender keeps posting. */
async function rollApis(apis: Service[], env: ServiceEnv, services: Service[], log: (line: string) => void): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  for (let i = 0; i < apis.length; i++) {
    const old = apis[i]!
    const port = Number(new URL(old.url).port)
    const code = await stopServiceProcess(old)
    const fresh = await startService(env, 'api', port)
    apis[i] = fresh
    services.push(fresh)
    log(`API instance on port ${port} restarted with SIGTERM (exit code ${code})`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
}

async function killWorkers(workers: Service[], env: ServiceEnv, services: Service[], kills: number, log: (line: string) => void): Promise<void> {
  for (let k = 0; k < kills; k++) {
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const victim = workers.shift()!
    victim.child.kill('SIGKILL')
    const fresh = await startService(env, 'worker')
    workers.push(fresh)
    services.push(fresh)
    log(`killed worker ${victim.child.pid} with SIGKILL and started ${fresh.child.pid}`)
  }
}

const countDelivered = async (pool: pg.Pool) => Number((await pool.query(`SELECT count(*) AS n FROM transactions WHERE status = 'delivered'`)).rows[0].n)

/**
 * One, two, then four worker processes, each phase on a load queued while no worker runs: the delivered
 * rate stays at the one global Zoho budget, no window goes over it, and the token is refreshed once per
 * lifetime however many processes share it.
 */
async function scaleOut(apis: Service[], env: ServiceEnv, services: Service[], pool: pg.Pool, key: string, work: string, sandbox: ZohoSandbox, options: ChaosOptions, log: (line: string) => void): Promise<ChaosResult> {
  const budgetPerMinute = (options.rate * 60) / (options.windowSeconds ?? 60)
  const expected = new Map<string, string>()
  const rejectedCodes = new Map<string, string>()
  let sendErrors = 0
  const phaseFigures: ServiceEnv = {}
  let slowest = Infinity
  const started = Date.now()
  for (const count of options.phases ?? [1, 2, 4]) {
    const load = await sendLoad(apis, key, options, sandbox, log, `W${count}`)
    for (const [k, v] of load.expected) expected.set(k, v)
    for (const [k, v] of load.rejectedCodes) rejectedCodes.set(k, v)
    sendErrors += load.sendErrors
    const base = await countDelivered(pool)
    const target = base + load.expected.size
    const tokensBefore = sandbox.counters().tokensIssued
    const phaseStart = Date.now()
    const workers = await Promise.all(Array.from({ length: count }, () => startService(env, 'worker')))
    services.push(...workers)
    const marks: Array<{ at: number; delivered: number }> = []
    const deadline = Date.now() + options.timeoutMs
    while (Date.now() < deadline) {
      const delivered = await countDelivered(pool)
      marks.push({ at: Date.now(), delivered: delivered - base })
      if (delivered >= target) break
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    await Promise.all(workers.map(stopServiceProcess))
    // Steady state: from the first sample with 10% of the phase delivered to the first with 90%.
    const from = marks.find((m) => m.delivered >= load.expected.size * 0.1)
    const to = marks.find((m) => m.delivered >= load.expected.size * 0.9)
    const perMinute = from && to && to.at > from.at ? ((to.delivered - from.delivered) / ((to.at - from.at) / 1000)) * 60 : 0
    slowest = Math.min(slowest, perMinute / budgetPerMinute)
    const seconds = (Date.now() - phaseStart) / 1000
    const line = `${perMinute.toFixed(1)} bills/min steady (ratio to budget ${(perMinute / budgetPerMinute).toFixed(3)}), ${load.expected.size} bills in ${seconds.toFixed(0)} s, ${sandbox.counters().tokensIssued - tokensBefore} token refreshes`
    phaseFigures[`${count} worker process${count === 1 ? '' : 'es'}`] = line
    log(`scale-out with ${count} worker process(es): ${line}`)
  }
  const totalSeconds = (Date.now() - started) / 1000
  // The cache refreshes a quarter-lifetime ahead of expiry: one refresh per 0.75 lifetime, plus the first.
  const lifetime = options.tokenLifetimeSeconds ?? 3600
  const refreshBound = Math.floor(totalSeconds / (lifetime * 0.75)) + 1
  const result = await verify(pool, sandbox, work, expected, rejectedCodes, sendErrors, options)
  const c = sandbox.counters()
  const paced = slowest >= 0.9 && c.responses429 === 0 && c.maxRequestsInAnyWindow <= options.rate && c.tokensIssued <= refreshBound
  Object.assign(result.figures, phaseFigures, {
    'Zoho budget per minute': budgetPerMinute,
    'most requests in any window': `${c.maxRequestsInAnyWindow} (limit ${options.rate})`,
    'token refreshes': `${c.tokensIssued} over ${totalSeconds.toFixed(0)} s with a ${lifetime} s lifetime (bound ${refreshBound})`,
  })
  result.pass &&= paced
  result.verdict = result.verdict.replace(/: (PASS|FAIL) —/, `: ${result.pass ? 'PASS' : 'FAIL'} — slowest phase at ${slowest.toFixed(3)} of the budget, ${c.responses429} 429s, ${c.tokensIssued} token refreshes (bound ${refreshBound});`)
  return result
}

async function verify(pool: pg.Pool, sandbox: ZohoSandbox, work: string, expected: Map<string, string>, rejectedCodes: Map<string, string>, sendErrors: number, options: ChaosOptions): Promise<ChaosResult> {
  const q = async (sql: string) => Number((await pool.query(sql)).rows[0].n)
  const delivered = await countDelivered(pool)
  const rows = await q('SELECT count(*) AS n FROM transactions')
  const rowsWithoutJob = await q(`SELECT count(*) AS n FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name LIKE 'deliver-bill/%' AND j.data->>'transactionId' = t.id::text)`)
  const jobsWithoutRow = await q(`SELECT count(*) AS n FROM pgboss.job j WHERE j.name LIKE 'deliver-bill/%' AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id::text = j.data->>'transactionId')`)
  const counters = allCounters(sandbox)
  const wanted = new Set(expected.values())
  const inZoho = Object.entries(counters.billsByNumber)
  const duplicates = inZoho.filter(([, n]) => n > 1).length
  const missing = [...wanted].filter((n) => !counters.billsByNumber[n]).length
  const wrongRejections = [...rejectedCodes.values()].filter((c) => c.startsWith('WRONG:')).length
  const blobs = await createBlobStore({ kind: 'fs', root: path.join(work, 'blobs') })
  const keys = new Set<string>()
  for await (const info of blobs.listOlderThan(new Date(Date.now() + 3_600_000))) keys.add(info.key)
  const referenced = new Set((await pool.query<{ blob_key: string }>('SELECT blob_key FROM transactions')).rows.map((r) => r.blob_key))
  const orphans = [...keys].filter((k) => !referenced.has(k)).length
  const missingPdfs = [...referenced].filter((k) => !keys.has(k)).length
  const outcomes = (await pool.query<{ outcome: string; n: string }>('SELECT outcome, count(*) AS n FROM attempts GROUP BY outcome ORDER BY outcome')).rows
  // Every transaction the run's database served (API, workers, pg-boss), as a measure of load on PostgreSQL.
  const dbTransactions = await q('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')
  const figures = {
    'valid bills': expected.size, delivered, rows, 'bills in Zoho': inZoho.length, 'duplicates in Zoho': duplicates, 'missing in Zoho': missing,
    'invalid rejected with their code': rejectedCodes.size - wrongRejections, 'wrong rejections': wrongRejections, 'rows without a job': rowsWithoutJob,
    'jobs without a row': jobsWithoutRow, 'orphan PDFs': orphans, 'rows without their PDF': missingPdfs, 'failed sends': sendErrors,
    'zoho 429s': counters.responses429, 'zoho 5xx injected': counters.faults.errors, 'timeouts injected': counters.faults.timedOut, 'drops injected': counters.faults.dropped,
    'answers lost after a bill was created': counters.faults.lostAnswers,
    'tokens issued': counters.tokensIssued,
    'delivery attempts by outcome': outcomes.map((o) => `${o.outcome} ${o.n}`).join(', '),
    'database transactions': dbTransactions,
  }
  const pass = delivered === expected.size && rows === expected.size && duplicates === 0 && missing === 0 && wrongRejections === 0 && rowsWithoutJob === 0 && jobsWithoutRow === 0 && orphans === 0 && missingPdfs === 0 && sendErrors === 0
  const verdict = `chaos ${options.scenario}: ${pass ? 'PASS' : 'FAIL'} — ${delivered}/${expected.size} valid bills delivered, ${duplicates} duplicated in Zoho, ${rejectedCodes.size - wrongRejections}/${rejectedCodes.size} invalid rejected with their code, ${rowsWithoutJob + jobsWithoutRow} row/job mismatches, ${orphans} orphan PDFs`
  return { pass, verdict, figures }
}

/** What Zoho saw across every organization of the sandbox (one, except in org-outage). */
function allCounters(sandbox: ZohoSandbox) {
  const each = sandbox.organizations().map((o) => o.counters())
  const sum = (pick: (c: (typeof each)[number]) => number) => each.reduce((s, c) => s + pick(c), 0)
  const billsByNumber: Record<string, number> = {}
  for (const c of each) for (const [n, k] of Object.entries(c.billsByNumber)) billsByNumber[n] = (billsByNumber[n] ?? 0) + k
  return {
    billsByNumber, responses429: sum((c) => c.responses429), tokensIssued: sum((c) => c.tokensIssued),
    faults: { errors: sum((c) => c.faults.errors), timedOut: sum((c) => c.faults.timedOut), dropped: sum((c) => c.faults.dropped), lostAnswers: sum((c) => c.faults.lostAnswers) },
  }
}

/**
 * Three organizations through a month-end; a while in, the third goes down: every Books request answers 5xx,
 * then Zoho's daily-quota 429 (code 45) until "midnight". The healthy two must keep their pace (their share of
 * their budget over the outage, goal 0.95), the down one must lose nothing and drain when it returns.
 *
 * Midnight is played, not waited for: when the sandbox's day turns, the harness ends billbridge's pause in the
 * organization's rate_limits row, which is what the clock reaching the next UTC midnight does (take_permit stops
 * refusing at blocked_until), so the run shows the drain in minutes rather than at the real midnight.
 */
async function orgOutage(apis: Service[], env: ServiceEnv, services: Service[], pool: pg.Pool, key: string, work: string, sandbox: ZohoSandbox, options: ChaosOptions, log: (line: string) => void): Promise<ChaosResult> {
  const budgetPerMinute = (options.rate * 60) / (options.windowSeconds ?? 60)
  const outageSeconds = options.outageSeconds ?? 120
  const [first, second, down] = sandbox.organizations() as [SandboxOrganization, SandboxOrganization, SandboxOrganization]
  const workers: Service[] = []
  for (let i = 0; i < options.workers; i++) workers.push(await startService(env, 'worker'))
  services.push(...workers)
  const load = await sendLoad(apis, key, options, sandbox, log)
  const deliveredIn = async (id: string) => Number((await pool.query(`SELECT count(*) AS n FROM transactions WHERE status = 'delivered' AND organization_id = $1`, [id])).rows[0].n)
  const perOrganization = load.expected.size / 3
  // The outage starts once the down organization is under way.
  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline && (await deliveredIn(down.organizationId)) < perOrganization * 0.1) await new Promise((resolve) => setTimeout(resolve, 200))
  const accepted = () => [first, second].map((o) => o.counters().acceptedBooksRequests)
  const before = accepted()
  const startedAt = Date.now()
  down.setFaults({ errorRate5xx: 1 })
  log(`${down.organizationId} down: every request answers 5xx for ${outageSeconds / 2} s`)
  await new Promise((resolve) => setTimeout(resolve, (outageSeconds / 2) * 1000))
  down.setFaults({ errorRate5xx: 0, dailyQuotaSpentUntil: Date.now() + (outageSeconds / 2) * 1000 })
  log(`${down.organizationId}: daily quota spent (code 45) for ${outageSeconds / 2} s`)
  await new Promise((resolve) => setTimeout(resolve, (outageSeconds / 2) * 1000))
  const after = accepted()
  const minutes = (Date.now() - startedAt) / 60_000
  const waitingAtEnd = await Promise.all([first, second].map(async (o) => perOrganization - (await deliveredIn(o.organizationId))))
  const downAtEnd = await deliveredIn(down.organizationId)
  down.setFaults({ dailyQuotaSpentUntil: 0 })
  await pool.query(`UPDATE rate_limits SET blocked_until = LEAST(blocked_until, clock_timestamp()) WHERE key = $1`, [`zoho:${down.organizationId}`])
  log(`${down.organizationId}: midnight, the quota is back`)
  const returnedAt = Date.now()
  while (Date.now() < deadline && (await countDelivered(pool)) < load.expected.size) await new Promise((resolve) => setTimeout(resolve, 500))
  const drainSeconds = (Date.now() - returnedAt) / 1000
  const result = await verify(pool, sandbox, work, load.expected, load.rejectedCodes, load.sendErrors, options)
  const shares = [0, 1].map((i) => (after[i]! - before[i]!) / (budgetPerMinute * minutes))
  const downCounters = down.counters()
  const attempts = (await pool.query<{ outcome: string; n: string }>(`SELECT outcome, count(*) AS n FROM attempts WHERE organization_id = $1 GROUP BY outcome ORDER BY outcome`, [down.organizationId])).rows
  const healthyRetries = (await pool.query<{ organization_id: string; error_code: string; n: string }>(
    `SELECT organization_id, error_code, count(*) AS n FROM attempts WHERE organization_id <> $1 AND outcome = 'retry' GROUP BY 1, 2 ORDER BY 1, 2`, [down.organizationId])).rows
  Object.assign(result.figures, {
    'outage': `${outageSeconds} s (${outageSeconds / 2} s of 5xx, then ${outageSeconds / 2} s of code 45)`,
    [`${first.organizationId} share of its budget during the outage`]: shares[0]!.toFixed(3),
    [`${second.organizationId} share of its budget during the outage`]: shares[1]!.toFixed(3),
    'healthy organizations still had bills waiting at the outage end': waitingAtEnd.map((n) => Math.max(0, Math.round(n))).join(', '),
    [`${down.organizationId} bills delivered before its return`]: downAtEnd,
    [`${down.organizationId} requests refused during the outage`]: `${downCounters.responses5xx} 5xx, ${downCounters.responses429ByCode[45] ?? 0} code 45`,
    [`${down.organizationId} attempts by outcome`]: attempts.map((a) => `${a.outcome} ${a.n}`).join(', '),
    [`${down.organizationId} drained in`]: `${drainSeconds.toFixed(0)} s after its return`,
    'healthy organizations’ failed attempts': healthyRetries.map((r) => `${r.organization_id} ${r.error_code} ${r.n}`).join(', ') || 'none',
  })
  const paced = shares.every((s) => s >= 0.95) && waitingAtEnd.every((n) => n > 0)
  result.pass &&= paced
  result.verdict = result.verdict.replace(/: (PASS|FAIL) —/, `: ${result.pass ? 'PASS' : 'FAIL'} — healthy organizations at ${shares.map((s) => s.toFixed(3)).join(' and ')} of their budgets during the outage;`)
  return result
}
