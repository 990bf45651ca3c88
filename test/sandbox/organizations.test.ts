import { request } from 'undici'
import t, { type Test } from 'tap'
import { nextUtcMidnight, SANDBOX_CREDENTIALS, sandboxOrganizationsEnv, startZohoSandbox, type SandboxOptions, type SandboxOrganization, type ZohoSandbox } from '../../src/sandbox/server.ts'

// Two data centres, three organizations: US-1 and US-2 share one Zoho user's client in "com"; EU-1 lives in "eu".
const SHARED = { clientId: '1000.SHAREDCLIENT', clientSecret: 'shared-secret', refreshToken: '1000.shared.refresh' }
const US1 = '70000000001'
const US2 = '70000000002'
const EU1 = '70000000003'

async function start(t: Test, options: Partial<SandboxOptions> = {}): Promise<ZohoSandbox> {
  const sandbox = await startZohoSandbox({
    organizations: [
      { organizationId: US1, dataCentre: 'com', client: SHARED, name: 'Acme US' },
      { organizationId: US2, dataCentre: 'com', client: SHARED },
      { organizationId: EU1, dataCentre: 'eu' },
    ],
    ...options,
  })
  t.teardown(() => sandbox.close())
  return sandbox
}

type Credentials = { clientId: string; clientSecret: string; refreshToken: string }

