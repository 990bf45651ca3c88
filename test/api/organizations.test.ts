import t from 'tap'
import { request } from 'undici'
import { CookieJar, csrfFrom, getPage, logIn, postForm } from '../helpers/admin.ts'
import { bills, getJson, mintKey, sendBills } from '../helpers/api.ts'
import { startTestRuntime } from '../helpers/runtime.ts'
import { startSandbox } from '../helpers/zoho.ts'

// Two Zoho organizations, the API alone (no worker delivers): bills routed by subsidiary at ingest, then
// moved to the states each test needs. Acme US takes every subsidiary ("*"); the second entry, with no
// name (so labelled "[1]"), takes Acme UK and lives in Zoho's EU data centre. Neither is ever called.
const { sandbox, env } = await startSandbox(t)
const { ZOHO_ACCOUNTS_URL: _a, ZOHO_CLIENT_ID: _c, ZOHO_CLIENT_SECRET: _s, ZOHO_REFRESH_TOKEN: _r, ZOHO_ORGANIZATION_ID: _o, ...rest } = env
const US = sandbox.organizationId
const UK = '70098765432'
const GONE = '99999999'
const runtime = await startTestRuntime(t, {
  ...rest, ROLE: 'api', ZOHO_DAILY_LIMIT: '1000',
  ZOHO_ORGANIZATIONS: JSON.stringify([
    { name: 'Acme US', subsidiaries: ['*'], organizationId: US, accountsUrl: sandbox.accountsUrl, clientId: sandbox.clientId, clientSecret: sandbox.clientSecret, refreshToken: sandbox.refreshToken },
    { subsidiaries: ['Acme UK'], organizationId: UK, dc: 'eu', clientId: '1000.UK', clientSecret: 'uk-secret', refreshToken: '1000.uk.refresh', dailyLimit: 500 },
  ]),
})
const reader = await mintKey(runtime, ['read'])
const admin = await mintKey(runtime, ['admin'], 'operator')

// US: one waiting, one failed; UK: one waiting, one failed, one delivered; one bill of an organization no longer configured.
const sent = bills(6, 'ORGS')
const [usWaiting, usFailed, ukWaiting, ukFailed, ukDelivered, gone] = await sendBills(runtime, sent.map((b, i) => (i >= 2 && i <= 4 ? { ...b, subsidiary: 'Acme UK' } : b)))
const externalIdOf = (i: number) => sent[i]!.externalId
await runtime.pool.query(`UPDATE transactions SET status = 'failed', last_error_code = 'ACCOUNT_UNMAPPED', last_error_message = 'no Zoho account' WHERE id = ANY($1::uuid[])`, [[usFailed, ukFailed]])
await runtime.pool.query(`UPDATE transactions SET status = 'delivered', zoho_bill_id = '4600001', delivered_at = now() WHERE id = $1`, [ukDelivered])
await runtime.pool.query(`UPDATE transactions SET organization_id = $2 WHERE id = $1`, [gone, GONE])
// Each organization's own bucket: UK has spent 450 of its 500 requests and is paused.
for (const [org, used, limit, paused] of [[US, 100, 1000, false], [UK, 450, 500, true]] as const) {
  await runtime.pool.query(
    `INSERT INTO rate_limits (key, tokens, capacity, refill_per_sec, daily_limit, blocked_until) VALUES ($1, 2, 2, 1, $2, CASE WHEN $3 THEN now() + interval '10 minutes' ELSE '-infinity' END)
     ON CONFLICT (key) DO UPDATE SET daily_limit = EXCLUDED.daily_limit, blocked_until = EXCLUDED.blocked_until`, [`zoho:${org}`, limit, paused])
  await runtime.pool.query('UPDATE rate_limits SET day_count = $2 WHERE key = $1', [`zoho:${org}`, used])
}

