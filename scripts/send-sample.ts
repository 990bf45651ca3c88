// Sends realistic sample batches to a running billbridge:
//   npm run send-sample -- --bills 100 --size 300kb [--batches 1] [--url http://127.0.0.1:3000] [--key KEY] [--prefix NAME]
// Without --key (or BILLBRIDGE_API_KEY) it mints an ingest+read key in the service's database.
import { Readable } from 'node:stream'
import { request } from 'undici'
import { createApiKeyRepository } from '../src/auth/api-keys.ts'
import { ConfigError, loadConfig, type Config } from '../src/config.ts'
import { createKysely, createPool } from '../src/db/pool.ts'
import { createLogger } from '../src/logger.ts'
import { readServiceFile } from '../src/service-file.ts'
import { exitWithUsage, intOption, scriptArgs } from './lib/args.ts'
import { batchBody, parseSize, sampleBill } from './lib/sample-bills.ts'
import { databaseProblem, openServiceDatabase, ScriptError } from './lib/service-database.ts'

const USAGE = `usage: npm run send-sample -- [options]
Posts sample vendor bills (with generated PDFs) to a running billbridge, then prints how to read them back.
  --bills N        bills per batch (default 100)
  --size SIZE      PDF size of each bill, e.g. 300kb, 2mb (default 300kb)
  --batches N      batches to send (default 1)
  --url URL        the service (default: BILLBRIDGE_URL, else the service running under DATA_DIR, else http://127.0.0.1:$PORT, PORT 3000)
  --key KEY        an API key with the ingest and read scopes (default: BILLBRIDGE_API_KEY, else one is minted
                   in the service's database and printed once)
  --prefix NAME    prefix of the batch and bill ids (default: NS + a time stamp)
  -h, --help       this text
Minting a key needs the service's database: run it with the service's DATA_DIR (default ./data) or DATABASE_URL.`

const { values } = scriptArgs(USAGE, {
  bills: { type: 'string', default: '100' },
  size: { type: 'string', default: '300kb' },
  batches: { type: 'string', default: '1' },
  url: { type: 'string' },
  key: { type: 'string' },
  prefix: { type: 'string', default: `NS${Date.now().toString(36).toUpperCase()}` },
})
const billsPerBatch = intOption('bills', values.bills, 1, 100_000, USAGE)
const batches = intOption('batches', values.batches, 1, 100_000, USAGE)
let pdfBytes = 0
try {
  pdfBytes = parseSize(values.size)
} catch (err) {
  exitWithUsage(`--size ${(err as Error).message}`, USAGE)
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`)
  process.exit(1)
}

let config: Config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) fail(`configuration: ${err.message}`)
  throw err
}

async function serviceUrl(): Promise<string> {
  const given = values.url ?? process.env.BILLBRIDGE_URL
  if (given) return given.replace(/\/+$/, '')
  const running = process.env.PORT ? undefined : (await readServiceFile(config.dataDir))?.url
  return running ?? `http://127.0.0.1:${process.env.PORT || 3000}`
}

/** An ingest+read key made in the service's database. */
async function mintKey(): Promise<{ key: string; name: string }> {
  const logger = createLogger('warn', process.stderr)
  let database
  try {
    database = await openServiceDatabase(config, logger)
  } catch (err) {
    if (err instanceof ScriptError) fail(err.message)
    throw err
  }
  const pool = createPool(database.url, logger, 1)
  const db = createKysely(pool)
  const name = `sample-sender-${Date.now()}`
  try {
    const { key } = await createApiKeyRepository(db).create(name, ['ingest', 'read'])
    return { key, name }
  } catch (err) {
    const problem = databaseProblem(err, database.label)
    if (problem) fail(problem)
    throw err
  } finally {
    await db.destroy()
    await database.close()
  }
}

const url = await serviceUrl()
// Asked first, so that no key is minted for a service that is not there.
await request(`${url}/health/live`).then((res) => res.body.dump(), (err: Error & { code?: string }) => {
  fail(`no billbridge answers at ${url} (${err.code ?? err.message}): start it first (npm start), or pass --url (or set PORT) to where it listens`)
})
let key = values.key ?? process.env.BILLBRIDGE_API_KEY
if (!key) {
  const minted = await mintKey()
  key = minted.key
  process.stdout.write(`minted API key "${minted.name}" (scopes ingest,read); it is shown once:\n  ${key}\n`)
}
let sent = 0
for (let b = 0; b < batches; b++) {
  const batchId = `${values.prefix}-B${b + 1}`
  const bills = Array.from({ length: billsPerBatch }, (_, i) => sampleBill({ index: sent + i, prefix: values.prefix, pdfBytes }))
  const started = performance.now()
  const res = await request(`${url}/v1/vendor-bills/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: Readable.from(batchBody(batchId, bills)),
  })
  const answer = (await res.body.json()) as { accepted?: number; rejected?: number; error?: { code: string; message: string } }
  const ms = Math.round(performance.now() - started)
  sent += billsPerBatch
  if (res.statusCode !== 202) {
    const hint = res.statusCode === 401 && !values.key && !process.env.BILLBRIDGE_API_KEY
      ? ` (the key was made in the database under DATA_DIR=${config.dataDir}${config.databaseUrl ? ' / DATABASE_URL' : ''}: is the service at ${url} using another one?)`
      : ''
    fail(`batch ${batchId}: HTTP ${res.statusCode} ${JSON.stringify(answer.error ?? answer)}${hint}`)
  }
  process.stdout.write(`batch ${batchId}: HTTP 202 in ${ms} ms, accepted ${answer.accepted}, rejected ${answer.rejected}\n`)
}
process.stdout.write(`sent ${sent} bills of about ${values.size} each to ${url}\nread them back with: curl -H "Authorization: Bearer ${key}" ${url}/v1/batches/${values.prefix}-B1\n`)