/** A refresh grant at `accountsUrl` with these credentials. */
async function grant(accountsUrl: string, credentials: Credentials) {
  const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: credentials.clientId, client_secret: credentials.clientSecret, refresh_token: credentials.refreshToken })
  const res = await request(`${accountsUrl}/oauth/v2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
  return (await res.body.json()) as Record<string, any>
}

async function tokenFor(org: SandboxOrganization): Promise<string> {
  const granted = await grant(org.accountsUrl, org)
  if (!granted.access_token) throw new Error(`no token: ${JSON.stringify(granted)}`)
  return granted.access_token as string
}

/** One Books request to the API at `apiUrl` for `organizationId`. */
async function books(apiUrl: string, token: string, organizationId: string, method: 'GET' | 'POST', path: string, json?: unknown) {
  const url = new URL(apiUrl + path)
  url.searchParams.set('organization_id', organizationId)
  const headers: Record<string, string> = { authorization: `Zoho-oauthtoken ${token}` }
  if (json !== undefined) headers['content-type'] = 'application/json'
  const res = await request(url, { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) })
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> }
}

const contacts = (org: SandboxOrganization, token: string, apiUrl = org.apiUrl) => books(apiUrl, token, org.organizationId, 'GET', '/contacts')

t.test('each data centre listens on its own port; the grant names its own api_domain; the handle keeps the first organization', async (t) => {
  const sandbox = await start(t)
  const [us1, us2, eu1] = sandbox.organizations()
  t.same(sandbox.organizations().map((o) => [o.organizationId, o.dataCentre]), [[US1, 'com'], [US2, 'com'], [EU1, 'eu']])
  t.equal(us1!.url, us2!.url, 'one data centre, one address')
  t.not(us1!.url, eu1!.url, 'another data centre, another address')
  t.not(new URL(us1!.url).port, new URL(eu1!.url).port)
  t.equal((await grant(us1!.accountsUrl, us1!)).api_domain, us1!.url)
  t.equal((await grant(eu1!.accountsUrl, eu1!)).api_domain, eu1!.url)
  t.match(sandbox, { organizationId: US1, clientId: SHARED.clientId, clientSecret: SHARED.clientSecret, refreshToken: SHARED.refreshToken, url: us1!.url, accountsUrl: us1!.accountsUrl, apiUrl: us1!.apiUrl })
  t.equal(sandbox.state, us1!.state)
  t.equal(sandbox.organization(EU1), eu1)
  t.throws(() => sandbox.organization('42'), { code: 'SANDBOX_OPTIONS_INVALID' })
  t.same([us1!.clientId, us2!.clientId], [SHARED.clientId, SHARED.clientId], 'entries giving one client share it')
  t.not(eu1!.clientId, SHARED.clientId, 'an entry without a client gets its own')
})

t.test('a token reaches the organizations of its user in its own data centre only', async (t) => {
  const sandbox = await start(t)
  const us1 = sandbox.organization(US1)
  const us2 = sandbox.organization(US2)
  const eu1 = sandbox.organization(EU1)
  const usToken = await tokenFor(us1)
  t.equal((await contacts(us1, usToken)).status, 200)
  t.equal((await contacts(us2, usToken)).status, 200, 'the same token with the other organization_id of its user')
  const listed = await books(us1.apiUrl, usToken, US1, 'GET', '/organizations')
  t.same(listed.body.organizations.map((o: any) => [o.organization_id, o.name, o.is_default_org]), [[US1, 'Acme US', true], [US2, 'billbridge sandbox organization 2', false]])

  const atEu = await contacts(eu1, usToken)
  t.equal(atEu.status, 401, "a token of com's accounts server at eu's API")
  t.equal(atEu.body.code, 57)
  t.equal((await contacts(us1, usToken, eu1.apiUrl)).status, 401, "even naming com's own organization")
  const euAtUs = await books(us1.apiUrl, usToken, EU1, 'GET', '/contacts')
  t.equal(euAtUs.status, 400, "eu's organization at com's API, with com's token")
  t.equal(euAtUs.body.code, 6041)
  const euToken = await tokenFor(eu1)
  t.equal((await contacts(eu1, euToken)).status, 200)
  t.equal((await contacts(us1, euToken, us1.apiUrl)).body.code, 57, "eu's token at com's API")
  t.same(await grant(eu1.accountsUrl, us1), { error: 'invalid_client' }, "com's client at eu's accounts server")
  t.same(await grant(us1.accountsUrl, { ...us1, refreshToken: eu1.refreshToken }), { error: 'invalid_code' })
})

t.test("an organization of the same data centre that the token's user is not a member of is unknown", async (t) => {
  const sandbox = await startZohoSandbox({ organizations: [{ organizationId: '1' }, { organizationId: '2' }] })
  t.teardown(() => sandbox.close())
  const one = sandbox.organization('1')
  const two = sandbox.organization('2')
  t.equal(one.url, two.url, 'both in com')
  t.same([one.clientId, one.refreshToken], [SANDBOX_CREDENTIALS.clientId, SANDBOX_CREDENTIALS.refreshToken], "the first entry without a client takes the sandbox's")
  t.not(two.clientId, one.clientId)
  const token = await tokenFor(one)
  const refused = await contacts(two, token)
  t.equal(refused.status, 400)
  t.equal(refused.body.code, 6041)
  t.equal((await contacts(two, await tokenFor(two))).status, 200)
  t.equal((await books(one.apiUrl, token, '2', 'GET', '/organizations/2')).status, 400)
})

t.test('rate window, daily quota and concurrency are per organization', async (t) => {
  const sandbox = await startZohoSandbox({
    organizations: [
      { organizationId: US1, client: SHARED, limits: { ratePerMinute: 3 } },
      { organizationId: US2, client: SHARED, limits: { concurrency: 1 } },
      { organizationId: EU1, dataCentre: 'eu' },
    ],
  })
  t.teardown(() => sandbox.close())
  const us1 = sandbox.organization(US1)
  const us2 = sandbox.organization(US2)
  const eu1 = sandbox.organization(EU1)
  const token = await tokenFor(us1)
  for (let i = 0; i < 3; i++) t.equal((await contacts(us1, token)).status, 200)
  const minute = await contacts(us1, token)
  t.equal(minute.status, 429)
  t.equal(minute.body.code, 44, "US-1's window is spent")
  t.equal((await contacts(us2, token)).status, 200, 'US-2, same token and data centre, has its own window')

  us2.setLimits({ dailyLimit: 2 })
  t.equal((await contacts(us2, token)).status, 200, "US-2's second request of the day")
  const daily = await contacts(us2, token)
  t.equal(daily.status, 429)
  t.equal(daily.body.code, 45, "US-2's day is spent")
  t.equal((await contacts(eu1, await tokenFor(eu1))).status, 200, 'EU-1 answers')
  us2.setLimits({ dailyLimit: 1_000_000 })

  us2.setFaults({ latencyMs: 1500 })
  const accepted = us2.counters().acceptedBooksRequests
  const slow = contacts(us2, token)
  while (us2.counters().acceptedBooksRequests === accepted) await new Promise((resolve) => setTimeout(resolve, 20))
  const second = await contacts(us2, token)
  t.equal(second.status, 429)
  t.equal(second.body.code, 1070, "US-2's one slot is taken")
  us1.setLimits({ ratePerMinute: 100 })
  t.equal((await contacts(us1, token)).status, 200, 'US-1 has slots of its own')
  t.equal((await slow).status, 200)
})

t.test('data is per organization', async (t) => {
  const sandbox = await start(t)
  const us1 = sandbox.organization(US1)
  const us2 = sandbox.organization(US2)
  const token = await tokenFor(us1)
  const vendor = [...us1.state.contacts.values()][0]!
  const account = [...us1.state.accounts.values()][0]!
  const bill = { vendor_id: vendor.contact_id, bill_number: 'ORG-1', date: '2026-11-01', line_items: [{ account_id: account.account_id, rate: 10, quantity: 1 }] }
  t.equal((await books(us1.apiUrl, token, US1, 'POST', '/bills', bill)).status, 201)
  t.equal((await books(us1.apiUrl, token, US1, 'GET', '/bills')).body.bills.length, 1)
  t.same((await books(us2.apiUrl, token, US2, 'GET', '/bills')).body.bills, [], 'not listed in the other organization')
  const elsewhere = await books(us2.apiUrl, token, US2, 'POST', '/bills', bill)
  t.equal(elsewhere.status, 400, "US-1's vendor and accounts are unknown in US-2")
  t.equal(elsewhere.body.code, 4)
  t.same([us1.bills().length, us2.bills().length, sandbox.organization(EU1).bills().length], [1, 0, 0])
  t.equal(sandbox.bills().length, 1, "the handle's bills are the first organization's")
  us1.reset()
  t.same([us1.bills().length, us1.counters().booksRequests], [0, 0], "an organization's reset")
  t.equal(us2.counters().booksRequests, 2, "leaves the others' counters")
  t.equal((await contacts(us2, token)).status, 200, "and its client's tokens")
})

t.test('faults are per organization: 5xx, then the day spent until UTC midnight, while the others answer', async (t) => {
  const sandbox = await start(t)
  const us1 = sandbox.organization(US1)
  const us2 = sandbox.organization(US2)
  const eu1 = sandbox.organization(EU1)
  const token = await tokenFor(us1)
  const euToken = await tokenFor(eu1)
  us2.setFaults({ errorRate5xx: 1 })
  t.equal((await contacts(us2, token)).status, 500)
  t.equal((await contacts(us1, token)).status, 200)
  t.equal((await contacts(eu1, euToken)).status, 200)
  us2.setFaults({ errorRate5xx: 0, dailyQuotaSpentUntil: nextUtcMidnight() })
  const spent = await contacts(us2, token)
  t.same([spent.status, spent.body.code], [429, 45])
  t.equal((await contacts(us1, token)).status, 200)
  t.equal((await contacts(eu1, euToken)).status, 200)
  us2.setFaults({ dailyQuotaSpentUntil: 0 })
  t.equal((await contacts(us2, token)).status, 200, 'cleared')
  sandbox.setFaults({ errorRate5xx: 1 })
  t.same([(await contacts(us1, token)).status, (await contacts(us2, token)).status], [500, 200], "the handle's setFaults is the first organization's")
  const midnight = nextUtcMidnight(Date.UTC(2026, 11, 31, 23, 59))
  t.equal(midnight, Date.UTC(2027, 0, 1))
})

t.test('counters are per organization; grants count with the client\'s first organization', async (t) => {
  const sandbox = await start(t)
  const us1 = sandbox.organization(US1)
  const us2 = sandbox.organization(US2)
  const eu1 = sandbox.organization(EU1)
  const token = await tokenFor(us1)
  await contacts(us1, token)
  await contacts(us2, token)
  await contacts(us2, token)
  us2.setFaults({ errorRate5xx: 1 })
  await contacts(us2, token)
  await contacts(eu1, token, eu1.apiUrl)
  t.match(us1.counters(), { booksRequests: 1, acceptedBooksRequests: 1, responses5xx: 0, tokensIssued: 1, maxRequestsInAnyWindow: 1 })
  t.match(us2.counters(), { booksRequests: 3, acceptedBooksRequests: 3, responses5xx: 1, tokensIssued: 0, maxRequestsInAnyWindow: 3 })
  t.match(eu1.counters(), { booksRequests: 1, acceptedBooksRequests: 0, responses401: 1, tokensIssued: 0 })
  t.same(sandbox.counters(), us1.counters(), "the handle's counters are the first organization's")
  sandbox.reset()
  t.same([us1.counters().booksRequests, us2.counters().booksRequests, eu1.counters().booksRequests], [0, 0, 0], 'the handle resets every organization')
  t.equal((await contacts(us1, token)).status, 401, 'and every client')
})

t.test('ZOHO_ORGANIZATIONS for billbridge: one entry per routed organization, shared credentials by reference', async (t) => {
  const sandbox = await start(t)
  const us1 = sandbox.organization(US1)
  const eu1 = sandbox.organization(EU1)
  const env = sandboxOrganizationsEnv(sandbox, { [EU1]: ['Acme EU'], [US2]: ['Acme Canada'], [US1]: ['*'] })
  t.same(Object.keys(env), ['ZOHO_ORGANIZATIONS'])
  t.same(JSON.parse(env.ZOHO_ORGANIZATIONS), [
    { organizationId: US1, subsidiaries: ['*'], accountsUrl: us1.accountsUrl, ...SHARED },
    { organizationId: US2, subsidiaries: ['Acme Canada'], accountsUrl: us1.accountsUrl, credentialsFrom: US1 },
    { organizationId: EU1, subsidiaries: ['Acme EU'], accountsUrl: eu1.accountsUrl, clientId: eu1.clientId, clientSecret: eu1.clientSecret, refreshToken: eu1.refreshToken },
  ])
  t.throws(() => sandboxOrganizationsEnv(sandbox, { '42': ['*'] }), { code: 'SANDBOX_OPTIONS_INVALID' })
  t.throws(() => sandboxOrganizationsEnv(sandbox, { [US1]: [] }), { code: 'SANDBOX_OPTIONS_INVALID' })
})

t.test('options that cannot describe a Zoho account are refused with a clear message', async (t) => {
  const cases: Array<[string, Partial<SandboxOptions>, RegExp]> = [
    ['no entries', { organizations: [] }, /at least one/],
    ['an id twice', { organizations: [{ organizationId: '1' }, { organizationId: '1' }] }, /organizations\[1\]\.organizationId: 1 is given twice/],
    ['a client in two data centres', { organizations: [{ organizationId: '1', client: SHARED }, { organizationId: '2', dataCentre: 'eu', client: SHARED }] }, /organizations\[1\]\.client: .*data centre com/],
    ['one client, two secrets', { organizations: [{ organizationId: '1', client: SHARED }, { organizationId: '2', client: { ...SHARED, clientSecret: 'other' } }] }, /clientSecret/],
    ['a bad limit', { organizations: [{ organizationId: '1', limits: { ratePerMinute: -1 } }] }, /limits\.ratePerMinute/],
  ]
  for (const [what, options, message] of cases) {
    await t.rejects(startZohoSandbox(options), { code: 'SANDBOX_OPTIONS_INVALID', message }, what)
  }
})

t.test('without organizations: one, as before', async (t) => {
  const sandbox = await startZohoSandbox()
  t.teardown(() => sandbox.close())
  t.same(sandbox.organizations().map((o) => [o.organizationId, o.dataCentre, o.clientId, o.url]), [[SANDBOX_CREDENTIALS.organizationId, 'com', SANDBOX_CREDENTIALS.clientId, sandbox.url]])
  t.match(sandbox, SANDBOX_CREDENTIALS)
})