t.test('a bill is routed to its organization at ingest, and the API names it', async (t) => {
  const us = (await getJson(runtime, `/v1/transactions/${usWaiting}`, reader)).body
  t.same(us.organization, { id: US, name: 'Acme US' })
  const uk = (await getJson(runtime, `/v1/transactions/${ukWaiting}`, reader)).body
  t.same(uk.organization, { id: UK, name: '[1]' }, 'an entry without a name: its label')
  t.same((await getJson(runtime, `/v1/transactions/${gone}`, reader)).body.organization, { id: GONE, name: null }, 'no longer configured: the id alone')
})

t.test('GET /v1/transactions filters by organization', async (t) => {
  const all = await getJson(runtime, `/v1/transactions?externalId=${externalIdOf(2)}`, reader)
  t.same(all.body.items.map((i: { organization: { id: string } }) => i.organization.id), [UK])
  t.same((await getJson(runtime, `/v1/transactions?externalId=${externalIdOf(2)}&organization=${UK}`, reader)).body.items.length, 1)
  t.same((await getJson(runtime, `/v1/transactions?externalId=${externalIdOf(2)}&organization=${US}`, reader)).body.items, [], "another organization's bill is not listed")
  const bad = await getJson(runtime, `/v1/transactions?externalId=${externalIdOf(2)}&organization=acme`, reader)
  t.equal(bad.status, 400)
})

t.test('the lookup names each bill\'s organization', async (t) => {
  const res = await request(`${runtime.url}/v1/transactions/lookup`, {
    method: 'POST', headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' }, body: JSON.stringify({ externalIds: [externalIdOf(0), externalIdOf(3)] }),
  })
  const body = await res.body.json() as { items: Array<{ externalId: string; organization: unknown }> }
  t.same(Object.fromEntries(body.items.map((i) => [i.externalId, i.organization])), { [externalIdOf(0)]: { id: US, name: 'Acme US' }, [externalIdOf(3)]: { id: UK, name: '[1]' } })
})

t.test('GET /v1/backlog: one entry per organization, each from its own bills, bucket and quota', async (t) => {
  const { body } = await getJson(runtime, '/v1/backlog', reader)
  t.same(body.organizations.map((o: { organizationId: string }) => o.organizationId), [US, UK])
  const [us, uk] = body.organizations
  t.match(us, { organizationName: 'Acme US', billsWaiting: 1, queued: 1, requestsUsedToday: 100, requestsLeftToday: 900, dailyLimit: 1000, pausedUntil: null })
  t.match(uk, { organizationName: '[1]', billsWaiting: 1, queued: 1, requestsUsedToday: 450, requestsLeftToday: 50, dailyLimit: 500 })
  t.ok(new Date(uk.pausedUntil).getTime() > Date.now(), 'UK is paused, US is not')
})

t.test('/metrics labels every organization\'s figures', async (t) => {
  const text = await (await request(`${runtime.url}/metrics`)).body.text()
  for (const line of [
    `billbridge_bills{organization="${US}",status="queued"} 1`, `billbridge_bills{organization="${US}",status="failed"} 1`, `billbridge_bills{organization="${US}",status="delivered"} 0`,
    `billbridge_bills{organization="${UK}",status="failed"} 1`, `billbridge_bills{organization="${UK}",status="delivered"} 1`, `billbridge_bills{organization="${GONE}",status="queued"} 1`,
    `billbridge_backlog_bills{organization="${US}"} 1`, `billbridge_backlog_bills{organization="${UK}"} 1`,
    `billbridge_zoho_daily_requests{organization="${US}"} 100`, `billbridge_zoho_daily_requests{organization="${UK}"} 450`,
    `billbridge_zoho_daily_limit{organization="${US}"} 1000`, `billbridge_zoho_daily_limit{organization="${UK}"} 500`,
    `billbridge_zoho_requests_left_today{organization="${UK}"} 50`,
  ]) t.match(text, `${line}\n`, line)
  t.match(text, new RegExp(`billbridge_zoho_rate_permits\\{organization="${UK}"\\} [0-9.]+\\n`))
  t.match(text, new RegExp(`billbridge_queue_depth\\{queue="deliver-bill/${UK}",organization="${UK}"\\} \\d+\\n`))
  t.match(text, new RegExp(`billbridge_queue_oldest_seconds\\{organization="${UK}"\\} [0-9.e-]+\\n`))
})

