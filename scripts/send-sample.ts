// Sends realistic sample batches to a running billbridge:
//   npm run send-sample -- --bills 100 --size 300kb [--batches 1] [--url http://127.0.0.1:3000] [--key KEY] [--prefix NAME]
// Without --key (or BILLBRIDGE_API_KEY) it mints an ingest+read key in the service's database.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { Readable } from 'node:stream'
import { request } from 'undici'
import { createApiKeyRepository } from '../src/auth/api-keys.ts'
import { loadConfig } from '../src/config.ts'
import { startEmbeddedPostgres } from '../src/db/embedded.ts'
import { createKysely, createPool } from '../src/db/pool.ts'
import { createLogger } from '../src/logger.ts'
import { batchBody, parseSize, sampleBill } from './lib/sample-bills.ts'

const { values } = parseArgs({
  options: {
    bills: { type: 'string', default: '100' },
    size: { type: 'string', default: '300kb' },
    batches: { type: 'string', default: '1' },
    url: { type: 'string', default: process.env.BILLBRIDGE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}` },
    key: { type: 'string', default: process.env.BILLBRIDGE_API_KEY },
    prefix: { type: 'string', default: `NS${Date.now().toString(36).toUpperCase()}` },
  },
})

async function mintKey(): Promise<string> {
  const config = loadConfig()
  const logger = createLogger('warn', process.stderr)
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), logger)
  const pool = createPool(config.databaseUrl ?? embedded!.url, logger, 1)
  const db = createKysely(pool)
  try {
    const { key } = await createApiKeyRepository(db).create(`sample-sender-${Date.now()}`, ['ingest', 'read'])
    return key
  } finally {
    await db.destroy()
    await embedded?.stop()
  }
}

const key = values.key ?? (await mintKey())
const billsPerBatch = Number(values.bills)
const pdfBytes = parseSize(values.size)
let sent = 0
for (let b = 0; b < Number(values.batches); b++) {
  const batchId = `${values.prefix}-B${b + 1}`
  const bills = Array.from({ length: billsPerBatch }, (_, i) => sampleBill({ index: sent + i, prefix: values.prefix, pdfBytes }))
  const started = performance.now()
  const res = await request(`${values.url}/v1/vendor-bills/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: Readable.from(batchBody(batchId, bills)),
  })
  const answer = (await res.body.json()) as { accepted?: number; rejected?: number; error?: { code: string; message: string } }
  const ms = Math.round(performance.now() - started)
  sent += billsPerBatch
  if (res.statusCode !== 202) {
    process.stderr.write(`batch ${batchId}: HTTP ${res.statusCode} ${JSON.stringify(answer.error ?? answer)}\n`)
    process.exitCode = 1
  } else process.stdout.write(`batch ${batchId}: HTTP 202 in ${ms} ms, accepted ${answer.accepted}, rejected ${answer.rejected}\n`)
}
process.stdout.write(`sent ${sent} bills of about ${values.size} each to ${values.url}\nread them back with: curl -H "Authorization: Bearer <key>" ${values.url}/v1/batches/${values.prefix}-B1\n`)
