// The fault suite: a month-end-like load through real service processes against the Zoho sandbox, a fault
// while it runs, then the end state checked by SQL and by the sandbox's counters.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { Readable } from 'node:stream'
import pg from 'pg'
import { request } from 'undici'
import { createApiKeyRepository } from '../../src/auth/api-keys.ts'
import { createBlobStore } from '../../src/blob/index.ts'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts'
import { migrate } from '../../src/db/migrate.ts'
import { createKysely, createPool } from '../../src/db/pool.ts'
import { createLogger } from '../../src/logger.ts'
import { startZohoSandbox, type ZohoSandbox } from '../../src/sandbox/server.ts'
import { batchBody, sampleBill } from '../lib/sample-bills.ts'

export type Scenario = 'kill-worker' | 'restart-db' | 'zoho-flaky' | 'resend' | 'rolling-restart'
export const SCENARIOS: Scenario[] = ['kill-worker', 'restart-db', 'zoho-flaky', 'resend', 'rolling-restart']

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
  /** restart-db: how long PostgreSQL stays down */
  outageSeconds?: number
  timeoutMs: number
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

interface Service {
  child: ChildProcess
  url: string
}

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
  const sandbox = await startZohoSandbox({ ratePerMinute: options.rate, grantsPerMinute: 60, windowMs: (options.windowSeconds ?? 60) * 1000 })
  const services: Service[] = []
  const env = serviceEnv(databaseUrl, work, sandbox, options)
  try {
    const apis: Service[] = [await startService(env, 'api')]
    if (options.scenario === 'rolling-restart') apis.push(await startService(env, 'api'))
    services.push(...apis)
    const workers: Service[] = []
    for (let i = 0; i < options.workers; i++) workers.push(await startService(env, 'worker'))
    services.push(...workers)

    const fault = options.scenario === 'restart-db' ? restartDatabase(embedded!, options.outageSeconds ?? 20, log)
      : options.scenario === 'rolling-restart' ? rollApis(apis, env, services, log)
      : Promise.resolve()
    const { expected, rejectedCodes, sendErrors, unavailable } = await sendLoad(apis, key, options, sandbox, log)
    await fault
    if (options.scenario === 'kill-worker') await killWorkers(workers, env, services, options.kills, log)

    const deadline = Date.now() + options.timeoutMs
    let delivered = 0
    while (Date.now() < deadline) {
      delivered = Number((await pool.query(`SELECT count(*) AS n FROM transactions WHERE status = 'delivered'`)).rows[0].n)
      if (delivered >= expected.size) break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const result = await verify(pool, sandbox, work, expected, rejectedCodes, sendErrors, options)
    result.figures['503s while the database was down'] = unavailable
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

function serviceEnv(databaseUrl: string, work: string, sandbox: ZohoSandbox, options: ChaosOptions): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    DATABASE_URL: databaseUrl,
    DATA_DIR: work,
    PORT: '0',
    LOG_LEVEL: 'info',
    ZOHO_ACCOUNTS_URL: sandbox.accountsUrl,
    ZOHO_API_URL: sandbox.apiUrl,
    ZOHO_CLIENT_ID: sandbox.clientId,
    ZOHO_CLIENT_SECRET: sandbox.clientSecret,
    ZOHO_REFRESH_TOKEN: sandbox.refreshToken,
    ZOHO_ORGANIZATION_ID: sandbox.organizationId,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ZOHO_RATE_PER_MINUTE: String(options.rate),
    ZOHO_RATE_WINDOW_SECONDS: String(options.windowSeconds ?? 60),
    ZOHO_TIMEOUT_MS: '2000',
    DELIVERY_RETRY_DELAY_SECONDS: '1',
    DELIVERY_JOB_EXPIRE_SECONDS: '10',
    API_RATE_PER_MINUTE: '100000',
    WORKER_CONCURRENCY: '5',
    SHUTDOWN_DRAIN_DELAY_MS: '1500',
  }
}

function startService(env: Record<string, string>, role: 'api' | 'worker', port = 0): Promise<Service> {
  const child = spawn(process.execPath, ['src/server.ts'], { env: { ...env, ROLE: role, PORT: String(port) }, stdio: ['ignore', 'pipe', 'ignore'] })
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      if (line.includes('"billbridge started"')) resolve({ child, url: (JSON.parse(line) as { url?: string }).url ?? '' })
    })
    child.on('exit', (code) => reject(new Error(`${role} process exited with ${code} before starting`)))
  })
}

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

