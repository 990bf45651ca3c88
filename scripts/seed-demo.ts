// Fills the database with a year of realistic traffic for trying the dashboard and measuring it:
//   npm run seed-demo -- --rows 5000000
// ≈1% failed (with attempts), a few hundred queued, the rest delivered; 5,000 vendors; batches of 100.
// Rows point at one shared sample PDF, so the dashboard's PDF view works on any of them.
import { loadConfig } from '../src/config.ts'
import { createBlobStore } from '../src/blob/index.ts'
import { migrate } from '../src/db/migrate.ts'
import { createPool } from '../src/db/pool.ts'
import { createLogger } from '../src/logger.ts'
import { intOption, scriptArgs } from './lib/args.ts'
import { samplePdf } from './lib/sample-bills.ts'
import { openServiceDatabase, ScriptError } from './lib/service-database.ts'

const USAGE = `usage: npm run seed-demo -- [--rows N] [--chunk N]
Fills the service's database (DATABASE_URL, or the embedded one under DATA_DIR, default ./data) with a year
of realistic traffic: about 1% failed, a few hundred queued, the rest delivered; 5,000 vendors. Run it again to add more.
  --rows N     bills to add (default 100000)
  --chunk N    bills per transaction (default 250000)
  -h, --help   this text`

const { values } = scriptArgs(USAGE, { rows: { type: 'string', default: '100000' }, chunk: { type: 'string', default: '250000' } })
const total = intOption('rows', values.rows, 1, 100_000_000, USAGE)
const chunk = intOption('chunk', values.chunk, 1, 10_000_000, USAGE)
const config = loadConfig()
const logger = createLogger('warn', process.stderr)
const database = await openServiceDatabase(config, logger).catch((err: unknown) => {
  if (!(err instanceof ScriptError)) throw err
  process.stderr.write(`error: ${err.message}\n`)
  process.exit(1)
})
const pool = createPool(database.url, logger, 2)
await migrate(pool, logger)

