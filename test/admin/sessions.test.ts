import { createHmac } from 'node:crypto'
import { sign } from '@fastify/cookie'
import t from 'tap'
import { Client } from 'undici'
import { bills, mintKey, postBatch } from '../helpers/api.ts'
import { CookieJar, csrfFrom, getPage, logIn, postForm } from '../helpers/admin.ts'
import { startTestRuntime } from '../helpers/runtime.ts'

// TRUST_PROXY: the dashboard sits behind a TLS-terminating proxy that sends X-Forwarded-Proto.
const runtime = await startTestRuntime(t, { ROLE: 'api', TRUST_PROXY: 'true', AUTH_FAILURES_PER_MINUTE: '1000' })
const admin = await mintKey(runtime, ['admin'], 'operator')
const ingest = await mintKey(runtime, ['ingest'])

t.test('logout revokes the session on the server: the old cookie no longer opens a page', async (t) => {
  const jar = new CookieJar()
  t.equal((await logIn(runtime, jar, admin)).status, 303)
  const stolen = jar.header()
  const overview = await getPage(runtime, jar, '/admin')
  t.equal(overview.status, 200)
  t.equal((await postForm(runtime, jar, '/admin/logout', { _csrf: csrfFrom(overview.html) })).status, 303)
  const replay = new CookieJar()
  replay.take(stolen.split('; '))
  const after = await getPage(runtime, replay, '/admin')
  t.equal(after.status, 302, 'the cookie copied before logout is refused')
  t.equal(after.headers.location, '/admin/login')
})

t.test('a session lives ADMIN_SESSION_HOURS from login, whatever the cookie says', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const { rows } = await runtime.pool.query(`SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM admin_sessions ORDER BY created_at DESC LIMIT 1`)
  t.equal(rows[0].seconds, 8 * 3600, 'the default lifetime is 8 hours')
  t.match(jar.raw.find((c) => c.startsWith('bb_session='))!, /Max-Age=28800/)
  await runtime.pool.query(`UPDATE admin_sessions SET expires_at = now() - interval '1 second'`)
  t.equal((await getPage(runtime, jar, '/admin')).status, 302, 'an expired session is refused though its cookie is still sent')
})

t.test('a cookie forged with the old derived secret and a far expiry is refused', async (t) => {
  const { rows } = await runtime.pool.query(`SELECT id FROM api_keys WHERE name = 'operator'`)
  // Before: the cookie secret was HMAC(TOKEN_ENCRYPTION_KEY) and the sandbox's key is a published default.
  const oldSecret = createHmac('sha256', Buffer.alloc(32, 0x5a)).update('billbridge dashboard session').digest('hex')
  const jar = new CookieJar()
  jar.cookies.set('bb_session', sign(`${rows[0].id}.4102444800000`, oldSecret))
  t.equal((await getPage(runtime, jar, '/admin')).status, 302)
  const secret = await runtime.pool.query(`SELECT length(value) AS n FROM install_secrets WHERE name = 'dashboard-cookie'`)
  t.equal(secret.rows[0].n, 32, 'a random per-install secret is kept in the database')
})

t.test('Secure is set when the original request was HTTPS (TRUST_PROXY)', async (t) => {
  const https = new CookieJar()
  await logIn(runtime, https, admin, { 'x-forwarded-proto': 'https' })
  t.match(https.raw.find((c) => c.startsWith('bb_session='))!, /; Secure/)
  const plain = new CookieJar()
  await logIn(runtime, plain, admin)
  t.notMatch(plain.raw.find((c) => c.startsWith('bb_session='))!, /; Secure/)
})

t.test('a CSRF token is good only for the session it was made for', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const first = csrfFrom((await getPage(runtime, jar, '/admin')).html)
  await logIn(runtime, jar, admin)
  const refused = await postForm(runtime, jar, '/admin/logout', { _csrf: first })
  t.equal(refused.status, 403, "the first session's token does not work in the second")
  t.equal(JSON.parse(refused.html).error.code, 'CSRF_INVALID')
  const second = csrfFrom((await getPage(runtime, jar, '/admin')).html)
  t.equal((await postForm(runtime, jar, '/admin/logout', { _csrf: second })).status, 303)
})

t.test('a PDF with a non-Latin-1 name downloads twice on one keep-alive connection', async (t) => {
  const [bill] = bills(1, 'KANJI')
  const sent = await postBatch(runtime, { bills: [{ ...bill!, attachment: { ...bill!.attachment, fileName: '請求書 "2026".pdf' } }] }, { key: ingest })
  t.equal(sent.status, 202)
  const id = sent.body.items[0].transactionId
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const client = new Client(runtime.url, { pipelining: 1 })
  t.teardown(() => client.close())
  const expected = Buffer.from(bill!.attachment.contentBase64, 'base64')
  const sockets = new Set<unknown>()
  client.on('connect', (_origin, [c]) => sockets.add(c))
  for (const round of [1, 2]) {
    const res = await client.request({ path: `/admin/transactions/${id}/pdf?download=1`, method: 'GET', headers: { cookie: jar.header() } })
    t.equal(res.statusCode, 200, `download ${round}`)
    t.equal(res.headers['content-disposition'], `attachment; filename="___ _2026_.pdf"; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8%20%222026%22.pdf`)
    t.ok(Buffer.from(await res.body.arrayBuffer()).equals(expected), `download ${round} has the PDF's bytes`)
  }
  t.equal(sockets.size, 1, 'both answers came on one connection')
})

t.test('dashboard pages: impossible dates are a 400, headers forbid framing and inline script, notices are known ones only', async (t) => {
  const jar = new CookieJar()
  await logIn(runtime, jar, admin)
  const bad = await getPage(runtime, jar, '/admin/failed?to=2026-02-30')
  t.equal(bad.status, 400)
  t.equal(JSON.parse(bad.html).error.code, 'FILTER_INVALID')
  const page = await getPage(runtime, jar, '/admin/failed?notice=%3Cb%3EYour%20account%20is%20locked%3C%2Fb%3E')
  t.equal(page.status, 200)
  t.notMatch(page.html, /account is locked/, 'an unknown notice is not shown')
  t.match(String(page.headers['content-security-policy']), /default-src 'none'/)
  t.notMatch(String(page.headers['content-security-policy']), /script-src/, 'no script source is allowed')
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.equal(page.headers['referrer-policy'], 'no-referrer')
  t.match((await getPage(runtime, jar, '/admin/failed?notice=requeued&n=3')).html, /Requeued 3 bills for delivery\./)
})
