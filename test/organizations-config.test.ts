import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'
import { organizationFor, type OrganizationConfig } from '../src/zoho/organizations.ts'
import { grantKeyOf } from '../src/zoho/stack.ts'

const KEY = { TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) }
const uk = { name: 'Acme UK', subsidiaries: ['Acme UK Ltd'], organizationId: '20001', dc: 'eu', clientId: '1000.UK', clientSecret: 'uk-secret-value', refreshToken: '1000.uk-refresh-value' }
const india = { name: 'Acme India', subsidiaries: ['Acme India Pvt Ltd'], organizationId: '30001', dc: 'in', clientId: '1000.IN', clientSecret: 'in-secret-value', refreshToken: '1000.in-refresh-value', plan: 'standard' }
const rest = { subsidiaries: ['*'], organizationId: '10001', clientId: '1000.US', clientSecret: 'us-secret-value', refreshToken: '1000.us-refresh-value', ratePerMinute: 80 }

const load = (entries: unknown, extra: Record<string, string> = {}) => loadConfig({ ...KEY, ...extra, ZOHO_ORGANIZATIONS: typeof entries === 'string' ? entries : JSON.stringify(entries) })

function errorFor(entries: unknown, extra: Record<string, string> = {}): ConfigError {
  try {
    load(entries, extra)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

t.test('ZOHO_ORGANIZATIONS: one entry per organization, each with its data centre, client, plan and limits', async (t) => {
  const config = load([uk, india, rest], { ZOHO_TAGS: 'department=Department', ZOHO_MAX_CONCURRENCY: '4' })
  t.equal(config.zoho.mode, 'remote')
  t.same(config.organizations.map((o) => o.organizationId), ['20001', '30001', '10001'])
  const [ukOrg, inOrg, restOrg] = config.organizations as [OrganizationConfig, OrganizationConfig, OrganizationConfig]
  t.equal(ukOrg.label, '[0] ("Acme UK")')
  t.same([ukOrg.target.accountsUrl, ukOrg.target.defaultApiUrl], ['https://accounts.zoho.eu', 'https://www.zohoapis.eu/books/v3'], 'dc eu: the EU accounts server and API')
  t.same([inOrg.target.accountsUrl, inOrg.target.defaultApiUrl], ['https://accounts.zoho.in', 'https://www.zohoapis.in/books/v3'], 'dc in')
  t.equal(restOrg.target.accountsUrl, 'https://accounts.zoho.com', 'no dc: com, as ZOHO_DC')
  t.same([inOrg.limits.plan, inOrg.limits.dailyLimit, inOrg.limits.maxConcurrency], ['standard', 2000, 10], "the entry's plan gives its daily limit and concurrency")
  t.same([ukOrg.limits.dailyLimit, ukOrg.limits.maxConcurrency], [10_000, 4], 'without a plan: the global ZOHO_* defaults')
  t.equal(restOrg.limits.ratePerMinute, 80, "the entry's own rate")
  t.equal(ukOrg.limits.ratePerMinute, 100)
  t.same(ukOrg.limits.tags, { department: 'Department' }, 'ZOHO_TAGS is every entry’s default')
  const tagged = load([{ ...uk, tags: { class: 'Cost centre' }, defaultAccountId: '460000000001', edition: 'uk' }]).organizations[0]!
  t.same([tagged.limits.tags, tagged.limits.defaultAccountId, tagged.limits.edition], [{ class: 'Cost centre' }, '460000000001', 'uk'], 'tags, default account and edition per entry')
  t.not(grantKeyOf(ukOrg.target), grantKeyOf(inOrg.target), 'two clients: two tokens')
})

t.test('one Zoho user reaching two organizations: the second entry names the first with credentialsFrom', async (t) => {
  const second = { name: 'Acme Ireland', subsidiaries: ['Acme Ireland Ltd'], organizationId: '20002', credentialsFrom: '20001' }
  const config = load([uk, second])
  const [a, b] = config.organizations as [OrganizationConfig, OrganizationConfig]
  t.same([b.target.clientId, b.target.accountsUrl, b.target.defaultApiUrl], [a.target.clientId, a.target.accountsUrl, a.target.defaultApiUrl], "the first entry's client and data centre")
  t.equal(grantKeyOf(a.target), grantKeyOf(b.target), 'one grant: one token for both organizations')
  t.not(grantKeyOf(a.target).includes(a.target.refreshToken), true, 'the token key never holds the refresh token')
  t.match(errorFor([uk, { ...second, dc: 'in' }]).message, /\[1\] \("Acme Ireland"\)\.dc: a Zoho user's token is granted by one data centre/)
})

t.test('every problem is one line naming the entry and its field, never a secret', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['[{', /^ZOHO_ORGANIZATIONS: is not valid JSON/],
    [[], /must be a JSON array with at least one entry/],
    [[{ ...uk, subsidiaries: [] }], /\[0\] \("Acme UK"\)\.subsidiaries: is required/],
    [[{ ...uk, organizationId: 'acme' }], /\[0\] \("Acme UK"\)\.organizationId: must be the numeric/],
    [[{ ...uk, dc: 'us' }], /\.dc: .*the United States data centre is com/],
    [[{ ...uk, dc: 'mars' }], /\.dc: must be one of/],
    [[{ ...uk, clientSecret: undefined }], /\[0\] \("Acme UK"\)\.clientSecret: is required/],
    [[{ ...uk, plan: 'gold' }], /\.plan: must be one of free/],
    [[{ ...uk, ratePerMinute: 0 }], /\.ratePerMinute: must be a whole number between 1/],
    [[{ ...uk, tags: { region: 'Region' } }], /\.tags: "region" is not a NetSuite segment/],
    [[{ ...uk, colour: 'blue' }], /\[0\] \("Acme UK"\)\.colour: is not a field of an entry/],
    [[uk, { ...rest, organizationId: '20001' }], /\[1\]\.organizationId: 20001 is also the organization of \[0\]/],
    [[uk, { ...rest, subsidiaries: ['acme uk ltd'] }], /\[1\]\.subsidiaries: "acme uk ltd" is also routed to \[0\]/],
    [[{ ...uk, subsidiaries: ['*'] }, rest], /\[1\]\.subsidiaries: "\*" is also routed to \[0\]/],
    [[{ ...rest, credentialsFrom: '99' , clientId: undefined, clientSecret: undefined, refreshToken: undefined }], /\[0\]\.credentialsFrom: "99" is not the organizationId of another entry/],
    [[uk, { ...rest, credentialsFrom: '20001' }], /\[1\]\.clientId: must not be given with credentialsFrom/],
  ]
  for (const [entries, problem] of cases) {
    const err = errorFor(entries)
    t.equal(err.variable, 'ZOHO_ORGANIZATIONS')
    t.match(err.message, problem, String(problem))
    t.notOk(/secret-value|refresh-value/.test(err.message), 'no secret in the message')
    t.notOk(err.message.includes('\n'), 'one line')
  }
  t.match(errorFor([uk], { ZOHO_CLIENT_ID: 'x' }).message, /^ZOHO_CLIENT_ID: must not be set with ZOHO_ORGANIZATIONS/)
  t.match(errorFor([uk], { ZOHO_DC: 'eu' }).message, /^ZOHO_DC: must not be set with ZOHO_ORGANIZATIONS/)
  t.equal(errorFor([uk], { TOKEN_ENCRYPTION_KEY: '' }).variable, 'TOKEN_ENCRYPTION_KEY', 'credentials need the encryption key')
})

t.test('the single-organization variables are one entry taking every subsidiary', async (t) => {
  const config = loadConfig({ ...KEY, ZOHO_CLIENT_ID: 'a', ZOHO_CLIENT_SECRET: 'b', ZOHO_REFRESH_TOKEN: 'c', ZOHO_ORGANIZATION_ID: '1234', ZOHO_DC: 'eu', ZOHO_PLAN: 'premium' })
  t.equal(config.organizations.length, 1)
  const [only] = config.organizations as [OrganizationConfig]
  t.same([only.organizationId, only.subsidiaries, only.label, only.target.accountsUrl, only.limits.dailyLimit], ['1234', ['*'], 'ZOHO_ORGANIZATION_ID', 'https://accounts.zoho.eu', 10_000])
  t.same(loadConfig({}).organizations, [], 'sandbox mode: the runtime adds the sandbox organization')
})

t.test('a bill goes to the organization of its subsidiary, else the "*" entry, else none', async (t) => {
  const orgs = load([uk, india, rest]).organizations
  const to = (subsidiary: string | undefined, list = orgs) => organizationFor(list, subsidiary)?.organizationId ?? null
  t.equal(to('Acme UK Ltd'), '20001', 'exact')
  t.equal(to('  acme uk LTD '), '20001', 'case and spaces do not matter')
  t.equal(to('Acme Group : Acme UK Ltd'), '20001', 'a hierarchical name whose last level names an entry')
  t.equal(to('Acme Germany GmbH'), '10001', 'not named: the "*" entry')
  t.equal(to(undefined), '10001', 'no subsidiary (an account without OneWorld): the "*" entry')
  const named = load([uk, india]).organizations
  t.equal(to('Acme Germany GmbH', named), null, 'no "*" entry: none (SUBSIDIARY_UNKNOWN)')
  t.equal(to(undefined, named), null)
  const leaves = load([{ ...uk, subsidiaries: ['EMEA : Sales'] }, { ...india, subsidiaries: ['APAC : Sales'] }, rest]).organizations
  t.equal(to('EMEA : Sales', leaves), '20001')
  t.equal(to('Sales', leaves), null, 'a last level two entries share is not guessed, nor sent to "*"')
})
