import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { request } from 'undici'
import { loadConfig } from '../src/config.ts'
import { pgErrorSummary, toContentRejected } from '../src/db/errors.ts'
import { createLogger } from '../src/logger.ts'
import { startRuntime } from '../src/runtime.ts'
import { createTestDatabase } from './helpers/db.ts'

const db = await createTestDatabase(t)
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-logging-'))
t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
// The blob folder sits under a plain file, so the PDF store fails its probe with a path in the error.
await fs.writeFile(path.join(dir, 'not-a-folder'), 'x')
const blobDir = path.join(dir, 'not-a-folder', 'blobs')
const out = new PassThrough()
let logged = ''
out.on('data', (chunk) => (logged += chunk))
const runtime = await startRuntime(loadConfig({ ROLE: 'api', PORT: '0', DATABASE_URL: db.url, DATA_DIR: dir, BLOB_STORE: 'fs', BLOB_DIR: blobDir }), createLogger('info', out))
t.teardown(() => runtime.stop())
const url = `http://127.0.0.1:${(runtime.app!.server.address() as { port: number }).port}`

t.test('secrets put in a query string never reach the log', async (t) => {
  const res = await request(`${url}/v1/transactions?externalId=x&apiKey=bb_leaked_key_123&access_token=tok456`, { headers: { authorization: 'Bearer bb_header_key_789', cookie: 'bb_session=cookie_value_000' } })
  await res.body.dump()
  await new Promise((resolve) => setImmediate(resolve))
  t.match(logged, /externalId=x&apiKey=\[redacted\]&access_token=\[redacted\]/)
  t.notMatch(logged, /bb_leaked_key_123|tok456/)
  t.notMatch(logged, /bb_header_key_789|cookie_value_000/, 'nor do the Authorization header and cookies')
})

t.test('readiness names the failing part to callers and keeps the path for the log', async (t) => {
  const res = await request(`${url}/health/ready`)
  const body = await res.body.text()
  t.equal(res.statusCode, 503)
  t.same(JSON.parse(body), { status: 'unavailable', failing: ['blobStore'] })
  t.notMatch(body, dir, 'no path in the answer')
  t.match(logged, 'not-a-folder', 'the path is in the log for the operator')
})

t.test('a PostgreSQL error is logged by code and constraint, never with the row', async (t) => {
  const err = await db.pool.query(`INSERT INTO api_keys (name, key_prefix, key_hash, scopes) VALUES ('secret memo text!', 'x', '\\x00', '{ingest}')`).catch((e: unknown) => e)
  t.match((err as { detail?: string }).detail ?? (err as Error).message, /secret memo text|api_keys_name_check/, 'PostgreSQL itself puts the row in the error')
  const summary = pgErrorSummary(err)
  t.same(summary, { pgCode: '23514', constraint: 'api_keys_name_check', table: 'api_keys' })
  t.notMatch(JSON.stringify(summary), /secret memo/)
  const data = await db.pool.query(`SELECT 'x'::numeric(3, 2) * 1000`).catch((e: unknown) => e)
  t.match(toContentRejected(data), { code: 'CONTENT_UNSTORABLE', statusCode: 422 }, 'a data exception is the client\'s content, not a 500')
})