t.test('the overview: each organization with what waits, what failed, its pause, its requests and its ETA', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const { html, status } = await getPage(runtime, jar, '/admin')
  t.equal(status, 200)
  const row = (org: string) => new RegExp(`<tr data-organization="${org}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? ''
  t.match(row(US), /Acme US/)
  t.match(row(US), /<td class="num">1<\/td>\s*<td class="num"><a href="\/admin\/failed\?organization=60012345678">1<\/a><\/td>\s*<td>—<\/td>\s*<td class="num">100 of 1,000<\/td>/)
  t.match(row(UK), /\[1\]/)
  t.match(row(UK), /<td>\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/td>\s*<td class="num">450 of 500<\/td>/, 'paused until, requests today of its limit')
  t.match(html, /When will the backlog of Acme US be in Zoho/)
  t.match(html, /When will the backlog of \[1\] be in Zoho <span class="muted">\(organization 70098765432\)/)
})

t.test('the failed list: a select of the organizations, a column, the filter; the CSV names the organization', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const all = (await getPage(runtime, jar, '/admin/failed')).html
  t.match(all, /<select name="organization"><option value="">any<\/option>\s*<option value="60012345678">Acme US \(60012345678\)<\/option><option value="70098765432">\[1\] \(70098765432\)<\/option>/)
  t.match(all, /<th>Organization<\/th>/)
  t.match(all, new RegExp(`${sent[1]!.billNumber}[\\s\\S]*?Acme US <span class="muted"><code>${US}</code>`))
  const uk = (await getPage(runtime, jar, `/admin/failed?organization=${UK}`)).html
  t.match(uk, sent[3]!.billNumber)
  t.notMatch(uk, sent[1]!.billNumber, "the US bill is not in the UK's list")
  t.match(uk, /<option value="70098765432" selected>/)
  t.match(uk, `/admin/failed.csv?organization=${UK}`, 'the export keeps the filter')
  t.equal((await getPage(runtime, jar, '/admin/failed?organization=acme')).status, 400)

  const csv = await (await request(`${runtime.url}/admin/failed.csv`, { headers: { cookie: jar.header() } })).body.text()
  const [header, ...rows] = csv.trim().split('\r\n')
  t.match(header, /,organization,organization_name$/)
  t.same(rows.map((r) => r.split(',').slice(-2)).sort(), [[US, 'Acme US'], [UK, '[1]']])
  const ukCsv = await (await request(`${runtime.url}/admin/failed.csv?organization=${UK}`, { headers: { cookie: jar.header() } })).body.text()
  t.equal(ukCsv.trim().split('\r\n').length, 2, 'the header and the UK bill')
})

t.test('search: the organization filter and column; the CSV names the organization', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const all = (await getPage(runtime, jar, '/admin/search?q=orgs&by=billNumber')).html
  for (const b of sent) t.match(all, b.billNumber)
  t.match(all, /<th>Organization<\/th>/)
  const uk = (await getPage(runtime, jar, `/admin/search?q=orgs&organization=${UK}`)).html
  t.match(uk, sent[2]!.billNumber)
  t.notMatch(uk, sent[0]!.billNumber)
  t.match(uk, `/admin/search.csv?q=orgs&amp;by=billNumber&amp;organization=${UK}`)
  const csv = await (await request(`${runtime.url}/admin/search.csv?q=orgs&by=billNumber&organization=${UK}`, { headers: { cookie: jar.header() } })).body.text()
  const [header, ...rows] = csv.trim().split('\r\n')
  t.match(header, /,organization,organization_name$/)
  t.equal(rows.length, 3)
  for (const r of rows) t.match(r, new RegExp(`,${UK},\\[1\\]$`))
})

t.test('the bill page names its organization, and opens it in that organization\'s Zoho Books', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const uk = (await getPage(runtime, jar, `/admin/transactions/${ukDelivered}`)).html
  t.match(uk, /<tr><th>Organization<\/th><td>\[1\] <code>70098765432<\/code><\/td><\/tr>/)
  t.match(uk, 'href="https://books.zoho.eu/app/70098765432#/bills/4600001"', "the EU organization's Books page")
  t.match((await getPage(runtime, jar, `/admin/transactions/${usWaiting}`)).html, /<tr><th>Organization<\/th><td>Acme US <code>60012345678<\/code><\/td><\/tr>/)
  t.match((await getPage(runtime, jar, `/admin/transactions/${gone}`)).html, /<tr><th>Organization<\/th><td><span class="muted">\(no longer configured\)<\/span> <code>99999999<\/code><\/td><\/tr>/)
})

t.test('retries by organization; the activity page filters and names the organization', async (t) => {
  const res = await request(`${runtime.url}/v1/transactions/retry`, {
    method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ filter: { organization: UK } }),
  })
  t.equal(res.statusCode, 202)
  t.same((await res.body.json() as { ids: string[] }).ids, [ukFailed], "only the UK's failed bill")
  t.equal((await runtime.pool.query('SELECT status FROM transactions WHERE id = $1', [usFailed])).rows[0].status, 'failed')

  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const form = await getPage(runtime, jar, `/admin/transactions/${usFailed}`)
  t.equal((await postForm(runtime, jar, `/admin/transactions/${usFailed}/retry`, { _csrf: csrfFrom(form.html) })).status, 303)

  const all = (await getPage(runtime, jar, '/admin/activity')).html
  t.match(all, /<select name="organization">/)
  t.match(all, /<th>Organization<\/th>/)
  const uk = (await getPage(runtime, jar, `/admin/activity?organization=${UK}`)).html
  t.match(uk, /<td>retry_bulk<\/td><td><\/td><td>\[1\] <span class="muted"><code>70098765432<\/code>/, 'a retry filtered to the UK names it')
  t.notMatch(uk, /<td>retry<\/td>/, "the US bill's retry is not the UK's")
  const us = (await getPage(runtime, jar, `/admin/activity?organization=${US}`)).html
  t.match(us, /<td>retry<\/td>[\s\S]*?Acme US <span class="muted"><code>60012345678<\/code>/)
  t.notMatch(us, /<td>retry_bulk<\/td>/)
})

t.test('the rollup of bills by organization and status follows every insert, change of status or organization, and delete', async (t) => {
  const scan = async () => (await runtime.pool.query<{ o: string; status: string; n: string }>(
    `SELECT coalesce(organization_id, '') AS o, status, count(*) AS n FROM transactions GROUP BY 1, 2 ORDER BY 1, 2`)).rows.map((r) => [r.o, r.status, Number(r.n)])
  const rollup = async () => (await runtime.pool.query<{ o: string; status: string; n: string }>(
    `SELECT organization_id AS o, status, n FROM organization_status_counts WHERE n <> 0 ORDER BY 1, 2`)).rows.map((r) => [r.o, r.status, Number(r.n)])
  t.same(await rollup(), await scan(), 'after ingest and the changes above')
  // A bill stored before bills had an organization, then assigned one at start, as the service does.
  await runtime.pool.query(`UPDATE transactions SET organization_id = NULL WHERE id = $1`, [usWaiting])
  t.same(await rollup(), await scan(), 'no organization yet')
  await runtime.pool.query(`UPDATE transactions SET organization_id = $1 WHERE organization_id IS NULL`, [US])
  await runtime.pool.query(`UPDATE transactions SET status = 'failed' WHERE id = ANY($1::uuid[])`, [[usWaiting, ukWaiting]])
  t.same(await rollup(), await scan(), 'statuses of two organizations changed in one statement')
  await runtime.pool.query(`DELETE FROM transactions WHERE id = $1`, [gone])
  t.same(await rollup(), await scan(), 'after a delete')
})

t.test('a retry filter naming no organization id is refused', async (t) => {
  const res = await request(`${runtime.url}/v1/transactions/retry`, {
    method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ filter: { organization: 'Acme UK' } }),
  })
  t.equal(res.statusCode, 400)
  t.match(await res.body.json(), { error: { code: String } })
})
