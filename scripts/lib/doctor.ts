// `npm run cli -- doctor`: checks a configuration against each of its Zoho organizations before go-live, in
// turn, each in at most DOCTOR_REQUEST_BUDGET HTTP requests (token grants included), every Books request taking
// a permit from that organization's rate bucket. Prints one table; a BLOCKER row names its fix, and makes the
// exit code 1. With several organizations, each row names its organization.
import type pg from 'pg'
import type { Config } from '../../src/config.ts'
import { accountKey, matchAccount } from '../../src/delivery/chart.ts'
import { matchOption, optionsFromZoho, SEGMENTS, tagsFromZoho, type ZohoOption, type ZohoTag } from '../../src/delivery/tags.ts'
import { countryCodeOf, editionOf, matchTax, taxesFromZoho, type Edition, type ZohoTax } from '../../src/delivery/taxes.ts'
import { vendorKeys } from '../../src/delivery/vendors.ts'
import type { Logger } from '../../src/logger.ts'
import { booksRootFor } from '../../src/zoho/books-client.ts'
import { dataCentreOf, PLANS } from '../../src/zoho/data-centres.ts'
import { ZohoError } from '../../src/zoho/errors.ts'
import type { OrganizationConfig } from '../../src/zoho/organizations.ts'
import { grantKeyOf } from '../../src/zoho/stack.ts'
import type { AccessToken } from '../../src/zoho/token-cache.ts'
import { chooseOrganization, grantOnce, openZohoSession, type ZohoSession } from './zoho-session.ts'

/** The most HTTP requests doctor makes for one organization. */
export const DOCTOR_REQUEST_BUDGET = 10
// Accounts and vendors read from the transactions table are bounded: the table can hold millions of rows.
const PENDING_SCAN_LIMIT = 5_000
const LISTED = 8

type Status = 'OK' | 'WARN' | 'BLOCKER' | 'SKIP'
interface Row {
  check: string
  status: Status
  detail: string
}

interface Account {
  account_id: string
  account_name: string
  account_code?: string
  is_active?: boolean
}

interface Contact {
  contact_id: string
  contact_name: string
  email?: string
  status?: string
  contact_type?: string
}

const normal = (name: string) => name.trim().toLowerCase()
const fix = (text: string) => ` → fix: ${text}`
const message = (err: unknown) => (err as Error).message

/** What one organization's checks share: its session, its configuration, and how fixes name its settings and commands. */
interface Check {
  session: ZohoSession
  pool: pg.Pool
  config: Config
  organization: OrganizationConfig
  add: (check: string, status: Status, detail: string) => void
  /** a setting as the operator changes it: the ZOHO_* variable, or the field of the organization's ZOHO_ORGANIZATIONS entry */
  setting: (variable: string, field: string) => string
  /** a setting with its value: ZOHO_DC=eu, or dc "eu" (of its entry) */
  assigned: (variable: string, field: string, value: string) => string
  /** a CLI command for this organization: `npm run cli -- map …`, naming it when several are configured */
  cli: (command: string) => string
}

/** The outcome of a grant already proven (or refused) for an earlier organization of the same OAuth grant. */
interface GrantCheck {
  by: string
  refused?: string
}

interface Section {
  organization: OrganizationConfig
  rows: Row[]
  session: ZohoSession | null
}

export async function runDoctor(options: { config: Config; pool: pg.Pool; logger: Logger; out: NodeJS.WritableStream; organizationId?: string }): Promise<number> {
  const { config, pool, out } = options
  const zoho = config.zoho

  if (zoho.mode !== 'remote') {
    const rows: Row[] = []
    rows.push({ check: 'plan limits', status: zoho.plan ? 'OK' : 'WARN', detail: planDetail(zoho, (v) => v, (v, value) => `${v}=${value}`) })
    rows.push({ check: 'credentials', status: 'BLOCKER', detail: `no ZOHO_* credentials: doctor checks nothing real (workers would use the built-in sandbox)${fix('set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, ZOHO_ORGANIZATION_ID, ZOHO_DC and TOKEN_ENCRYPTION_KEY, or ZOHO_ORGANIZATIONS')}` })
    return print(out, [{ organization: null, rows, session: null }], false)
  }

  const several = config.organizations.length > 1
  const organizations = options.organizationId === undefined ? config.organizations : [chooseOrganization(config.organizations, options.organizationId, 'doctor')]
  // One token per OAuth grant: organizations sharing a Zoho user's grant refresh it once between them.
  const grants = new Map<string, GrantCheck>()
  const sections: Section[] = []
  for (const organization of organizations) {
    const rows: Row[] = []
    const session = openZohoSession({ pool, limits: organization.limits, target: organization.target, encryptionKey: config.tokenEncryptionKey, logger: options.logger })
    const fromEntries = organization.label !== 'ZOHO_ORGANIZATION_ID'
    const check: Check = {
      session, pool, config, organization,
      add: (c, status, detail) => rows.push({ check: c, status, detail }),
      setting: (variable, field) => (fromEntries ? `"${field}" of its ZOHO_ORGANIZATIONS entry` : variable),
      assigned: (variable, field, value) => (fromEntries ? `${field} "${value}"` : `${variable}=${value}`),
      cli: (command) => `npm run cli -- ${command}${several ? ` --organization ${organization.organizationId}` : ''}`,
    }
    try {
      await checkOne(check, grants)
    } finally {
      await session.close()
    }
    sections.push({ organization, rows, session })
  }
  const unserved = options.organizationId === undefined ? await unconfiguredOrganizations(pool, config.organizations) : []
  return print(out, [...sections, ...(unserved.length ? [{ organization: null, rows: unserved, session: null }] : [])], several)
}

