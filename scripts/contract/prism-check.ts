// Stoplight Prism as a validating proxy (`prism proxy --errors`) in front of a billbridge service started here
// (ROLE=api, a scratch database, small limits), and every operation's requests sent through it: the successes,
// the documented refusals a valid request can meet, and requests that break the document on purpose.
// Prints each violation Prism reports and their number. Prism is fetched by npx, never a dependency:
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node scripts/contract/prism-check.ts [--port 4010]
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { request } from 'undici'
import { createApiKeyRepository } from '../../src/auth/api-keys.ts'
import { migrate } from '../../src/db/migrate.ts'
import { createKysely, createPool } from '../../src/db/pool.ts'
import { createLogger } from '../../src/logger.ts'
import { startServiceProcess, stopServiceProcess } from '../lib/service-process.ts'
import { sampleBill } from '../lib/sample-bills.ts'

const { values } = parseArgs({ options: { port: { type: 'string', default: '4010' } } })
const admin = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const logger = createLogger('warn', process.stderr)

/** valid: the document accepts the request, so Prism must forward it; invalid: it breaks the document (its schema or its security) on purpose. */
interface Case { name: string; method: 'GET' | 'POST' | 'DELETE'; path: string; body?: string; key?: string; contentType?: string; intent: 'valid' | 'invalid'; expect: number }

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-prism-'))
const name = `bb_prism_${randomBytes(4).toString('hex')}`
const client = new pg.Client({ connectionString: admin })
await client.connect()
await client.query(`CREATE DATABASE ${name}`)
const url = new URL(admin)
url.pathname = `/${name}`
const pool = createPool(url.toString(), logger, 2)
const db = createKysely(pool)
let prism: ChildProcess | undefined
let service: Awaited<ReturnType<typeof startServiceProcess>> | undefined
try {
  await migrate(pool, logger)
  const keys = createApiKeyRepository(db)
  const all = (await keys.create('prism-all', ['ingest', 'read', 'admin'])).key
  const reader = (await keys.create('prism-read', ['read'])).key
  service = await startServiceProcess({ ...(process.env as Record<string, string>), DATABASE_URL: url.toString(), DATA_DIR: work, LOG_LEVEL: 'info', MAX_BODY_BYTES: '256kb', MAX_ATTACHMENT_BYTES: '32kb', MAX_BILLS_PER_BATCH: '5', API_RATE_PER_MINUTE: '100000' }, 'api')
  const document = path.join(work, 'openapi.json')
  await fs.writeFile(document, await (await request(`${service.url}/docs/json`)).body.text())
  const prismUrl = `http://127.0.0.1:${values.port}`
  prism = spawn('npx', ['-y', '@stoplight/prism-cli@5', 'proxy', '--errors', '-p', values.port!, '-v', 'warn', document, service.url], { cwd: os.tmpdir(), stdio: ['ignore', 'ignore', 'inherit'], detached: true })
  await waitForPrism(prismUrl)

  const bill = (prefix: string, index = 0, pdfBytes = 2048) => sampleBill({ index, prefix, pdfBytes })
  const json = (value: unknown) => JSON.stringify(value)
  const first = await send(prismUrl, { name: 'send a batch (one bill in lower-case currency)', method: 'POST', path: '/v1/vendor-bills/batches', key: all, intent: 'valid', expect: 202, body: json({ batchId: 'prism-1', bills: [bill('PRISM', 0), { ...bill('PRISM', 1), currency: 'usd' }] }) })
  const id = (JSON.parse(first.text) as { items?: Array<{ transactionId?: string }> }).items?.[0]?.transactionId ?? '00000000-0000-4000-8000-000000000001'
  const cases: Case[] = [
    { name: 'health live', method: 'GET', path: '/health/live', intent: 'valid', expect: 200 },
    { name: 'health ready', method: 'GET', path: '/health/ready', intent: 'valid', expect: 200 },
    { name: 'a batch whose every bill is rejected', method: 'POST', path: '/v1/vendor-bills/batches', key: all, intent: 'valid', expect: 422, body: json({ bills: [{ ...bill('PRISM', 2), currency: 'usd' }] }) },
    { name: 'a batch over MAX_BODY_BYTES', method: 'POST', path: '/v1/vendor-bills/batches', key: all, intent: 'valid', expect: 413, body: json({ bills: [0, 1, 2, 3, 4].map((i) => bill('BIG', i, 60 * 1024)) }) },
    { name: 'a batch with a read-only key', method: 'POST', path: '/v1/vendor-bills/batches', key: reader, intent: 'valid', expect: 403, body: json({ bills: [bill('PRISM', 3)] }) },
    { name: 'a batch without a key', method: 'POST', path: '/v1/vendor-bills/batches', intent: 'invalid', expect: 401, body: json({ bills: [bill('PRISM', 3)] }) },
    { name: 'a batch as text/plain', method: 'POST', path: '/v1/vendor-bills/batches', key: all, contentType: 'text/plain', intent: 'invalid', expect: 415, body: 'bills' },
    { name: 'a batch with an unknown envelope key', method: 'POST', path: '/v1/vendor-bills/batches', key: all, intent: 'invalid', expect: 400, body: json({ bills: [bill('PRISM', 4)], extra: true }) },
    { name: 'one bill', method: 'POST', path: '/v1/vendor-bills', key: all, intent: 'valid', expect: 202, body: json(bill('ONE', 0)) },
    { name: 'one bill whose PDF is not a PDF', method: 'POST', path: '/v1/vendor-bills', key: all, intent: 'valid', expect: 422, body: json({ ...bill('ONE', 1), attachment: { fileName: 'a.pdf', contentBase64: Buffer.from('GIF89a').toString('base64') } }) },
    { name: 'one bill over MAX_ATTACHMENT_BYTES', method: 'POST', path: '/v1/vendor-bills', key: all, intent: 'valid', expect: 413, body: json(bill('ONE', 2, 40 * 1024)) },
    { name: 'one bill with an unknown key', method: 'POST', path: '/v1/vendor-bills', key: all, intent: 'invalid', expect: 400, body: json({ ...bill('ONE', 3), colour: 'red' }) },
    { name: 'read a transaction', method: 'GET', path: `/v1/transactions/${id}`, key: all, intent: 'valid', expect: 200 },
    { name: 'read an unknown transaction', method: 'GET', path: '/v1/transactions/00000000-0000-4000-8000-000000000000', key: all, intent: 'valid', expect: 404 },
    { name: 'read without a key', method: 'GET', path: `/v1/transactions/${id}`, intent: 'invalid', expect: 401 },
    { name: 'a path parameter over 256 characters', method: 'GET', path: `/v1/transactions/${'x'.repeat(300)}`, key: all, intent: 'invalid', expect: 414 },
    { name: 'transactions by external id', method: 'GET', path: '/v1/transactions?externalId=PRISM-0', key: all, intent: 'valid', expect: 200 },
    { name: 'transactions without the external id', method: 'GET', path: '/v1/transactions', key: all, intent: 'invalid', expect: 400 },
    { name: 'read a batch', method: 'GET', path: '/v1/batches/prism-1', key: all, intent: 'valid', expect: 200 },
    { name: 'read an unknown batch', method: 'GET', path: '/v1/batches/nope', key: all, intent: 'valid', expect: 404 },
    { name: 'look bills up', method: 'POST', path: '/v1/transactions/lookup', key: all, intent: 'valid', expect: 200, body: json({ externalIds: ['PRISM-0', 'NS-NEVER'] }) },
    { name: 'look up with externalIds as a string', method: 'POST', path: '/v1/transactions/lookup', key: all, intent: 'invalid', expect: 400, body: json({ externalIds: 'PRISM-0' }) },
    { name: 'retry a bill that has not failed', method: 'POST', path: `/v1/transactions/${id}/retry`, key: all, intent: 'valid', expect: 409 },
    { name: 'retry an unknown bill', method: 'POST', path: '/v1/transactions/00000000-0000-4000-8000-000000000000/retry', key: all, intent: 'valid', expect: 404 },
    { name: 'retry with an option it does not take', method: 'POST', path: `/v1/transactions/${id}/retry`, key: all, intent: 'invalid', expect: 400, body: json({ force: true }) },
    { name: 'retry as text/plain', method: 'POST', path: `/v1/transactions/${id}/retry`, key: all, contentType: 'text/plain', intent: 'invalid', expect: 415, body: 'x' },
    { name: 'retry failed bills by filter', method: 'POST', path: '/v1/transactions/retry', key: all, intent: 'valid', expect: 202, body: json({ filter: { errorCode: 'ACCOUNT_UNMAPPED' } }) },
    { name: 'retry by an unknown filter key', method: 'POST', path: '/v1/transactions/retry', key: all, intent: 'invalid', expect: 400, body: json({ filter: { vendorName: 'x' } }) },
    { name: 'resolve a bill that has not failed', method: 'POST', path: `/v1/transactions/${id}/resolve`, key: all, intent: 'valid', expect: 409, body: json({ note: 'entered by hand in Zoho' }) },
    { name: 'resolve with a note over 2,000 characters', method: 'POST', path: `/v1/transactions/${id}/resolve`, key: all, intent: 'invalid', expect: 400, body: json({ note: 'x'.repeat(2001) }) },
    { name: 'resolve as text/plain', method: 'POST', path: `/v1/transactions/${id}/resolve`, key: all, contentType: 'text/plain', intent: 'invalid', expect: 415, body: 'x' },
    { name: 'a method the path does not take', method: 'DELETE', path: `/v1/transactions/${id}`, key: all, intent: 'invalid', expect: 405 },
  ]
  const results = [first]
  for (const c of cases) results.push(await send(prismUrl, c))
  await pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED' WHERE id = $1`, [id])
  results.push(await send(prismUrl, { name: 'retry a failed bill', method: 'POST', path: `/v1/transactions/${id}/retry`, key: all, intent: 'valid', expect: 202 }))
  await pool.query(`UPDATE transactions SET status = 'failed' WHERE id = $1`, [id])
  results.push(await send(prismUrl, { name: 'resolve a failed bill', method: 'POST', path: `/v1/transactions/${id}/resolve`, key: all, intent: 'valid', expect: 200, body: json({ note: 'entered by hand in Zoho' }) }))

  const violations = results.flatMap((r) => r.violations.map((v) => `${r.name}: ${v}`))
  for (const r of results) console.log(`${r.violations.length ? 'VIOLATION' : 'ok       '} ${String(r.status).padEnd(3)} ${r.name}${r.note ? ` (${r.note})` : ''}`)
  for (const v of violations) console.log(`  - ${v}`)
  console.log(`\n${results.length} requests through prism proxy --errors; ${violations.length} violation${violations.length === 1 ? '' : 's'}`)
  process.exitCode = violations.length ? 1 : 0
} finally {
  // npx runs Prism as its own child: the whole process group goes.
  if (prism?.pid) process.kill(-prism.pid, 'SIGTERM')
  if (service) await stopServiceProcess(service)
  await db.destroy().catch(() => undefined)
  if (!pool.ending) await pool.end()
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await client.end()
  await fs.rm(work, { recursive: true, force: true })
}

