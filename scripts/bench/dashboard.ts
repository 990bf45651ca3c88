// Dashboard queries at scale: each query behind /admin run repeatedly against a seeded database
// (npm run seed-demo -- --rows 5000000), with p50/p95 and its EXPLAIN plan; and, in the same run, the
// scan and OFFSET designs they replace.
//   DATABASE_URL=... npm run bench -- dashboard [--runs 50] [--plans]
import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../../src/config.ts'
import { startEmbeddedPostgres } from '../../src/db/embedded.ts'
import { createPool } from '../../src/db/pool.ts'
import { createLogger } from '../../src/logger.ts'

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== 'dashboard'), options: { runs: { type: 'string', default: '50' }, plans: { type: 'boolean', default: false } } })
const runs = Number(values.runs)
const config = loadConfig()
const logger = createLogger('warn', process.stderr)
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), logger)
const pool = createPool(config.databaseUrl ?? embedded!.url, logger, 2)

const total = (await pool.query<{ n: string }>('SELECT sum(n) AS n FROM status_counts')).rows[0]!.n
const sample = (await pool.query<{ vendor_name: string; last_error_code: string; batch_id: string; id: string; created_at: Date }>(
  `SELECT vendor_name, last_error_code, batch_id, id, created_at FROM transactions WHERE status = 'failed' ORDER BY created_at DESC, id DESC OFFSET 5000 LIMIT 1`)).rows[0]!
const batch = (await pool.query<{ client_batch_id: string }>('SELECT client_batch_id FROM batches WHERE id = $1', [sample.batch_id])).rows[0]!.client_batch_id
const failedCols = 'id, external_id, bill_number, vendor_name, amount, currency, attempts, last_error_code, last_error_message, created_at'

// The SQL the dashboard runs (src/repositories/overview.ts, failed.ts, transactions.ts, routes/admin).
const queries: Array<[string, string, unknown[]]> = [
  ['overview: counts by status (rollup)', 'SELECT status, n FROM status_counts ORDER BY status', []],
  ['overview: oldest queued bill', `SELECT min(created_at) AS at FROM transactions WHERE status IN ('queued', 'processing')`, []],
  ['overview: deliveries per hour, 24 h', `SELECT hour, n FROM delivery_hourly WHERE hour > now() - interval '24 hours' ORDER BY hour`, []],
  ['overview: failures by reason, 7 days', `SELECT code, sum(n)::bigint AS n FROM failure_daily WHERE day > current_date - 7 GROUP BY code ORDER BY 2 DESC LIMIT 20`, []],
  ['overview: token and bucket', `SELECT t.expires_at, r.tokens, r.blocked_until FROM (SELECT 1) x LEFT JOIN oauth_tokens t ON true LEFT JOIN rate_limits r ON true LIMIT 1`, []],
  ['failed: first page', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' ORDER BY created_at DESC, id DESC LIMIT 51`, []],
  ['failed: a page deep in the list (keyset)', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND (created_at, id) < ($1, $2::uuid) ORDER BY created_at DESC, id DESC LIMIT 51`, [sample.created_at, sample.id]],
  ['failed: by vendor', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND vendor_name = $1 ORDER BY created_at DESC, id DESC LIMIT 51`, [sample.vendor_name]],
  ['failed: by error code', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND last_error_code = $1 ORDER BY created_at DESC, id DESC LIMIT 51`, [sample.last_error_code]],
  ['failed: by date range', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND created_at >= $1 AND created_at < $1::timestamptz + interval '30 days' ORDER BY created_at DESC, id DESC LIMIT 51`, [new Date(Date.now() - 200 * 86_400_000)]],
  ['failed: by batch', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND batch_id = (SELECT id FROM batches WHERE client_batch_id = $1) ORDER BY created_at DESC, id DESC LIMIT 51`, [batch]],
  ['failed: matching count (capped 10,000)', `SELECT count(*) FROM (SELECT id FROM transactions WHERE status = 'failed' LIMIT 10000) f`, []],
  ['failed: matching count by code', `SELECT count(*) FROM (SELECT id FROM transactions WHERE status = 'failed' AND last_error_code = $1 LIMIT 10000) f`, [sample.last_error_code]],
  ['detail: the bill', 'SELECT * FROM transactions WHERE id = $1', [sample.id]],
  ['detail: its attempts', 'SELECT * FROM attempts WHERE transaction_id = $1 ORDER BY started_at, id', [sample.id]],
  ['batches: recent page', 'SELECT id, client_batch_id, created_at, accepted, rejected FROM batches ORDER BY created_at DESC, id DESC LIMIT 51', []],
  ['batches: counts for a page', `SELECT batch_id, status, count(*) FROM transactions WHERE batch_id = ANY(ARRAY(SELECT id FROM batches ORDER BY created_at DESC, id DESC LIMIT 50)) GROUP BY 1, 2`, []],
  ['view: queue_health', 'SELECT * FROM queue_health', []],
  ['view: failure_reasons_daily (30 days)', `SELECT * FROM failure_reasons_daily WHERE day > current_date - 30 ORDER BY day DESC`, []],
  ['view: delivery_daily (30 days)', `SELECT * FROM delivery_daily WHERE day > current_date - 30 ORDER BY day DESC`, []],
  ['view: failed_transactions (latest 50)', 'SELECT * FROM failed_transactions ORDER BY created_at DESC LIMIT 50', []],
]
// What they replace, measured in the same run.
const baselines: Array<[string, string, unknown[]]> = [
  ['replaced: counts by status by scanning', 'SELECT status, count(*) FROM transactions GROUP BY status', []],
  ['replaced: OFFSET page 100 of the failed list', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' ORDER BY created_at DESC, id DESC OFFSET 5000 LIMIT 50`, []],
  ['replaced: OFFSET page 100 of all bills', `SELECT ${failedCols} FROM transactions ORDER BY created_at DESC OFFSET 5000 LIMIT 50`, []],
]

async function measure(sql: string, params: unknown[], times: number): Promise<{ p50: number; p95: number }> {
  const ms: number[] = []
  for (let i = 0; i < times + 3; i++) {
    const started = performance.now()
    await pool.query(sql, params)
    if (i >= 3) ms.push(performance.now() - started)
  }
  ms.sort((a, b) => a - b)
  return { p50: ms[Math.floor(ms.length * 0.5)]!, p95: ms[Math.min(ms.length - 1, Math.ceil(ms.length * 0.95) - 1)]! }
}

async function plan(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params)
  return rows.map((r) => `      ${r['QUERY PLAN']}`).join('\n')
}

const out: string[] = [`dashboard queries on ${Number(total).toLocaleString('en-US')} transactions, ${runs} runs each (after 3 warm-up runs), times in ms`]
let worst = 0
for (const [name, sql, params] of [...queries, ...baselines]) {
  const { p50, p95 } = await measure(sql, params, name.startsWith('replaced') ? Math.min(runs, 10) : runs)
  if (!name.startsWith('replaced')) worst = Math.max(worst, p95)
  out.push(`  ${name.padEnd(46)} p50 ${p50.toFixed(2).padStart(8)}  p95 ${p95.toFixed(2).padStart(8)}`)
  if (values.plans) out.push(await plan(sql, params))
}
out.push(`  slowest dashboard query p95: ${worst.toFixed(2)} ms (budget 10 ms)`)
process.stdout.write(out.join('\n') + '\n')
await pool.end()
await embedded?.stop()
