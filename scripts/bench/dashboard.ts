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
import { BACKLOG_SQL, backlogParams } from '../../src/repositories/backlog.ts'

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== 'dashboard'), options: { runs: { type: 'string', default: '50' }, plans: { type: 'boolean', default: false }, 'export-rows': { type: 'string', default: '100000' } } })
const runs = Number(values.runs)
const config = loadConfig()
const logger = createLogger('warn', process.stderr)
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), logger)
const pool = createPool(config.databaseUrl ?? embedded!.url, logger, 2)

const total = (await pool.query<{ n: string }>('SELECT sum(n) AS n FROM status_counts')).rows[0]!.n
const sample = (await pool.query<{ vendor_name: string; last_error_code: string; batch_id: string; id: string; created_at: Date }>(
  `SELECT vendor_name, last_error_code, batch_id, id, created_at FROM transactions WHERE status = 'failed' ORDER BY created_at DESC, id DESC OFFSET least(5000, (SELECT n / 2 FROM status_counts WHERE status = 'failed')) LIMIT 1`)).rows[0]!
const batch = (await pool.query<{ client_batch_id: string }>('SELECT client_batch_id FROM batches WHERE id = $1', [sample.batch_id])).rows[0]!.client_batch_id
const failedCols = 'id, external_id, bill_number, vendor_name, amount, currency, attempts, last_error_code, last_error_message, created_at'
// The organizations bills go to, from the rollup: the one with the fewest bills is the filters' hardest case.
const organizations = (await pool.query<{ organization_id: string }>(
  `SELECT organization_id FROM organization_status_counts WHERE organization_id <> '' GROUP BY 1 ORDER BY sum(n) DESC`)).rows.map((r) => r.organization_id)
const smallest = organizations.at(-1) ?? '60012345678'

