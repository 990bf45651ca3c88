import t from 'tap'
import { request } from 'undici'
import { SANDBOX_CREDENTIALS } from '../../src/sandbox/server.ts'
import { CookieJar, getPage, logIn } from '../helpers/admin.ts'
import { getJson, mintKey } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox } from '../helpers/zoho.ts'

// The API alone (no worker delivers): the backlog, the pace and the counter are what the test seeds.
const { env } = await startSandbox(t)
const runtime = await startTestRuntime(t, { ...env, ROLE: 'api', ZOHO_DAILY_LIMIT: '1000', ZOHO_RATE_PER_MINUTE: '100' })
const org = SANDBOX_CREDENTIALS.organizationId
const reader = await mintKey(runtime, ['read'])

async function seedBills(status: 'queued' | 'delivered', count: number, prefix: string): Promise<void> {
  await runtime.pool.query(
    `INSERT INTO transactions (external_id, bill_number, vendor_name, vendor, bill, amount, currency, status, blob_key, file_name, sha256, size_bytes, delivered_at, organization_id)
     SELECT $3 || g, $3 || g, 'Acme', '{"name":"Acme"}', '{}', 10, 'USD', $1, 'k/' || $3 || g, 'b.pdf', repeat('0', 64), 1,
            CASE WHEN $1 = 'delivered' THEN now() END, $4
       FROM generate_series(1, $2) g`, [status, count, prefix, org])
}

// 900 bills waiting; 120 delivered over the last 4 minutes; 240 requests spent today (2 a bill) of 1,000.
await seedBills('queued', 900, 'Q')
await seedBills('delivered', 120, 'D')
await runtime.pool.query(
  `INSERT INTO attempts (transaction_id, started_at, finished_at, outcome, duration_ms, organization_id)
   SELECT id, now() - interval '4 minutes' + (row_number() OVER (ORDER BY external_id)) * interval '2 seconds', now() - interval '1 minute', 'delivered', 100, organization_id
     FROM transactions WHERE status = 'delivered'`)
await runtime.pool.query(`INSERT INTO rate_limits (key, tokens, capacity, refill_per_sec, daily_limit) VALUES ($1, 1, 1, $2, 1000)`, [`zoho:${org}`, 98 / 60])
// As take_permit moves it: the trigger of migration 0033 counts the requests of the minute.
await runtime.pool.query(`UPDATE rate_limits SET day_count = day_count + 200 WHERE key = $1`, [`zoho:${org}`])
await runtime.pool.query(`UPDATE rate_limits SET day_count = day_count + 40 WHERE key = $1`, [`zoho:${org}`])

t.test('GET /v1/backlog: figures and an ETA two quota days away', async (t) => {
  const { status, body } = await getJson(runtime, '/v1/backlog', reader)
  t.equal(status, 200)
  t.equal(body.organizations.length, 1)
  const b = body.organizations[0]
  t.match(b, {
    organizationId: org, billsWaiting: 900, queued: 900, processing: 0, requestsUsedToday: 240, requestsLeftToday: 760, dailyLimit: 1000,
    pausedUntil: null, requestsPerBill: 2, requestsPerBillMeasured: true, paceWindowSeconds: 600, etaBasis: 'pace', limitedBy: 'quota', requestsNeeded: 1800,
  })
  t.ok(b.pacePerMinute > 25 && b.pacePerMinute < 31, `pace ${b.pacePerMinute}: 120 bills since the first began, 4 minutes ago`)
  // 1,800 requests: 760 today at most, 1,000 tomorrow, the rest the day after.
  t.equal(b.quotaResets, 2)
  const midnight = new Date(b.dailyResetAt)
  t.equal(midnight.getTime() % 86_400_000, 0, 'the quota day ends at UTC midnight')
  t.ok(new Date(b.eta).getTime() > midnight.getTime() + 86_400_000, `the ETA ${b.eta} is after the second reset`)
  t.ok(b.etaSeconds > 0)
})

t.test('GET /v1/backlog needs the read scope', async (t) => {
  t.equal((await getJson(runtime, '/v1/backlog')).status, 401)
  t.equal((await getJson(runtime, '/v1/backlog', await mintKey(runtime, ['ingest']))).status, 403)
})

t.test('/metrics carries the same figures', async (t) => {
  const text = await (await request(`${runtime.url}/metrics`)).body.text()
  t.match(text, new RegExp(`billbridge_backlog_bills\\{organization="${org}"\\} 900\\n`))
  t.match(text, new RegExp(`billbridge_zoho_requests_left_today\\{organization="${org}"\\} 760\\n`))
  t.match(text, new RegExp(`billbridge_zoho_requests_per_bill\\{organization="${org}"\\} 2\\n`))
  t.match(text, new RegExp(`billbridge_delivery_pace_per_minute\\{organization="${org}"\\} [0-9.]+\\n`))
  const eta = Number(new RegExp(`billbridge_backlog_eta_seconds\\{organization="${org}"\\} ([0-9.e+-]+)\\n`).exec(text)?.[1])
  t.ok(eta > 86_400 - 1, 'more than the rest of today')
})

t.test('the overview shows the backlog and refreshes itself', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, await mintKey(runtime, ['admin'], 'operator'))
  const page = await getPage(runtime, jar, '/admin')
  t.equal(page.status, 200)
  t.match(page.html, /<meta http-equiv="refresh" content="30">/)
  t.notMatch(page.html, /<script/i)
  t.match(page.html, /bills waiting<\/span><b>900<\/b>/)
  t.match(page.html, /Zoho requests left today<\/span><b>760<\/b>/)
  t.match(page.html, /requests per bill<\/span><b>2\.00<\/b><span class="muted">measured, last hour/)
  t.match(page.html, /in 2 quota days, in .*today's quota runs out first/)
})

t.test('paused with nothing delivered lately: reckoned at the budget from the pause end', async (t) => {
  await runtime.pool.query(`UPDATE attempts SET finished_at = now() - interval '2 hours'`)
  await runtime.pool.query(`UPDATE rate_limits SET blocked_until = now() + interval '1 minute' WHERE key = $1`, [`zoho:${org}`])
  const b = (await getJson(runtime, '/v1/backlog', reader)).body.organizations[0]
  t.match(b, { pacePerMinute: 0, etaBasis: 'budget', requestsPerBill: 1, requestsPerBillMeasured: false })
  t.ok(new Date(b.pausedUntil).getTime() > Date.now() - 60_000)
  const jar = new CookieJar()
  await logIn(runtime, jar, await mintKey(runtime, ['admin']))
  t.match((await getPage(runtime, jar, '/admin')).html, /nothing was delivered in the last 10 minutes, so reckoned at the bucket's 98 requests a minute once the pause ends/)
})

t.test('nothing waiting: said so, ETA now', async (t) => {
  await runtime.pool.query(`UPDATE transactions SET status = 'failed' WHERE status = 'queued'`)
  const b = (await getJson(runtime, '/v1/backlog', reader)).body.organizations[0]
  t.match(b, { billsWaiting: 0, etaSeconds: 0, etaBasis: 'empty', limitedBy: null, quotaResets: 0 })
  const text = await (await request(`${runtime.url}/metrics`)).body.text()
  t.match(text, new RegExp(`billbridge_backlog_eta_seconds\\{organization="${org}"\\} 0\\n`))
  const jar = new CookieJar()
  await logIn(runtime, jar, await mintKey(runtime, ['admin']))
  t.match((await getPage(runtime, jar, '/admin')).html, /Nothing is waiting/)
})