async function sendLoad(apis: Service[], key: string, options: ChaosOptions, sandbox: ZohoSandbox, log: (line: string) => void) {
  const prefix = `CH${Date.now().toString(36).toUpperCase()}`
  const expected = new Map<string, string>()
  const invalidWanted = new Map<string, string>()
  const batches: Array<{ id: string; bills: object[] }> = []
  for (let start = 0; start < options.bills; start += 100) {
    const bills: object[] = []
    for (let i = start; i < Math.min(start + 100, options.bills); i++) {
      const bill = sampleBill({ index: i, prefix, pdfBytes: SIZES[i % SIZES.length]! })
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
  const sends = options.scenario === 'resend' ? [...batches, ...batches.slice().reverse(), ...batches] : batches
  if (options.scenario === 'zoho-flaky') {
    // Flaky for the whole run; a 429 storm a few seconds in, once deliveries are under way.
    sandbox.setFaults({ errorRate5xx: 0.05, timeoutRate: 0.02, dropRate: 0.02 })
    setTimeout(() => sandbox.setFaults({ rateLimitStormUntil: Date.now() + options.stormSeconds * 1000 }), 8_000).unref()
  }
  const rejectedCodes = new Map<string, string>()
  let sendErrors = 0
  let unavailable = 0
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
      for (const item of answer.items ?? []) if (item.status === 'rejected' && item.externalId) rejectedCodes.set(item.externalId, item.error!.code)
      break
    }
    if (options.scenario === 'rolling-restart' || options.scenario === 'restart-db') await new Promise((resolve) => setTimeout(resolve, 300))
  }
  log(`sent ${sends.length} batches (${options.bills} bills, ${invalidWanted.size} invalid)`)
  for (const [id, code] of invalidWanted) if (rejectedCodes.get(id) !== code) rejectedCodes.set(id, `WRONG:${rejectedCodes.get(id) ?? 'accepted'}`)
  return { expected, rejectedCodes, sendErrors, unavailable }
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
async function rollApis(apis: Service[], env: Record<string, string>, services: Service[], log: (line: string) => void): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  for (let i = 0; i < apis.length; i++) {
    const old = apis[i]!
    const port = Number(new URL(old.url).port)
    const exited = new Promise<number | null>((resolve) => old.child.on('exit', (code) => resolve(code)))
    old.child.kill('SIGTERM')
    const code = await exited
    const fresh = await startService(env, 'api', port)
    apis[i] = fresh
    services.push(fresh)
    log(`API instance on port ${port} restarted with SIGTERM (exit code ${code})`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
}

async function killWorkers(workers: Service[], env: Record<string, string>, services: Service[], kills: number, log: (line: string) => void): Promise<void> {
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

async function verify(pool: pg.Pool, sandbox: ZohoSandbox, work: string, expected: Map<string, string>, rejectedCodes: Map<string, string>, sendErrors: number, options: ChaosOptions): Promise<ChaosResult> {
  const q = async (sql: string) => Number((await pool.query(sql)).rows[0].n)
  const delivered = await q(`SELECT count(*) AS n FROM transactions WHERE status = 'delivered'`)
  const rows = await q('SELECT count(*) AS n FROM transactions')
  const rowsWithoutJob = await q(`SELECT count(*) AS n FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = 'deliver-bill' AND j.data->>'transactionId' = t.id::text)`)
  const jobsWithoutRow = await q(`SELECT count(*) AS n FROM pgboss.job j WHERE j.name = 'deliver-bill' AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id::text = j.data->>'transactionId')`)
  const counters = sandbox.counters()
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
  const figures = {
    'valid bills': expected.size, delivered, rows, 'bills in Zoho': inZoho.length, 'duplicates in Zoho': duplicates, 'missing in Zoho': missing,
    'invalid rejected with their code': rejectedCodes.size - wrongRejections, 'wrong rejections': wrongRejections, 'rows without a job': rowsWithoutJob,
    'jobs without a row': jobsWithoutRow, 'orphan PDFs': orphans, 'rows without their PDF': missingPdfs, 'failed sends': sendErrors,
    'zoho 429s': counters.responses429, 'zoho 5xx injected': counters.faults.errors, 'timeouts injected': counters.faults.timedOut, 'drops injected': counters.faults.dropped,
    'tokens issued': counters.tokensIssued,
  }
  const pass = delivered === expected.size && rows === expected.size && duplicates === 0 && missing === 0 && wrongRejections === 0 && rowsWithoutJob === 0 && jobsWithoutRow === 0 && orphans === 0 && missingPdfs === 0 && sendErrors === 0
  const verdict = `chaos ${options.scenario}: ${pass ? 'PASS' : 'FAIL'} — ${delivered}/${expected.size} valid bills delivered, ${duplicates} duplicated in Zoho, ${rejectedCodes.size - wrongRejections}/${rejectedCodes.size} invalid rejected with their code, ${rowsWithoutJob + jobsWithoutRow} row/job mismatches, ${orphans} orphan PDFs`
  return { pass, verdict, figures }
}
