// Runs the whole test suite against a real PostgreSQL (DATABASE_URL, or an embedded one started here)
// and ends with one line "N passed, N failed"; exits non-zero on any failure.
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { Parser } from 'tap-parser'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.ts'
import { createLogger } from '../src/logger.ts'

const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr)
let embedded: EmbeddedDatabase | undefined
let adminUrl = process.env.DATABASE_URL
let tmp: string | undefined
if (!adminUrl) {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'billbridge-test-pg-'))
  // When the suite runs as root, PostgreSQL runs as the `postgres` user and must reach the data directory.
  await fs.chmod(tmp, 0o755)
  embedded = await startEmbeddedPostgres(path.join(tmp, 'pg'), logger, 'postgres')
  adminUrl = embedded.url
  process.stderr.write(`test database: embedded PostgreSQL in ${tmp}\n`)
}

// Counts leaf assertions at every depth; a subtest's own summary line is not an assertion of its own.
const counts = { pass: 0, fail: 0, skip: 0, todo: 0, failedSubtests: 0 }
function count(parser: Parser): void {
  let subtestPending = false
  parser.on('child', (child: Parser) => {
    subtestPending = true
    count(child)
  })
  parser.on('assert', (result: { ok: boolean; skip?: unknown; todo?: unknown }) => {
    const isSummary = subtestPending
    subtestPending = false
    if (result.skip) counts.skip++
    else if (result.todo) counts.todo++
    else if (isSummary) {
      if (!result.ok) counts.failedSubtests++
    } else if (result.ok) counts.pass++
    else counts.fail++
  })
}
const parser = new Parser()
count(parser)

/**
 * Test files run three at once when the server takes 200 connections (the embedded one is started so), else
 * two: the suite waits on timers and HTTP more than on CPU, but a file of several organizations' workers holds
 * many connections, and three files at once exceeded a server of 100 (`sorry, too many clients already`).
 * `--jobs` on the command line wins.
 */
async function filesAtOnce(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    const { rows } = await client.query<{ max_connections: string }>('SHOW max_connections')
    return Number(rows[0]!.max_connections) >= 200 ? 3 : 2
  } catch {
    return 2 // the tests meet the unreachable server themselves, and fail saying so
  } finally {
    await client.end().catch(() => undefined)
  }
}
const args = process.argv.slice(2)
const jobs = args.some((a) => /^(--jobs(=|$)|-j)/.test(a)) ? [] : [`--jobs=${await filesAtOnce(adminUrl)}`]

const child = spawn('tap', ['--reporter=tap', ...jobs, ...args], {
  env: { ...process.env, BILLBRIDGE_TEST_ADMIN_URL: adminUrl },
  stdio: ['ignore', 'pipe', 'inherit'],
})
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  parser.write(chunk)
})
const code = await new Promise<number>((resolve) => child.on('close', (status) => resolve(status ?? 1)))
parser.end()
await embedded?.stop()
if (tmp) await fs.rm(tmp, { recursive: true, force: true })

const failed = counts.fail === 0 && (code !== 0 || counts.failedSubtests > 0) ? 1 : counts.fail
if (counts.skip) process.stdout.write(`# ${counts.skip} skipped\n`)
process.stdout.write(`${counts.pass} passed, ${failed} failed\n`)
process.exit(code === 0 && failed === 0 ? 0 : 1)