/**
 * Bills of an organization that ZOHO_ORGANIZATIONS no longer names (an entry removed, or its organizationId
 * changed): no worker serves its queue, so waiting bills stay queued and a retry of a failed one only queues it.
 * Read from the per-organization rollup, not the transactions table.
 */
async function unconfiguredOrganizations(pool: pg.Pool, organizations: readonly OrganizationConfig[]): Promise<Row[]> {
  const { rows } = await pool.query<{ organization_id: string; waiting: string | null; failed: string | null }>(
    `SELECT organization_id,
            sum(n) FILTER (WHERE status IN ('received', 'queued', 'processing')) AS waiting,
            sum(n) FILTER (WHERE status = 'failed') AS failed
       FROM organization_status_counts
      WHERE organization_id <> '' AND organization_id <> ALL($1::text[]) AND status IN ('received', 'queued', 'processing', 'failed') AND n > 0
      GROUP BY organization_id ORDER BY organization_id`,
    [organizations.map((o) => o.organizationId)])
  // Name the setting the operator uses: the single ZOHO_ORGANIZATION_ID, or the entries of ZOHO_ORGANIZATIONS.
  const single = organizations.length === 1 && organizations[0]!.label === 'ZOHO_ORGANIZATION_ID'
  const setting = single ? 'ZOHO_ORGANIZATION_ID' : 'ZOHO_ORGANIZATIONS'
  const restore = (id: string) => fix(single
    ? `set ZOHO_ORGANIZATION_ID=${id} again (or name both organizations in ZOHO_ORGANIZATIONS) and restart`
    : `add an entry with organizationId "${id}" back to ZOHO_ORGANIZATIONS (its subsidiaries, credentials and limits) and restart`)
  return rows.flatMap((r) => {
    const waiting = Number(r.waiting ?? 0)
    const failed = Number(r.failed ?? 0)
    const out: Row[] = []
    if (waiting > 0) out.push({ check: 'unconfigured organization', status: 'BLOCKER', detail: `${waiting} bill(s) waiting for Zoho organization ${r.organization_id}, which ${setting} no longer names: nothing delivers them${restore(r.organization_id)}` })
    if (failed > 0) out.push({ check: 'unconfigured organization', status: 'WARN', detail: `${failed} failed bill(s) of Zoho organization ${r.organization_id}, which ${setting} no longer names: a retry would only queue them${restore(r.organization_id)}, or resolve them on the dashboard` })
    return out
  })
}

async function checkOne(check: Check, grants: Map<string, GrantCheck>): Promise<void> {
  const limits = check.organization.limits
  const field = (variable: string) => (variable === 'ZOHO_PLAN' ? 'plan' : variable === 'ZOHO_DAILY_LIMIT' ? 'dailyLimit' : 'maxConcurrency')
  check.add('plan limits', limits.plan ? 'OK' : 'WARN', planDetail(limits, (v) => check.setting(v, field(v)), (v, value) => check.assigned(v, field(v), value)))
  const token = await checkToken(check, grants)
  if (token) {
    const org = await checkOrganization(check)
    if (org) {
      await checkAccounts(check)
      await checkTaxesAndTags(check)
      await checkVendors(check)
    }
  }
  await checkDailyQuota(check)
}