const pdf = samplePdf('Demo invoice', 20_000)
const blobs = await createBlobStore(config.blob)
await blobs.put('demo/sample.pdf', (async function* () { yield pdf })())
const { createHash } = await import('node:crypto')
const sha = createHash('sha256').update(pdf).digest('hex')
const codes = ['ACCOUNT_UNMAPPED', 'ZOHO_REJECTED', 'VENDOR_NOT_FOUND', 'RETRIES_EXHAUSTED', 'ATTACHMENT_TOO_LARGE_FOR_ZOHO']
const started = Date.now()
// Seeding again appends after the demo rows already there.
const { rows: seeded } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM transactions WHERE external_id LIKE 'DEMO-%'`)
const offset = Number(seeded[0]?.n ?? 0)

for (let from = 0; from < total; from += chunk) {
  const n = Math.min(chunk, total - from)
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    // One batch row per 100 bills, spread over the last year, oldest first.
    await client.query(
      `INSERT INTO batches (id, client_batch_id, bill_count, accepted, rejected, created_at)
       SELECT md5('demo-batch-' || b)::uuid, 'DEMO-' || b, 100, 100, 0,
              now() - interval '365 days' + (b::double precision / ($2::double precision / 100)) * interval '365 days'
         FROM generate_series(($1::bigint / 100), (($1::bigint + $3::bigint - 1) / 100)) AS b
       ON CONFLICT DO NOTHING`, [offset + from, total + offset, n])
    await client.query(
      `INSERT INTO transactions (batch_id, external_id, bill_number, vendor_external_id, vendor_name, vendor, bill, amount, currency,
                                 status, attempts, last_error_code, last_error_message, zoho_bill_id, zoho_attachment,
                                 blob_key, file_name, sha256, size_bytes, created_at, updated_at, delivered_at)
       SELECT md5('demo-batch-' || (i / 100))::uuid, 'DEMO-' || i, 'INV-' || lpad(i::text, 8, '0'), 'V-' || v, 'Vendor ' || v,
              jsonb_build_object('name', 'Vendor ' || v, 'externalId', 'V-' || v),
              jsonb_build_object('date', to_char(created, 'YYYY-MM-DD'), 'currency', 'USD',
                                 'lines', jsonb_build_array(jsonb_build_object('account', '6100 Office Supplies', 'amount', to_char(amount, 'FM999999990.00')))),
              amount, 'USD', status,
              CASE status WHEN 'failed' THEN 3 WHEN 'delivered' THEN 1 ELSE 0 END,
              CASE WHEN status = 'failed' THEN code END,
              CASE WHEN status = 'failed' THEN 'demo failure: ' || code END,
              CASE WHEN status = 'delivered' THEN (460000000000 + i)::text END,
              status = 'delivered', 'demo/sample.pdf', 'INV-' || i || '.pdf', $3, $4,
              created, created + interval '2 minutes', CASE WHEN status = 'delivered' THEN created + interval '2 minutes' END
         FROM (
           SELECT i, 1 + abs(hashint8(i)) % 5000 AS v,
                  round(((abs(hashint8(i * 3)) % 500000) / 100.0 + 5)::numeric, 2) AS amount,
                  CASE WHEN i >= $5::bigint - 300 THEN (CASE WHEN i % 5 = 0 THEN 'processing' ELSE 'queued' END)
                       WHEN abs(hashint8(i * 11)) % 100 = 0 THEN 'failed' ELSE 'delivered' END AS status,
                  ($6::text[])[1 + abs(hashint8(i * 13)) % 5] AS code,
                  now() - interval '365 days' + (i::double precision / $5::double precision) * interval '365 days' AS created
             FROM generate_series($1::bigint, $1::bigint + $2::bigint - 1) AS i
         ) s`, [offset + from, n, sha, pdf.length, offset + total, codes])
    await client.query(
      `INSERT INTO attempts (transaction_id, started_at, finished_at, outcome, http_status, zoho_code, error_code, message, duration_ms)
       SELECT t.id, t.created_at + k * interval '30 seconds', t.created_at + k * interval '30 seconds' + interval '400 ms',
              CASE WHEN k < 3 THEN 'retry' ELSE 'failed' END, 400, 4, t.last_error_code, t.last_error_message, 400
         FROM transactions t CROSS JOIN generate_series(1, 3) AS k
        WHERE t.status = 'failed' AND t.external_id LIKE 'DEMO-%' AND t.created_at >= (SELECT min(created_at) FROM transactions WHERE external_id = 'DEMO-' || $1::bigint)
          AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.transaction_id = t.id)`, [offset + from])
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  } finally {
    client.release()
  }
  process.stderr.write(`seeded ${from + n} of ${total} rows (${Math.round((Date.now() - started) / 1000)} s)\n`)
}
// What operators leave behind, for the operator pages: 3 rejected items in every 20th batch, and one audit
// entry per 100 bills (log ins, retries, mappings), spread over the year. Only once per database.
const { rows: operatorRows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM operator_audit')
if (Number(operatorRows[0]!.n) === 0) {
  await pool.query(
    `INSERT INTO rejected_items (batch_id, item_index, external_id, code, field, message, bill_number, vendor_name, created_at)
     SELECT b.id, 100 + k, 'DEMO-REJ-' || b.client_batch_id || '-' || k, ($1::text[])[1 + k], ($2::text[])[1 + k], 'demo rejection',
            'INV-REJ-' || b.client_batch_id || '-' || k, 'Vendor ' || (1 + abs(hashtext(b.client_batch_id || k)) % 5000), b.created_at
       FROM batches b CROSS JOIN generate_series(0, 2) AS k WHERE b.client_batch_id LIKE 'DEMO-%' AND abs(hashtext(b.client_batch_id)) % 20 = 0
     ON CONFLICT DO NOTHING`, [['AMOUNT_INVALID', 'VENDOR_MISSING', 'DATE_INVALID'], ['amount', 'vendor', 'date']])
  await pool.query(
    `INSERT INTO operator_audit (at, actor, action, subject, detail, address)
     SELECT now() - interval '365 days' + (i::double precision / $1::double precision) * interval '365 days', 'operator-' || (i % 7),
            (ARRAY['login', 'retry', 'retry_bulk', 'map_account', 'map_vendor', 'resolve', 'logout'])[1 + i % 7], 'DEMO-' || (i * 100),
            jsonb_build_object('count', 1 + i % 40), '10.0.0.' || (i % 250)
       FROM generate_series(1, $1::bigint) AS i`, [Math.max(1, Math.floor((offset + total) / 100))])
}
await pool.query('ANALYZE transactions; ANALYZE batches; ANALYZE attempts; ANALYZE rejected_items; ANALYZE operator_audit; ANALYZE mapping_usage')
const { rows } = await pool.query('SELECT status, n FROM status_counts ORDER BY status')
process.stdout.write(`done in ${Math.round((Date.now() - started) / 1000)} s; status counts: ${rows.map((r) => `${r.status} ${r.n}`).join(', ')}\n`)
await pool.end()
await blobs.close()
await database.close()
