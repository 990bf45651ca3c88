// `npm run cli -- doctor`: checks a configuration against its Zoho organization before go-live, in at most
// DOCTOR_REQUEST_BUDGET HTTP requests (token grants included), every Books request taking a permit from the
// workers' rate bucket. Prints one table; a BLOCKER row names its fix, and makes the exit code 1.
import { defaultOrganization } from '../../src/zoho/organizations.ts'
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
import type { AccessToken } from '../../src/zoho/token-cache.ts'
import { grantOnce, openZohoSession, type ZohoSession } from './zoho-session.ts'

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

export async function runDoctor(options: { config: Config; pool: pg.Pool; logger: Logger; out: NodeJS.WritableStream }): Promise<number> {
  const { config, pool, out } = options
  const zoho = config.zoho
  const rows: Row[] = []
  const add = (check: string, status: Status, detail: string) => rows.push({ check, status, detail })

  add('plan limits', zoho.plan ? 'OK' : 'WARN', `${zoho.plan ? `ZOHO_PLAN=${zoho.plan}` : 'ZOHO_PLAN unset'}: ${zoho.dailyLimit} requests/day, ${zoho.maxConcurrency} concurrent, ${zoho.ratePerMinute}/min${zoho.plan ? '' : fix(`set ZOHO_PLAN to the organization's plan (${Object.keys(PLANS).join('|')}) unless ZOHO_DAILY_LIMIT and ZOHO_MAX_CONCURRENCY are set on purpose`)}`)

  if (zoho.mode !== 'remote') {
    add('credentials', 'BLOCKER', `no ZOHO_* credentials: doctor checks nothing real (workers would use the built-in sandbox)${fix('set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN, ZOHO_ORGANIZATION_ID, ZOHO_DC and TOKEN_ENCRYPTION_KEY')}`)
    return print(out, rows, null)
  }

  const organization = defaultOrganization(config.organizations)
  const session = openZohoSession({ pool, limits: organization.limits, target: organization.target, encryptionKey: config.tokenEncryptionKey, logger: options.logger })
  try {
    const token = await checkToken(session, config, add)
    if (token) {
      const org = await checkOrganization(session, config, add)
      if (org) {
        await checkAccounts(session, pool, config, add)
        await checkTaxesAndTags(session, pool, config, add)
        await checkVendors(session, pool, config, add)
      }
    }
    await checkDailyQuota(session, add)
    return print(out, rows, session)
  } finally {
    await session.close()
  }
}

function print(out: NodeJS.WritableStream, rows: Row[], session: ZohoSession | null): number {
  const width = Math.max(...rows.map((r) => r.check.length), 5)
  out.write(`${'CHECK'.padEnd(width)}  STATUS   DETAIL\n`)
  for (const r of rows) out.write(`${r.check.padEnd(width)}  ${r.status.padEnd(7)}  ${r.detail}\n`)
  const blockers = rows.filter((r) => r.status === 'BLOCKER').length
  if (session) {
    const paths = Object.entries(session.requests.byPath()).map(([p, n]) => `${p.replace(/\/\d{6,}/g, '/:id')} ×${n}`).join(', ')
    out.write(`Zoho requests: ${session.requests.total()} of at most ${DOCTOR_REQUEST_BUDGET} (${paths || 'none'})\n`)
  }
  out.write(blockers === 0 ? 'ready: no blockers\n' : `${blockers} blocker(s): fix them and run doctor again\n`)
  return blockers === 0 ? 0 : 1
}

/** The shared token (refreshing it when none is cached); with a cached one, a grant proves the refresh token still works. */
async function checkToken(session: ZohoSession, config: Config, add: (c: string, s: Status, d: string) => void): Promise<AccessToken | null> {
  const target = session.target
  const configured = target.dataCentre ? `ZOHO_DC=${target.dataCentre}` : `data centre ${dataCentreOf(target.accountsUrl) ?? 'none of Zoho\'s'}`
  let token: AccessToken
  try {
    token = await session.stack.tokens.get()
    if (session.refreshes() === 0) {
      const grant = await grantOnce(target, session.stack.dispatcher)
      if (grant.body.error || !grant.body.access_token) {
        add('token refresh', 'BLOCKER', `a cached token still works, but ${target.accountsUrl} refused a refresh (${String(grant.body.error)})${fix('check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN and ZOHO_DC')}`)
        return null
      }
    }
  } catch (err) {
    add('token refresh', 'BLOCKER', `${message(err)}${err instanceof ZohoError && err.code === 'ZOHO_TOKEN_UNREACHABLE' ? fix(`check ZOHO_DC / ZOHO_ACCOUNTS_URL (${target.accountsUrl})`) : ''}`)
    return null
  }
  add('token refresh', 'OK', `${target.accountsUrl} (${configured}) granted a token${session.refreshes() === 0 ? ' (the shared cached token is still valid)' : ''}`)
  const root = session.stack.books.rootFor(token)
  if (!token.apiDomain) {
    add('api domain', 'WARN', `the grant named no api_domain; requests go to ${root}${fix('set ZOHO_DC to the organization\'s data centre')}`)
  } else if (target.apiUrl && booksRootFor(token.apiDomain) !== target.apiUrl.replace(/\/+$/, '')) {
    add('api domain', 'WARN', `ZOHO_API_URL ${target.apiUrl} overrides the api_domain ${token.apiDomain} Zoho names for the organization${fix('unset ZOHO_API_URL (or set ZOHO_DC) unless this is intended')}`)
  } else {
    const dc = dataCentreOf(token.apiDomain)
    const wanted = target.dataCentre
    if (wanted && dc && dc !== wanted) add('api domain', 'WARN', `api_domain ${token.apiDomain} is data centre ${dc}, ZOHO_DC is ${wanted}${fix(`set ZOHO_DC=${dc}`)}`)
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

async function checkOrganization(session: ZohoSession, config: Config, add: (c: string, s: Status, d: string) => void): Promise<boolean> {
  const id = session.target.organizationId
  try {
    const res = await session.stack.books.call<{ organization?: { name?: string; currency_code?: string; time_zone?: string; plan_name?: string; country?: string; country_code?: string; address?: { country?: string } } }>({ method: 'GET', path: `/organizations/${encodeURIComponent(id)}`, endpoint: 'GET /organizations/:id' })
    const org = res.organization ?? {}
    add('organization', 'OK', `${id} "${org.name ?? '?'}", base currency ${org.currency_code ?? '?'}, time zone ${org.time_zone ?? '?'}${org.plan_name ? `, Zoho plan ${org.plan_name}` : ''}`)
    const country = countryCodeOf(org)
    const derived = editionOf(country)
    const edition = config.zoho.edition ?? derived
    const source = config.zoho.edition ? `ZOHO_EDITION=${edition}${edition !== derived ? ` (the country ${country || '?'} says ${derived})` : ''}` : `from the organization's country ${country || `"${org.address?.country ?? org.country ?? '?'}" (not recognised)`}`
    add('edition', edition === 'other' && !config.zoho.edition ? 'WARN' : 'OK', `${edition} (${source}): ${EDITION_NEEDS[edition]}`)
    return true
  } catch (err) {
    const notFound = err instanceof ZohoError && (err.zohoCode === 6041 || err.httpStatus === 404)
    add('organization', 'BLOCKER', `${message(err)}${notFound ? fix(`ZOHO_ORGANIZATION_ID ${id} is not an organization of this Zoho user in this data centre: take the id from Zoho Books → Settings → Organization Profile, and check ZOHO_DC`) : ''}`)
    return false
  }
}

/**
 * Every NetSuite account seen so far: the operator's and earlier matches in account_map, plus the accounts
 * on bills not delivered yet (a bounded scan: the transactions table can be huge, and delivered bills'
 * accounts are in account_map already, unless they went to ZOHO_DEFAULT_ACCOUNT_ID).
 */
async function checkAccounts(session: ZohoSession, pool: pg.Pool, config: Config, add: (c: string, s: Status, d: string) => void): Promise<void> {
  const org = session.target.organizationId
  const mapped = (await pool.query<{ account: string; zoho_account_id: string; origin: string }>('SELECT account, zoho_account_id, origin FROM account_map WHERE organization_id = $1', [org])).rows
  const pending = (await pool.query<{ account: string }>(
    `SELECT DISTINCT line->>'account' AS account
       FROM (SELECT bill FROM transactions WHERE status IN ('received', 'queued', 'processing', 'failed') ORDER BY created_at DESC LIMIT $1) t,
            jsonb_array_elements(t.bill->'lines') AS line`, [PENDING_SCAN_LIMIT])).rows.map((r) => r.account).filter(Boolean)
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
  const mapAccount = (account: string) => `\`npm run cli -- map account "${account}" <Zoho account_id>\``
  for (const m of mapped) {
    const zohoAccount = byId.get(m.zoho_account_id)
    if (zohoAccount?.is_active !== false && zohoAccount) continue
    if (!zohoAccount && !complete) continue
    problems.push(`"${m.account}" → Zoho account ${m.zoho_account_id} is ${zohoAccount ? 'inactive' : 'not in the chart'}${fix(mapAccount(m.account))}`)
  }
  const known = new Set(mapped.map((m) => m.account))
  const unmatched = [...new Set(pending.map(accountKey))].filter((a) => !known.has(a)).filter((account) => !matchAccount(active, account))
  const fallback = config.zoho.defaultAccountId
  if (fallback) {
    const account = byId.get(fallback)
    if (!account || account.is_active === false) problems.push(`ZOHO_DEFAULT_ACCOUNT_ID ${fallback} is ${account ? 'inactive' : 'not in the chart'}${fix('set it to an active Zoho account_id, or unset it')}`)
  }
  const seen = `${new Set([...known, ...pending.map(accountKey)]).size} NetSuite account(s) seen (account_map + bills not delivered)`
  const chartSize = `chart: ${chart.length}${complete ? '' : '+'} accounts, ${active.length} active`
  if (!complete) add('accounts', 'WARN', `${chartSize}; only ${pageBudget} page(s) read within the request budget, so missing ids were not judged`)
  if (unmatched.length > 0 && fallback) add('accounts', 'WARN', `${unmatched.length} account(s) match no active Zoho account and will post to ZOHO_DEFAULT_ACCOUNT_ID ${fallback}: ${unmatched.slice(0, LISTED).map((a) => `"${a}"`).join(', ')}${fix(`map each with ${mapAccount('<NetSuite account>')} if the default is wrong for it`)}`)
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
async function checkTaxesAndTags(session: ZohoSession, pool: pg.Pool, config: Config, add: (c: string, s: Status, d: string) => void): Promise<void> {
  const org = session.target.organizationId
  const books = session.stack.books
  const seen = (await pool.query<{ kind: string; value: string; rate: string | null }>(
    `SELECT DISTINCT ON (k.kind, account_key(k.value)) k.kind, btrim(k.value) AS value, k.rate
       FROM (SELECT bill FROM transactions ORDER BY created_at DESC LIMIT $1) t, jsonb_array_elements(t.bill->'lines') l,
            LATERAL (VALUES ('tax', l->>'taxCode', l->>'taxRate'),
                            ('department', coalesce(nullif(btrim(l->>'department'), ''), t.bill->>'department'), NULL),
                            ('class', coalesce(nullif(btrim(l->>'class'), ''), t.bill->>'class'), NULL),
                            ('location', coalesce(nullif(btrim(l->>'location'), ''), t.bill->>'location'), NULL)) k (kind, value, rate)
      WHERE btrim(k.value) <> '' ORDER BY k.kind, account_key(k.value)`, [PENDING_SCAN_LIMIT])).rows
  const codes = seen.filter((s) => s.kind === 'tax')
  const taxMap = new Set((await pool.query<{ tax_code: string }>('SELECT tax_code FROM tax_map WHERE organization_id = $1', [org])).rows.map((r) => r.tax_code))
  const tagMap = new Set((await pool.query<{ segment: string; value: string }>('SELECT segment, value FROM tag_map WHERE organization_id = $1', [org])).rows.map((r) => `${r.segment}:${r.value}`))
  const mapTax = (code: string) => `\`npm run cli -- map tax "${code}" <zoho tax id>\``

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
  const configured = config.zoho.tags
  const byName = (name: string) => tags.find((t) => t.is_active && t.tag_name.trim().toLowerCase() === name.trim().toLowerCase())
  let blockers = 0
  const checked: string[] = []
  for (const segment of SEGMENTS) {
    const values = seen.filter((s) => s.kind === segment)
    const tagName = configured[segment]
    if (!tagName) {
      if (values.length > 0) add('tags', 'WARN', `${values.length} ${segment} value(s) on the newest bills, but ZOHO_TAGS maps no reporting tag to ${segment}: they are not sent to Zoho${fix(`add ${segment}=<tag name> to ZOHO_TAGS if Zoho should report by it`)}`)
      continue
    }
    const tag = byName(tagName)
    if (!tag) {
      blockers++
      add('tag', 'BLOCKER', `ZOHO_TAGS maps ${segment} to "${tagName}", which Zoho does not list as an active reporting tag (${tags.map((t) => `"${t.tag_name}"`).join(', ') || 'none'})${fix('correct ZOHO_TAGS or create the tag in Zoho Books → Settings → Reporting Tags')}`)
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
    for (const v of failing.slice(0, LISTED)) add('tag', 'BLOCKER', `${segment} "${v.value}" matches no option of "${tag.tag_name}"${fix(`\`npm run cli -- map tag ${segment} "${v.value}" <tag option id>\``)}`)
    blockers += failing.length
  }
  for (const tag of tags.filter((t) => t.is_active && t.is_mandatory)) {
    if (SEGMENTS.some((s) => configured[s] && byName(configured[s]!)?.tag_id === tag.tag_id)) continue
    blockers++
    add('tag', 'BLOCKER', `Zoho requires the reporting tag "${tag.tag_name}" on every line and ZOHO_TAGS maps no NetSuite segment to it: every bill would fail TAG_REQUIRED${fix(`add it to ZOHO_TAGS (e.g. department=${tag.tag_name})`)}`)
  }
  if (blockers === 0) add('tags', 'OK', `${tags.length} reporting tag(s) in Zoho (${tags.filter((t) => t.is_mandatory).length} mandatory); ZOHO_TAGS ${SEGMENTS.filter((s) => configured[s]).map((s) => `${s}=${configured[s]}`).join(',') || 'unset'}${checked.length ? `; ${checked.join(', ')} match` : ''}`)
}

/**
 * Ambiguous vendors: bills that failed with VENDOR_AMBIGUOUS and are not mapped since, and the vendors of
 * waiting bills that no vendor_map entry covers, looked up in Zoho as a worker would, while the request
 * budget lasts.
 */
async function checkVendors(session: ZohoSession, pool: pg.Pool, config: Config, add: (c: string, s: Status, d: string) => void): Promise<void> {
  const org = session.target.organizationId
  const mapVendor = (name: string) => `\`npm run cli -- map vendor "${name}" <contact_id>\``
  const failed = (await pool.query<{ name: string; n: number; ids: string[]; msg: string }>(
    `SELECT vendor->>'name' AS name, count(*)::int AS n, (array_agg(id::text ORDER BY created_at))[1:5] AS ids, max(last_error_message) AS msg
       FROM transactions WHERE status = 'failed' AND last_error_code = 'VENDOR_AMBIGUOUS' GROUP BY 1 ORDER BY 1 LIMIT 100`)).rows
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
       FROM (SELECT vendor FROM transactions WHERE status IN ('received', 'queued', 'processing') ORDER BY created_at LIMIT $1) t
      ORDER BY lower(btrim(vendor->>'name'))`, [PENDING_SCAN_LIMIT])).rows
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
  if (missing > 0 && !config.zoho.createMissingVendors) add('vendors', 'BLOCKER', `${missing} vendor(s) of waiting bills are not in Zoho and ZOHO_CREATE_MISSING_VENDORS=false${fix('create them in Zoho Books or map them with `npm run cli -- map vendor`')}`)
  if (ambiguous === 0) add('vendors', 'OK', `no ambiguous vendor (${looked} unmapped vendor(s) of waiting bills looked up in Zoho, ${missing} to be created${failed.length ? `; ${failed.length} earlier VENDOR_AMBIGUOUS vendor(s) mapped since` : ''})`)
}

async function checkDailyQuota(session: ZohoSession, add: (c: string, s: Status, d: string) => void): Promise<void> {
  const state = await session.stack.limiter.state() as { day: Date; day_count: number; daily_limit: number; blocked_until: Date } | null
  const today = new Date().toISOString().slice(0, 10)
  const used = state && toDay(state.day) === today ? state.day_count : 0
  const limit = session.limits.dailyLimit
  const left = Math.max(0, limit - used)
  const blocked = state && state.blocked_until > new Date() ? `; requests paused until ${state.blocked_until.toISOString()}` : ''
  const detail = `${used} of ${limit} used today (UTC day, counted by billbridge, this run included), ${left} left${blocked}`
  if (left === 0) add('daily calls', 'BLOCKER', `${detail}${fix('wait for the next UTC day, or ask Zoho to raise the limit and set ZOHO_PLAN / ZOHO_DAILY_LIMIT')}`)
  else add('daily calls', left < limit / 10 ? 'WARN' : 'OK', detail)
}

function toDay(day: Date | string): string {
  if (typeof day === 'string') return day.slice(0, 10)
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}`
}