function planDetail(limits: { plan?: string; dailyLimit: number; maxConcurrency: number; ratePerMinute: number }, setting: (variable: string) => string, assigned: (variable: string, value: string) => string): string {
  const plan = limits.plan ? assigned('ZOHO_PLAN', limits.plan) : `${setting('ZOHO_PLAN')} unset`
  return `${plan}: ${limits.dailyLimit} requests/day, ${limits.maxConcurrency} concurrent, ${limits.ratePerMinute}/min${limits.plan ? '' : fix(`set ${setting('ZOHO_PLAN')} to the organization's plan (${Object.keys(PLANS).join('|')}) unless ${setting('ZOHO_DAILY_LIMIT')} and ${setting('ZOHO_MAX_CONCURRENCY')} are set on purpose`)}`
}

function print(out: NodeJS.WritableStream, sections: Array<{ organization: OrganizationConfig | null; rows: Row[]; session: ZohoSession | null }>, several: boolean): number {
  const all = sections.flatMap((s) => s.rows)
  const nameOf = (o: OrganizationConfig | null) => (o ? o.name ?? o.label : '')
  const width = Math.max(...all.map((r) => r.check.length), 5)
  const orgWidth = several ? Math.max(...sections.map((s) => nameOf(s.organization).length), 'ORGANIZATION'.length) : 0
  const prefix = (o: OrganizationConfig | null) => (several ? `${nameOf(o).padEnd(orgWidth)}  ` : '')
  out.write(`${several ? `${'ORGANIZATION'.padEnd(orgWidth)}  ` : ''}${'CHECK'.padEnd(width)}  STATUS   DETAIL\n`)
  for (const section of sections) {
    for (const r of section.rows) out.write(`${prefix(section.organization)}${r.check.padEnd(width)}  ${r.status.padEnd(7)}  ${r.detail}\n`)
  }
  for (const { organization, session } of sections) {
    if (!session) continue
    const paths = Object.entries(session.requests.byPath()).map(([p, n]) => `${p.replace(/\/\d{6,}/g, '/:id')} ×${n}`).join(', ')
    out.write(`${several ? `${nameOf(organization)} (${organization!.organizationId}): ` : ''}Zoho requests: ${session.requests.total()} of at most ${DOCTOR_REQUEST_BUDGET} (${paths || 'none'})\n`)
  }
  const blockers = all.filter((r) => r.status === 'BLOCKER').length
  out.write(blockers === 0 ? 'ready: no blockers\n' : `${blockers} blocker(s): fix them and run doctor again\n`)
  return blockers === 0 ? 0 : 1
}

/**
 * The organization's token (refreshing it when none is cached); with a cached one, a grant proves the refresh
 * token still works, once per OAuth grant: an organization sharing an earlier one's grant takes its outcome.
 */