/**
 * One request through Prism. A valid request Prism refuses, or any answer Prism finds off the document, is a
 * violation; a request that breaks the document on purpose may be refused by Prism itself (then it never reaches
 * the service) or forwarded, and then its answer must match the document like any other.
 */
async function send(prismUrl: string, c: Case) {
  const res = await request(`${prismUrl}${c.path}`, {
    method: c.method,
    headers: { ...(c.key ? { authorization: `Bearer ${c.key}` } : {}), ...(c.body !== undefined ? { 'content-type': c.contentType ?? 'application/json' } : {}) },
    ...(c.body !== undefined ? { body: c.body } : {}),
  })
  const text = await res.body.text()
  const violations: string[] = []
  let note = ''
  const header = res.headers['sl-violations']
  if (header) violations.push(`sl-violations: ${String(header).slice(0, 400)}`)
  const problem = prismProblem(text)
  if (problem) {
    const refusedRequest = /UNPROCESSABLE_ENTITY|UNAUTHORIZED|NO_PATH_MATCHED|NO_METHOD_MATCHED|INVALID_CONTENT_TYPE|NOT_ACCEPTABLE/.test(problem.type)
    if (c.intent === 'invalid' && refusedRequest) note = `refused by Prism before the service: ${problem.type.split('#')[1]}`
    else violations.push(`${problem.type.split('#')[1]}: ${problem.detail}`)
  } else if (res.statusCode !== c.expect) {
    note = `service answered ${res.statusCode}, the case expected ${c.expect}: ${text.slice(0, 200)}`
  }
  return { name: c.name, status: res.statusCode, text, violations, note }
}

function prismProblem(text: string): { type: string; detail: string } | null {
  try {
    const body = JSON.parse(text) as { type?: unknown; detail?: unknown; validation?: unknown }
    if (typeof body.type === 'string' && body.type.includes('stoplight.io/prism/errors')) {
      return { type: body.type, detail: `${String(body.detail ?? '')} ${JSON.stringify(body.validation ?? '').slice(0, 600)}` }
    }
  } catch {
    // not JSON: not Prism's
  }
  return null
}

async function waitForPrism(prismUrl: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      await (await request(`${prismUrl}/health/live`)).body.dump()
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
  throw new Error('prism did not start within 5 minutes')
}