// The SQL the dashboard runs (src/repositories/overview.ts, failed.ts, transactions.ts, routes/admin).
const queries: Array<[string, string, unknown[]]> = [
  ['overview: counts by status (rollup)', 'SELECT status, n FROM status_counts ORDER BY status', []],
  ['overview: oldest queued bill', `SELECT min(created_at) AS at FROM transactions WHERE status IN ('queued', 'processing')`, []],
  ['overview: deliveries per hour, 24 h', `SELECT hour, n FROM delivery_hourly WHERE hour > now() - interval '24 hours' ORDER BY hour`, []],
  ['overview: failed now by reason (rollup)', 'SELECT code, n FROM failed_by_code WHERE n > 0 ORDER BY n DESC, code LIMIT 20', []],
  ['overview: backlog, pace and cost (ETA)', BACKLOG_SQL, backlogParams(organizations[0] ?? '60012345678')],
  ['overview: backlog of the smallest organization', BACKLOG_SQL, backlogParams(smallest)],
  ['overview: bills by organization and status', 'SELECT organization_id, status, n FROM organization_status_counts WHERE organization_id = ANY($1::text[])', [organizations]],
  ['overview: oldest waiting bill per organization', `SELECT o.organization_id, (SELECT min(created_at) FROM transactions t WHERE t.organization_id = o.organization_id AND t.status IN ('queued', 'processing')) AS at
     FROM unnest($1::text[]) o(organization_id)`, [organizations]],
  ['overview: token and bucket', `SELECT t.expires_at, r.tokens, r.blocked_until FROM (SELECT 1) x LEFT JOIN oauth_tokens t ON true LEFT JOIN rate_limits r ON true LIMIT 1`, []],
  ['failed: first page', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' ORDER BY created_at DESC, id DESC LIMIT 51`, []],
  ['failed: a page deep in the list (keyset)', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND (created_at, id) < ($1, $2::uuid) ORDER BY created_at DESC, id DESC LIMIT 51`, [sample.created_at, sample.id]],
  ['failed: by vendor', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND vendor_name = $1 ORDER BY created_at DESC, id DESC LIMIT 51`, [sample.vendor_name]],
  ['failed: by error code', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND last_error_code = $1 ORDER BY created_at DESC, id DESC LIMIT 51`, [sample.last_error_code]],
  ['failed: by date range', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND created_at >= $1 AND created_at < $1::timestamptz + interval '30 days' ORDER BY created_at DESC, id DESC LIMIT 51`, [new Date(Date.now() - 200 * 86_400_000)]],
  ['failed: by batch', `SELECT ${failedCols} FROM transactions WHERE status = 'failed' AND batch_id = (SELECT id FROM batches WHERE client_batch_id = $1) ORDER BY created_at DESC, id DESC LIMIT 51`, [batch]],
  ['failed: by organization', `SELECT ${failedCols}, organization_id FROM transactions WHERE status = 'failed' AND organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT 51`, [smallest]],
  ['failed: matching count by organization', `SELECT count(*) FROM (SELECT id FROM transactions WHERE status = 'failed' AND organization_id = $1 LIMIT 10000) f`, [smallest]],
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
// The operator pages (src/repositories/mappings.ts, rejected.ts, search.ts, activity.ts, transactions.ts findBatch).
const org = (await pool.query<{ organization_id: string }>('SELECT organization_id FROM account_map LIMIT 1')).rows[0]?.organization_id ?? '60012345678'
const delivered = (await pool.query<{ zoho_bill_id: string; bill_number: string; external_id: string; vendor_name: string }>(
  `SELECT zoho_bill_id, bill_number, external_id, vendor_name FROM transactions WHERE status = 'delivered' ORDER BY created_at DESC OFFSET least(100000, (SELECT n / 2 FROM status_counts WHERE status = 'delivered')) LIMIT 1`)).rows[0]!
const rejectedAt = (await pool.query<{ created_at: Date | null }>('SELECT min(created_at) + (max(created_at) - min(created_at)) / 2 AS created_at FROM rejected_items')).rows[0]?.created_at ?? new Date()
const batchIds = (await pool.query<{ id: string }>('SELECT id FROM transactions WHERE batch_id = $1', [sample.batch_id])).rows.map((r) => r.id)
const searchCols = 'id, bill_number, external_id, vendor_name, status, amount, currency, zoho_bill_id, last_error_code, created_at'
const prefix = (value: string, n: number) => `${value.toLowerCase().slice(0, n)}%`
const rejectedCols = 'r.batch_id, b.client_batch_id, r.item_index, r.external_id, r.code, r.field, r.message, r.created_at'
queries.push(
  ['mappings: accounts, most failed first', `SELECT u.key, u.label, u.vendor_external_id, u.bills, u.failed, m.zoho_account_id, m.origin, z.account_name
     FROM mapping_usage u LEFT JOIN account_map m ON m.account = u.key AND m.organization_id = $1
     LEFT JOIN zoho_accounts z ON z.account_id = m.zoho_account_id AND z.organization_id = $1
    WHERE u.organization_id = $1 AND u.kind = 'account' ORDER BY u.failed DESC, u.key LIMIT 101`, [org]],
  ['mappings: vendors, most failed first', `SELECT u.key, u.label, u.vendor_external_id, u.bills, u.failed, coalesce(mi.zoho_vendor_id, mn.zoho_vendor_id) AS zoho_id,
            CASE WHEN mi.zoho_vendor_id IS NOT NULL THEN mi.origin ELSE mn.origin END AS origin, CASE WHEN mi.zoho_vendor_id IS NOT NULL THEN mi.vendor_name ELSE mn.vendor_name END AS zoho_name
     FROM mapping_usage u LEFT JOIN vendor_map mi ON mi.organization_id = $1 AND mi.vendor_key = 'id:' || u.vendor_external_id
     LEFT JOIN vendor_map mn ON mn.organization_id = $1 AND mn.vendor_key = 'name:' || u.key
    WHERE u.organization_id = $1 AND u.kind = 'vendor' ORDER BY u.failed DESC, u.key LIMIT 101`, [org]],
  ['batch page: the batch and its answer', `SELECT id, client_batch_id, response, created_at, accepted, rejected FROM batches WHERE client_batch_id = $1 ORDER BY created_at LIMIT 1`, [batch]],
  ['batch page: its items\' statuses', 'SELECT id, status FROM transactions WHERE id = ANY($1::uuid[])', [batchIds]],
  ['rejected: first page', `SELECT ${rejectedCols} FROM rejected_items r JOIN batches b ON b.id = r.batch_id ORDER BY r.created_at DESC, r.batch_id DESC, r.item_index DESC LIMIT 51`, []],
  ['rejected: by code', `SELECT ${rejectedCols} FROM rejected_items r JOIN batches b ON b.id = r.batch_id WHERE r.code = $1 ORDER BY r.created_at DESC, r.batch_id DESC, r.item_index DESC LIMIT 51`, ['DATE_INVALID']],
  ['rejected: by date range (30 days)', `SELECT ${rejectedCols} FROM rejected_items r JOIN batches b ON b.id = r.batch_id WHERE r.created_at >= $1 AND r.created_at < $1::timestamptz + interval '30 days' ORDER BY r.created_at DESC, r.batch_id DESC, r.item_index DESC LIMIT 51`, [rejectedAt]],
  ['search: bill number prefix', `SELECT ${searchCols}, lower(bill_number) COLLATE "C" AS sort_key FROM transactions WHERE lower(bill_number) COLLATE "C" LIKE $1 ORDER BY lower(bill_number) COLLATE "C", id LIMIT 21`, [prefix(delivered.bill_number, 9)]],
  ['search: NetSuite id prefix', `SELECT ${searchCols}, lower(external_id) COLLATE "C" AS sort_key FROM transactions WHERE lower(external_id) COLLATE "C" LIKE $1 ORDER BY lower(external_id) COLLATE "C", id LIMIT 21`, [prefix(delivered.external_id, 8)]],
  ['search: Zoho bill id', `SELECT ${searchCols}, zoho_bill_id AS sort_key FROM transactions WHERE zoho_bill_id = $1 ORDER BY zoho_bill_id, id LIMIT 21`, [delivered.zoho_bill_id]],
  ['search: vendor name prefix', `SELECT ${searchCols}, lower(vendor_name) COLLATE "C" AS sort_key FROM transactions WHERE lower(vendor_name) COLLATE "C" LIKE $1 ORDER BY lower(vendor_name) COLLATE "C", id LIMIT 21`, [prefix(delivered.vendor_name, 9)]],
  ['search: bill number prefix in one organization', `SELECT ${searchCols}, organization_id, lower(bill_number) COLLATE "C" AS sort_key FROM transactions WHERE lower(bill_number) COLLATE "C" LIKE $1 AND organization_id = $2 ORDER BY lower(bill_number) COLLATE "C", id LIMIT 21`, [prefix(delivered.bill_number, 7), smallest]],
  ['activity: by organization', `SELECT id, at, actor, action, subject, detail, address FROM operator_audit
     WHERE (EXISTS (SELECT 1 FROM transactions t WHERE t.id = CASE WHEN subject ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN subject::uuid END AND t.organization_id = $1)
        OR detail->>'organizationId' = $1 OR detail->'filter'->>'organization' = $1) ORDER BY at DESC, id DESC LIMIT 51`, [smallest]],
  ['activity: first page', 'SELECT id, at, actor, action, subject, detail, address FROM operator_audit ORDER BY at DESC, id DESC LIMIT 51', []],
  ['activity: by action', 'SELECT id, at, actor, action, subject, detail, address FROM operator_audit WHERE action = $1 ORDER BY at DESC, id DESC LIMIT 51', ['map_account']],
  ['activity: by who', 'SELECT id, at, actor, action, subject, detail, address FROM operator_audit WHERE actor = $1 ORDER BY at DESC, id DESC LIMIT 51', ['operator-3']],
  ['activity: bills a page names', 'SELECT id, bill_number, vendor_name FROM transactions WHERE id = ANY($1::uuid[])', [batchIds.slice(0, 60)]],
  ['activity: Zoho accounts a page names', 'SELECT account_id, account_name FROM zoho_accounts WHERE organization_id = $1 AND account_id = ANY($2::text[])', [org, ['1', '2', '3']]],
  ['reconciliation: open differences by kind (newest 100 each)', `SELECT f.id, f.kind, f.transaction_id, t.bill_number FROM (SELECT *, row_number() OVER (PARTITION BY kind ORDER BY found_at DESC, id DESC) AS n FROM reconciliation_findings WHERE resolved_at IS NULL) f LEFT JOIN transactions t ON t.id = f.transaction_id WHERE f.n <= 100 ORDER BY f.kind, f.found_at DESC, f.id DESC`, []],
  ['reconciliation: open counts (page and metric)', 'SELECT kind, count(*) AS n FROM reconciliation_findings WHERE resolved_at IS NULL GROUP BY kind', []],
  ['reconciliation: latest runs', 'SELECT id, started_at, state, requests FROM reconciliation_runs ORDER BY id DESC LIMIT 5', []],
  ['search: rejected items by prefix', `SELECT ${rejectedCols}, r.bill_number, r.vendor_name FROM rejected_items r JOIN batches b ON b.id = r.batch_id
     WHERE lower(r.bill_number) COLLATE "C" LIKE $1 OR lower(left(r.external_id, 200)) COLLATE "C" LIKE $1 OR lower(r.vendor_name) COLLATE "C" LIKE $1
     ORDER BY r.created_at DESC, r.batch_id DESC, r.item_index DESC LIMIT 21`, [prefix(delivered.vendor_name, 9)]],
  ['mappings: account picker, part of name or code', `SELECT account_id, account_name, account_code, account_type FROM zoho_accounts
     WHERE organization_id = $1 AND is_active AND (lower(account_name) LIKE $2 OR lower(coalesce(account_code, '')) LIKE $2)
     ORDER BY (lower(account_name) LIKE $3 OR lower(coalesce(account_code, '')) LIKE $3) DESC, account_name LIMIT 50`, [org, '%expense%', 'expense%']],
  ['mappings: tax codes, most failed first', `SELECT u.key, u.label, u.vendor_external_id, u.bills, u.failed, m.zoho_tax_id, m.origin, z.tax_name, z.percentage, z.kind
     FROM mapping_usage u LEFT JOIN tax_map m ON m.tax_code = u.key AND m.organization_id = $1
     LEFT JOIN zoho_taxes z ON z.tax_id = m.zoho_tax_id AND z.organization_id = $1
    WHERE u.organization_id = $1 AND u.kind = 'tax' ORDER BY u.failed DESC, u.key LIMIT 101`, [org]],
  ['mappings: department values, most failed first', `SELECT u.key, u.label, u.bills, u.failed, m.tag_option_id, m.origin, z.full_name
     FROM mapping_usage u LEFT JOIN tag_map m ON m.value = u.key AND m.organization_id = $1 AND m.segment = 'department'
     LEFT JOIN zoho_tag_options z ON z.tag_option_id = m.tag_option_id AND z.tag_id = m.tag_id AND z.organization_id = $1
    WHERE u.organization_id = $1 AND u.kind = 'department' ORDER BY u.failed DESC, u.key LIMIT 101`, [org]],
  ['mappings: tax picker', `SELECT tax_id, tax_name, trim_scale(percentage)::text, kind, is_group FROM zoho_taxes WHERE organization_id = $1 AND is_active ORDER BY percentage, tax_name LIMIT 500`, [org]],
  ['mappings: tag option picker', `SELECT o.tag_id, o.tag_option_id, o.option_name, o.full_name FROM zoho_tag_options o JOIN zoho_tags t ON t.tag_id = o.tag_id AND t.organization_id = o.organization_id
     WHERE o.organization_id = $1 AND o.is_active AND lower(btrim(t.tag_name)) = 'department' ORDER BY o.full_name LIMIT 1000`, [org]],
  ['mappings: bills failed for a tax code', `SELECT id FROM transactions WHERE organization_id = $2 AND status = 'failed' AND EXISTS (SELECT 1 FROM bill_reference_keys(bill) k WHERE k.kind = 'tax' AND k.key = $1) ORDER BY created_at DESC LIMIT 10000`, ['vat:s-gb', org]],
  ['mappings: account picker, how many match', `SELECT count(*) FROM zoho_accounts WHERE organization_id = $1 AND is_active AND (lower(account_name) LIKE $2 OR lower(coalesce(account_code, '')) LIKE $2)`, [org, '%expense%']],
)
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
out.push(await measureExport(Number(values['export-rows'])))
process.stdout.write(out.join('\n') + '\n')
await pool.end()
await embedded?.stop()

/**
 * A CSV export through the real service (ROLE=api in this process, over HTTP, logged in as an operator):
 * the first `rows` rows of a vendor-prefix search, with rows/s and this process's peak RSS while it streams.
 */
async function measureExport(rows: number): Promise<string> {
  const { startRuntime } = await import('../../src/runtime.ts')
  const { createApiKeyRepository } = await import('../../src/auth/api-keys.ts')
  const { request } = await import('undici')
  const runtime = await startRuntime({ ...config, role: 'api', port: 0, host: '127.0.0.1', databaseUrl: config.databaseUrl ?? embedded!.url }, logger)
  try {
    const url = `http://127.0.0.1:${(runtime.app!.server.address() as { port: number }).port}`
    const { key } = await createApiKeyRepository(runtime.db).create(`bench-export-${Date.now()}`, ['admin'])
    const form = await request(`${url}/admin/login`)
    const jar = [form.headers['set-cookie']].flat().filter(Boolean).map((c) => String(c).split(';')[0])
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.body.text())![1]!
    const login = await request(`${url}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.join('; ') }, body: new URLSearchParams({ _csrf: token, apiKey: key }).toString() })
    await login.body.dump()
    jar.push(...[login.headers['set-cookie']].flat().filter(Boolean).map((c) => String(c).split(';')[0]))
    global.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
    const started = performance.now()
    const res = await request(`${url}/admin/search.csv?q=vendor&by=vendor`, { headers: { cookie: jar.join('; ') } })
    let lines = -1
    for await (const chunk of res.body) {
      for (const byte of chunk as Buffer) if (byte === 10) lines++
      if (lines >= rows) break
    }
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    await res.body.dump().catch(() => undefined)
    return `  CSV export (search by vendor prefix, streamed over HTTP): ${lines.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s = ${Math.round(lines / seconds).toLocaleString('en-US')} rows/s; RSS ${(before / 1048576).toFixed(0)} MB before, peak ${(peak / 1048576).toFixed(0)} MB while streaming`
  } finally {
    await runtime.stop()
  }
}