async function checkToken(check: Check, grants: Map<string, GrantCheck>): Promise<AccessToken | null> {
  const { session, add, setting, assigned } = check
  const target = session.target
  const configured = target.dataCentre ? assigned('ZOHO_DC', 'dc', target.dataCentre) : `data centre ${dataCentreOf(target.accountsUrl) ?? 'none of Zoho\'s'}`
  const credentials = check.organization.label === 'ZOHO_ORGANIZATION_ID' ? 'ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN and ZOHO_DC' : 'clientId, clientSecret, refreshToken and dc of its ZOHO_ORGANIZATIONS entry (or of the entry it takes credentialsFrom)'
  const grant = grantKeyOf(target)
  const earlier = grants.get(grant)
  if (earlier?.refused !== undefined) {
    add('token refresh', 'BLOCKER', `the OAuth grant it shares with ${earlier.by} was refused (${earlier.refused})${fix(`check ${credentials}`)}`)
    return null
  }
  let token: AccessToken
  try {
    token = await session.stack.tokens.get()
    if (session.refreshes() === 0 && !earlier) {
      const proof = await grantOnce(target, session.stack.dispatcher)
      if (proof.body.error || !proof.body.access_token) {
        grants.set(grant, { by: check.organization.name ?? check.organization.label, refused: String(proof.body.error) })
        add('token refresh', 'BLOCKER', `a cached token still works, but ${target.accountsUrl} refused a refresh (${String(proof.body.error)})${fix(`check ${credentials}`)}`)
        return null
      }
    }
  } catch (err) {
    grants.set(grant, { by: check.organization.name ?? check.organization.label, refused: message(err) })
    add('token refresh', 'BLOCKER', `${message(err)}${err instanceof ZohoError && err.code === 'ZOHO_TOKEN_UNREACHABLE' ? fix(`check ${setting('ZOHO_DC / ZOHO_ACCOUNTS_URL', 'dc / accountsUrl')} (${target.accountsUrl})`) : ''}`)
    return null
  }
  const shared = earlier && session.refreshes() === 0 ? ` (the token of the OAuth grant it shares with ${earlier.by}, proven once)` : session.refreshes() === 0 ? ' (the shared cached token is still valid)' : ''
  if (!earlier) grants.set(grant, { by: check.organization.name ?? check.organization.label })
  add('token refresh', 'OK', `${target.accountsUrl} (${configured}) granted a token${shared}`)
  const root = session.stack.books.rootFor(token)
  if (!token.apiDomain) {
    add('api domain', 'WARN', `the grant named no api_domain; requests go to ${root}${fix(`set ${setting('ZOHO_DC', 'dc')} to the organization's data centre`)}`)
  } else if (target.apiUrl && booksRootFor(token.apiDomain) !== target.apiUrl.replace(/\/+$/, '')) {
    add('api domain', 'WARN', `${setting('ZOHO_API_URL', 'apiUrl')} ${target.apiUrl} overrides the api_domain ${token.apiDomain} Zoho names for the organization${fix(`unset ${setting('ZOHO_API_URL', 'apiUrl')} (or set ${setting('ZOHO_DC', 'dc')}) unless this is intended`)}`)
  } else {
    const dc = dataCentreOf(token.apiDomain)
    const wanted = target.dataCentre
    if (wanted && dc && dc !== wanted) add('api domain', 'WARN', `api_domain ${token.apiDomain} is data centre ${dc}, ${assigned('ZOHO_DC', 'dc', wanted)}${fix(`set ${assigned('ZOHO_DC', 'dc', dc)}`)}`)
    else add('api domain', 'OK', `api_domain ${token.apiDomain} (data centre ${dc ?? 'none of Zoho\'s'}); requests go to ${root}`)
  }
  return token
}

// What each edition needs from NetSuite beyond account and amount (docs/zoho.md, "What each edition requires on a bill").
const EDITION_NEEDS: Record<Edition, string> = {
  us: 'no purchase tax is required; tax codes, when sent, map to the organization\'s taxes',
  uk: 'every tax code maps to a Zoho VAT rate; the vendor\'s country decides vat_treatment (reverse charge for services bought from abroad), so send vendor country',
  india: 'every tax code maps to a GST tax or group (CGST+SGST within the state, IGST across states); registered vendors need their GSTIN (vendor taxId) and state of supply, so send vendor taxId and country',
  gcc: 'every tax code maps to a VAT rate; tax_treatment and place_of_supply come from the vendor (vendor country, and taxId for a TRN)',
  other: 'billbridge sends each line\'s tax; no edition-specific bill fields (set ZOHO_EDITION if the organization is one of us|uk|india|gcc)',
}

async function checkOrganization(check: Check): Promise<boolean> {
  const { session, add, setting, assigned } = check
  const configured = check.organization.limits.edition
  const id = session.target.organizationId
  try {
    const res = await session.stack.books.call<{ organization?: { name?: string; currency_code?: string; time_zone?: string; plan_name?: string; country?: string; country_code?: string; address?: { country?: string } } }>({ method: 'GET', path: `/organizations/${encodeURIComponent(id)}`, endpoint: 'GET /organizations/:id' })
    const org = res.organization ?? {}
    add('organization', 'OK', `${id} "${org.name ?? '?'}", base currency ${org.currency_code ?? '?'}, time zone ${org.time_zone ?? '?'}${org.plan_name ? `, Zoho plan ${org.plan_name}` : ''}`)
    const country = countryCodeOf(org)
    const derived = editionOf(country)
    const edition = configured ?? derived
    const source = configured ? `${assigned('ZOHO_EDITION', 'edition', edition)}${edition !== derived ? ` (the country ${country || '?'} says ${derived})` : ''}` : `from the organization's country ${country || `"${org.address?.country ?? org.country ?? '?'}" (not recognised)`}`
    add('edition', edition === 'other' && !configured ? 'WARN' : 'OK', `${edition} (${source}): ${EDITION_NEEDS[edition]}`)
    return true
  } catch (err) {
    const notFound = err instanceof ZohoError && (err.zohoCode === 6041 || err.httpStatus === 404)
    add('organization', 'BLOCKER', `${message(err)}${notFound ? fix(`${setting('ZOHO_ORGANIZATION_ID', 'organizationId')} ${id} is not an organization of this Zoho user in this data centre: take the id from Zoho Books → Settings → Organization Profile, and check ${setting('ZOHO_DC', 'dc')}`) : ''}`)
    return false
  }
}

/**
 * Every NetSuite account the organization has seen so far: the operator's and earlier matches in its
 * account_map, plus the accounts on its bills not delivered yet (a bounded scan: the transactions table can be
 * huge, and delivered bills' accounts are in account_map already, unless they went to the default account).
 */
async function checkAccounts(check: Check): Promise<void> {
  const { session, pool, add, setting } = check
  const org = session.target.organizationId
  const mapped = (await pool.query<{ account: string; zoho_account_id: string; origin: string }>('SELECT account, zoho_account_id, origin FROM account_map WHERE organization_id = $1', [org])).rows
  const pending = (await pool.query<{ account: string }>(
    `SELECT DISTINCT line->>'account' AS account
       FROM (SELECT bill FROM transactions WHERE organization_id = $2 AND status IN ('received', 'queued', 'processing', 'failed') ORDER BY created_at DESC LIMIT $1) t,
            jsonb_array_elements(t.bill->'lines') AS line`, [PENDING_SCAN_LIMIT, org])).rows.map((r) => r.account).filter(Boolean)
  // Leaves one request for the taxes list, one for the reporting tags and one for a vendor lookup.
  const pageBudget = Math.max(1, DOCTOR_REQUEST_BUDGET - session.requests.total() - 3)
  let chart: Account[]
  let complete: boolean
  try {
    ({ items: chart, complete } = await session.stack.books.callPages<Account>({ method: 'GET', path: '/chartofaccounts', endpoint: 'GET /chartofaccounts', query: { filter_by: 'AccountType.All' } }, 'chartofaccounts', undefined, pageBudget))
  } catch (err) {
    add('accounts', 'BLOCKER', `could not read the chart of accounts: ${message(err)}${fix('give the client the ZohoBooks.accountants.READ scope')}`)
    return
  }
  const active = chart.filter((a) => a.is_active !== false)
  const byId = new Map(chart.map((a) => [a.account_id, a]))
  const problems: string[] = []
  const mapAccount = (account: string) => `\`${check.cli(`map account "${account}" <Zoho account_id>`)}\``
  for (const m of mapped) {
    const zohoAccount = byId.get(m.zoho_account_id)
    if (zohoAccount?.is_active !== false && zohoAccount) continue
    if (!zohoAccount && !complete) continue
    problems.push(`"${m.account}" → Zoho account ${m.zoho_account_id} is ${zohoAccount ? 'inactive' : 'not in the chart'}${fix(mapAccount(m.account))}`)
  }
  const known = new Set(mapped.map((m) => m.account))
  const unmatched = [...new Set(pending.map(accountKey))].filter((a) => !known.has(a)).filter((account) => !matchAccount(active, account))
  const fallback = check.organization.limits.defaultAccountId
  const defaultAccount = setting('ZOHO_DEFAULT_ACCOUNT_ID', 'defaultAccountId')
  if (fallback) {
    const account = byId.get(fallback)
    if (!account || account.is_active === false) problems.push(`${defaultAccount} ${fallback} is ${account ? 'inactive' : 'not in the chart'}${fix('set it to an active Zoho account_id, or unset it')}`)
  }
  const seen = `${new Set([...known, ...pending.map(accountKey)]).size} NetSuite account(s) seen (account_map + bills not delivered)`
  const chartSize = `chart: ${chart.length}${complete ? '' : '+'} accounts, ${active.length} active`
  if (!complete) add('accounts', 'WARN', `${chartSize}; only ${pageBudget} page(s) read within the request budget, so missing ids were not judged`)
  if (unmatched.length > 0 && fallback) add('accounts', 'WARN', `${unmatched.length} account(s) match no active Zoho account and will post to ${defaultAccount} ${fallback}: ${unmatched.slice(0, LISTED).map((a) => `"${a}"`).join(', ')}${fix(`map each with ${mapAccount('<NetSuite account>')} if the default is wrong for it`)}`)
  else for (const a of unmatched) problems.push(`"${a}" matches no active Zoho account (by code or name)${fix(mapAccount(a))}`)
  for (const p of problems.slice(0, LISTED)) add('account', 'BLOCKER', p)
  if (problems.length > LISTED) add('account', 'BLOCKER', `…and ${problems.length - LISTED} more unmapped accounts${fix(mapAccount('<NetSuite account>'))}`)
  if (problems.length === 0) add('accounts', 'OK', `${seen}; every one maps to an active Zoho account; ${chartSize}`)
}

/**
 * Tax codes and segment values on the newest stored bills that would map to nothing: the taxes list and the
 * reporting tags list (one request each), then the options of a configured tag whose values are seen, while
 * the budget lasts (leaving one request for the vendor lookups).
 */
async function checkTaxesAndTags(check: Check): Promise<void> {
  const { session, pool, add, setting } = check
  const org = session.target.organizationId
  const books = session.stack.books
  const seen = (await pool.query<{ kind: string; value: string; rate: string | null }>(
    `SELECT DISTINCT ON (k.kind, account_key(k.value)) k.kind, btrim(k.value) AS value, k.rate
       FROM (SELECT bill FROM transactions WHERE organization_id = $2 ORDER BY created_at DESC LIMIT $1) t, jsonb_array_elements(t.bill->'lines') l,
            LATERAL (VALUES ('tax', l->>'taxCode', l->>'taxRate'),
                            ('department', coalesce(nullif(btrim(l->>'department'), ''), t.bill->>'department'), NULL),
                            ('class', coalesce(nullif(btrim(l->>'class'), ''), t.bill->>'class'), NULL),
                            ('location', coalesce(nullif(btrim(l->>'location'), ''), t.bill->>'location'), NULL)) k (kind, value, rate)
      WHERE btrim(k.value) <> '' ORDER BY k.kind, account_key(k.value)`, [PENDING_SCAN_LIMIT, org])).rows
  const codes = seen.filter((s) => s.kind === 'tax')
  const taxMap = new Set((await pool.query<{ tax_code: string }>('SELECT tax_code FROM tax_map WHERE organization_id = $1', [org])).rows.map((r) => r.tax_code))
  const tagMap = new Set((await pool.query<{ segment: string; value: string }>('SELECT segment, value FROM tag_map WHERE organization_id = $1', [org])).rows.map((r) => `${r.segment}:${r.value}`))
  const mapTax = (code: string) => `\`${check.cli(`map tax "${code}" <zoho tax id>`)}\``

  try {
    const list = await books.callPages<ZohoTax>({ method: 'GET', path: '/settings/taxes', endpoint: 'GET /settings/taxes' }, 'taxes', undefined, 1)
    const taxes = taxesFromZoho(list.items, [])
    const problems: string[] = []
    for (const c of codes) {
      if (taxMap.has(accountKey(c.value))) continue
      const match = matchTax(taxes, c.value, c.rate ?? undefined)
      if (!('tax' in match)) problems.push(`"${c.value}" maps to no Zoho tax: ${match.problem}${match.candidates.length ? ` (candidates ${match.candidates.slice(0, 5).map((x) => `${x.tax_id} ${x.tax_name}`).join(', ')})` : ''}${fix(mapTax(c.value))}`)
    }
    for (const p of problems.slice(0, LISTED)) add('tax code', 'BLOCKER', p)
    if (problems.length > LISTED) add('tax code', 'BLOCKER', `…and ${problems.length - LISTED} more unmapped tax codes${fix(mapTax('<NetSuite tax code>'))}`)
    const size = `Zoho: ${taxes.filter((x) => x.is_active).length}${list.complete ? '' : '+'} active taxes and groups`
    if (problems.length === 0) add('taxes', 'OK', `${codes.length} NetSuite tax code(s) seen on the newest bills; each maps to a Zoho tax; ${size}`)
  } catch (err) {
    add('taxes', 'BLOCKER', `could not read the taxes: ${message(err)}${fix('give the client the ZohoBooks.settings.READ scope')}`)
  }

  let tags
  try {
    tags = tagsFromZoho((await books.call<{ reporting_tags?: ZohoTag[] }>({ method: 'GET', path: '/reportingtags', endpoint: 'GET /reportingtags' })).reporting_tags ?? [])
  } catch (err) {
    add('tags', 'BLOCKER', `could not read the reporting tags: ${message(err)}${fix('give the client the ZohoBooks.settings.READ scope')}`)
    return
  }
  const configured = check.organization.limits.tags
  const zohoTags = setting('ZOHO_TAGS', 'tags')
  const byName = (name: string) => tags.find((t) => t.is_active && t.tag_name.trim().toLowerCase() === name.trim().toLowerCase())
  let blockers = 0
  const checked: string[] = []
  for (const segment of SEGMENTS) {
    const values = seen.filter((s) => s.kind === segment)
    const tagName = configured[segment]
    if (!tagName) {
      if (values.length > 0) add('tags', 'WARN', `${values.length} ${segment} value(s) on the newest bills, but ${zohoTags} maps no reporting tag to ${segment}: they are not sent to Zoho${fix(`add ${segment}=<tag name> to ${zohoTags} if Zoho should report by it`)}`)
      continue
    }
    const tag = byName(tagName)
    if (!tag) {
      blockers++
      add('tag', 'BLOCKER', `${zohoTags} maps ${segment} to "${tagName}", which Zoho does not list as an active reporting tag (${tags.map((t) => `"${t.tag_name}"`).join(', ') || 'none'})${fix(`correct ${zohoTags} or create the tag in Zoho Books → Settings → Reporting Tags`)}`)
      continue
    }
    const unmapped = values.filter((v) => !tagMap.has(`${segment}:${accountKey(v.value)}`))
    if (unmapped.length === 0) continue
    if (session.requests.total() >= DOCTOR_REQUEST_BUDGET - 1) {
      add('tags', 'WARN', `${unmapped.length} ${segment} value(s) not judged: the request budget is spent (they are checked as their first bill is delivered)`)
      continue
    }
    const res = await books.call<{ tag_options?: ZohoOption[] }>({ method: 'GET', path: `/reportingtags/${tag.tag_id}/options`, endpoint: 'GET /reportingtags/{id}/options' })
    const options = optionsFromZoho(tag.tag_id, res.tag_options ?? [])
    checked.push(`${values.length} ${segment} value(s) → "${tag.tag_name}"`)
    const failing = unmapped.filter((v) => !('option' in matchOption(options, v.value)))
    for (const v of failing.slice(0, LISTED)) add('tag', 'BLOCKER', `${segment} "${v.value}" matches no option of "${tag.tag_name}"${fix(`\`${check.cli(`map tag ${segment} "${v.value}" <tag option id>`)}\``)}`)
    blockers += failing.length
  }
  for (const tag of tags.filter((t) => t.is_active && t.is_mandatory)) {
    if (SEGMENTS.some((s) => configured[s] && byName(configured[s]!)?.tag_id === tag.tag_id)) continue
    blockers++
    add('tag', 'BLOCKER', `Zoho requires the reporting tag "${tag.tag_name}" on every line and ${zohoTags} maps no NetSuite segment to it: every bill would fail TAG_REQUIRED${fix(`add it to ${zohoTags} (e.g. department=${tag.tag_name})`)}`)
  }
  if (blockers === 0) add('tags', 'OK', `${tags.length} reporting tag(s) in Zoho (${tags.filter((t) => t.is_mandatory).length} mandatory); ${zohoTags} ${SEGMENTS.filter((s) => configured[s]).map((s) => `${s}=${configured[s]}`).join(',') || 'unset'}${checked.length ? `; ${checked.join(', ')} match` : ''}`)
}

/**
 * Ambiguous vendors: bills that failed with VENDOR_AMBIGUOUS and are not mapped since, and the vendors of
 * waiting bills that no vendor_map entry covers, looked up in Zoho as a worker would, while the request
 * budget lasts.
 */
async function checkVendors(check: Check): Promise<void> {
  const { session, pool, config, add } = check
  const org = session.target.organizationId
  const mapVendor = (name: string) => `\`${check.cli(`map vendor "${name}" <contact_id>`)}\``
  const failed = (await pool.query<{ name: string; n: number; ids: string[]; msg: string }>(
    `SELECT vendor->>'name' AS name, count(*)::int AS n, (array_agg(id::text ORDER BY created_at))[1:5] AS ids, max(last_error_message) AS msg
       FROM transactions WHERE organization_id = $1 AND status = 'failed' AND last_error_code = 'VENDOR_AMBIGUOUS' GROUP BY 1 ORDER BY 1 LIMIT 100`, [org])).rows
  const mappedKeys = new Set((await pool.query<{ vendor_key: string }>('SELECT vendor_key FROM vendor_map WHERE organization_id = $1', [org])).rows.map((r) => r.vendor_key))
  let ambiguous = 0
  for (const f of failed) {
    if (mappedKeys.has(`name:${normal(f.name)}`)) {
      add('vendor', 'WARN', `"${f.name}": ${f.n} bill(s) failed VENDOR_AMBIGUOUS but the vendor is mapped now${fix(`npm run cli -- retry ${f.ids.join(' ')}${f.n > f.ids.length ? ' …' : ''}`)}`)
      continue
    }
    ambiguous++
    const candidates = /contact ids ([\d, ]+)/.exec(f.msg ?? '')?.[1]?.trim()
    add('vendor', 'BLOCKER', `"${f.name}": ${f.n} bill(s) failed VENDOR_AMBIGUOUS${candidates ? ` (Zoho contacts ${candidates})` : ''}${fix(`${mapVendor(f.name)}, then npm run cli -- retry ${f.ids.join(' ')}${f.n > f.ids.length ? ' …' : ''}`)}`)
  }

  const waiting = (await pool.query<{ name: string; email: string | null; ext: string | null }>(
    `SELECT DISTINCT ON (lower(btrim(vendor->>'name'))) vendor->>'name' AS name, vendor->>'email' AS email, vendor->>'externalId' AS ext
       FROM (SELECT vendor FROM transactions WHERE organization_id = $2 AND status IN ('received', 'queued', 'processing') ORDER BY created_at LIMIT $1) t
      ORDER BY lower(btrim(vendor->>'name'))`, [PENDING_SCAN_LIMIT, org])).rows
    .filter((v) => !vendorKeys({ name: v.name, ...(v.ext ? { externalId: v.ext } : {}) }).some((k) => mappedKeys.has(k)))
  let looked = 0
  let missing = 0
  for (const v of waiting) {
    if (session.requests.total() >= DOCTOR_REQUEST_BUDGET) break
    const trimmed = v.name.trim()
    const filter: Record<string, string> = trimmed.length <= 100 ? { contact_name: trimmed } : { contact_name_startswith: trimmed.slice(0, 100) }
    let contacts: Contact[]
    try {
      contacts = (await session.stack.books.call<{ contacts?: Contact[] }>({ method: 'GET', path: '/contacts', endpoint: 'GET /contacts', query: { contact_type: 'vendor', filter_by: 'Status.Active', per_page: '200', ...filter } })).contacts ?? []
    } catch (err) {
      add('vendors', 'BLOCKER', `could not look up vendors: ${message(err)}${fix('give the client the ZohoBooks.contacts.READ scope')}`)
      return
    }
    looked++
    const same = contacts.filter((c) => normal(c.contact_name) === normal(trimmed) && (c.status ?? 'active') === 'active' && (c.contact_type ?? 'vendor') === 'vendor')
    const byEmail = v.email ? same.filter((c) => c.email?.toLowerCase() === v.email!.toLowerCase()) : []
    if (same.length === 0) missing++
    if (same.length > 1 && byEmail.length !== 1) {
      ambiguous++
      add('vendor', 'BLOCKER', `"${trimmed}": ${same.length} active Zoho vendors with this name (contacts ${same.map((c) => c.contact_id).join(', ')})${v.email ? ` and no single one with email ${v.email}` : ''}; its waiting bills would fail VENDOR_AMBIGUOUS${fix(mapVendor(trimmed))}`)
    }
  }
  const unchecked = waiting.length - looked
  if (unchecked > 0) add('vendors', 'WARN', `${unchecked} vendor(s) of waiting bills not looked up within the ${DOCTOR_REQUEST_BUDGET}-request budget (they are checked as their first bill is delivered)`)
  if (missing > 0 && !config.zoho.createMissingVendors) add('vendors', 'BLOCKER', `${missing} vendor(s) of waiting bills are not in Zoho and ZOHO_CREATE_MISSING_VENDORS=false${fix(`create them in Zoho Books or map them with \`${check.cli('map vendor')}\``)}`)
  if (ambiguous === 0) add('vendors', 'OK', `no ambiguous vendor (${looked} unmapped vendor(s) of waiting bills looked up in Zoho, ${missing} to be created${failed.length ? `; ${failed.length} earlier VENDOR_AMBIGUOUS vendor(s) mapped since` : ''})`)
}

async function checkDailyQuota(check: Check): Promise<void> {
  const { session, add, setting } = check
  const state = await session.stack.limiter.state() as { day: Date; day_count: number; daily_limit: number; blocked_until: Date } | null
  const today = new Date().toISOString().slice(0, 10)
  const used = state && toDay(state.day) === today ? state.day_count : 0
  const limit = session.limits.dailyLimit
  const left = Math.max(0, limit - used)
  const blocked = state && state.blocked_until > new Date() ? `; requests paused until ${state.blocked_until.toISOString()}` : ''
  const detail = `${used} of ${limit} used today (UTC day, counted by billbridge, this run included), ${left} left${blocked}`
  if (left === 0) add('daily calls', 'BLOCKER', `${detail}${fix(`wait for the next UTC day, or ask Zoho to raise the limit and set ${setting('ZOHO_PLAN / ZOHO_DAILY_LIMIT', 'plan / dailyLimit')}`)}`)
  else add('daily calls', left < limit / 10 ? 'WARN' : 'OK', detail)
}

function toDay(day: Date | string): string {
  if (typeof day === 'string') return day.slice(0, 10)
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`
}
