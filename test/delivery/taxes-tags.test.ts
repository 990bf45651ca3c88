// Taxes and reporting tags as reference data: the matchers on their own, then resolveTax, resolveTags and
// organization() against the sandbox over HTTP with the caches in PostgreSQL (the second bill spends nothing).
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { loadConfig } from '../../src/config.ts'
import { createMapper, saveMapping } from '../../src/delivery/mapping.ts'
import { matchOption, parseTagConfig, type CachedOption } from '../../src/delivery/tags.ts'
import { countryCodeOf, editionOf, kindFromName, matchTax, type CachedTax } from '../../src/delivery/taxes.ts'
import type { ZohoSandbox } from '../../src/sandbox/server.ts'
import { isAppError } from '../../src/errors.ts'
import { createZohoStack } from '../../src/zoho/stack.ts'
import { createTestDatabase, silentLogger, type TestDatabase } from '../helpers/db.ts'
import { startSandbox } from '../helpers/zoho.ts'

const tax = (id: string, name: string, percentage: number, kind: CachedTax['kind'], extra: Partial<CachedTax> = {}): CachedTax =>
  ({ tax_id: id, tax_name: name, percentage: String(percentage), is_group: false, kind, specific_type: null, is_active: true, ...extra })

const UK: CachedTax[] = [
  tax('1', 'Standard Rate', 20, 'standard'), tax('2', 'Reduced Rate', 5, 'standard'), tax('3', 'Zero Rate', 0, 'zero_rated'),
  tax('4', 'Exempt', 0, 'exempt'), tax('5', 'Out of Scope', 0, 'out_of_scope'), tax('6', 'Old Standard', 20, 'standard', { is_active: false }),
]

t.test('matchTax: by rate and kind; zero-rated, exempt and out of scope never stand in for each other', async (t) => {
  const id = (code: string, rate?: string) => { const m = matchTax(UK, code, rate); return 'tax' in m ? m.tax.tax_id : m.problem }
  t.equal(id('VAT:S-GB', '20'), '1', 'the one active 20% tax (the inactive one is no candidate)')
  t.equal(id('VAT:R-GB', '5.0'), '2', 'rates compare as numbers')
  t.equal(id('VAT:Z-GB', '0'), '3', 'Z- is zero-rated')
  t.equal(id('VAT:E-GB', '0'), '4', 'E- is exempt')
  t.equal(id('VAT:O-GB', '0'), '5', 'O- is out of scope')
  t.equal(id('Exempt purchases', '0'), '4', '"exempt" in the name')
  t.equal(id('Outside the scope', undefined), 'NetSuite sent no taxRate for it', 'no rate and no kind: refused')
  t.equal(id('Out of scope', undefined), '5', 'a named 0% kind needs no rate')
  t.match(id('VAT:X-GB', '0'), /does not say whether it is zero-rated, exempt or out of scope/, 'a 0% code of unknown kind is never matched by rate')
  t.match(id('VAT:S-GB', '17.5'), /no active Zoho tax is 17.5% standard/)
  const onlyExempt = UK.filter((x) => x.kind !== 'zero_rated')
  const m = matchTax(onlyExempt, 'VAT:Z-GB', '0')
  t.ok('problem' in m && /no active Zoho tax is 0% zero rated/.test(m.problem), 'no zero-rated tax: an exempt one is not taken instead')
  t.same('candidates' in m ? m.candidates.map((c) => c.tax_id) : [], ['4', '5'], 'the other 0% taxes are named as candidates')
  const twice = matchTax([...UK, tax('7', 'Standard (imports)', 20, 'standard')], 'VAT:S-GB', '20')
  t.ok('problem' in twice && /2 active Zoho taxes are 20% standard/.test(twice.problem), 'two taxes at the rate: no guess')
  // India: 18% is both the GST18 group and IGST18; the code's name picks.
  const india = [tax('g', 'GST18', 18, 'standard', { is_group: true }), tax('i', 'IGST18', 18, 'standard', { specific_type: 'igst' })]
  t.equal((matchTax(india, 'IGST 18%', '18') as { tax: CachedTax }).tax.tax_id, 'i')
  t.equal((matchTax(india, 'CGST+SGST 18%', '18') as { tax: CachedTax }).tax.tax_id, 'g')
  t.ok('problem' in matchTax(india, 'Purchases 18', '18'), 'neither named: refused')
  t.ok('problem' in matchTax(india.slice(1), 'CGST+SGST 18%', '18'), 'a CGST+SGST code is never put on IGST, even when IGST is the only 18% tax')
})

t.test('kinds, countries and editions', async (t) => {
  t.equal(kindFromName('VAT:S-GB'), null)
  t.equal(kindFromName('Zero Rate'), 'zero_rated')
  t.equal(kindFromName('VAT:OOS-GB'), 'out_of_scope')
  t.equal(countryCodeOf({ address: { country: 'U.S.A' } }), 'US')
  t.equal(countryCodeOf({ country: 'United Kingdom' }), 'GB')
  t.equal(countryCodeOf({ country_code: 'UK' }), 'GB', "a country_code of UK is GB")
  t.equal(countryCodeOf({ country: 'Atlantis' }), '')
  t.same(['GB', 'IN', 'SA', 'QA', 'US', 'AU', ''].map(editionOf), ['uk', 'india', 'gcc', 'gcc', 'us', 'other', 'other'])
})

t.test('matchOption: full name, then the last segment; an ambiguous leaf is refused', async (t) => {
  const o = (id: string, name: string, full: string, active = true): CachedOption => ({ tag_id: 't', tag_option_id: id, option_name: name, full_name: full, is_active: active })
  const options = [o('1', 'Sales', 'Sales'), o('2', 'EMEA', 'Sales : EMEA'), o('3', 'APAC', 'Support : APAC'), o('4', 'APAC', 'Sales : APAC'), o('5', 'Old', 'Old', false)]
  const id = (v: string) => { const m = matchOption(options, v); return 'option' in m ? m.option.tag_option_id : m.problem }
  t.equal(id('Sales'), '1')
  t.equal(id('  sales:emea '), '2', 'full name, case-insensitive, spacing around ":" ignored')
  t.equal(id('Europe : EMEA'), '2', 'the last segment of a hierarchical name')
  t.equal(id('EMEA'), '2', 'a flat NetSuite name matches the option of that name')
  t.equal(id('Support : APAC'), '3', 'full name first: no ambiguity')
  t.match(id('Ops : APAC'), /2 options are named "APAC"/, 'two options of that leaf: refused')
  t.match(id('Old'), /no active option/, 'an inactive option is never chosen')
  t.same(parseTagConfig('department=Department, class=Cost centre,location=Region'), { department: 'Department', class: 'Cost centre', location: 'Region' })
  t.throws(() => parseTagConfig('division=Division'), /"division" is not a NetSuite segment/)
  t.throws(() => loadConfig({ ZOHO_TAGS: 'dept=Department' }), /ZOHO_TAGS: "dept" is not a NetSuite segment/, 'an unknown segment is a config error at start')
  t.throws(() => loadConfig({ ZOHO_EDITION: 'eu' }), /ZOHO_EDITION/)
})

function mapperFor(sandbox: ZohoSandbox, database: TestDatabase, env: Record<string, string>) {
  const config = loadConfig({ ...env, ZOHO_RATE_PER_MINUTE: '1200', DATABASE_URL: database.url })
  const target = { accountsUrl: sandbox.accountsUrl, clientId: sandbox.clientId, clientSecret: sandbox.clientSecret, refreshToken: sandbox.refreshToken, organizationId: sandbox.organizationId, defaultApiUrl: sandbox.apiUrl }
  const stack = createZohoStack({ pool: database.pool, limits: config.zoho, target, encryptionKey: randomBytes(32), logger: silentLogger })
  const zoho = config.zoho
  return createMapper({ pool: database.pool, books: stack.books, organizationId: sandbox.organizationId, createMissingVendors: false, tags: zoho.tags, ...(zoho.edition ? { edition: zoho.edition } : {}) })
}

const books = (sandbox: ZohoSandbox) => sandbox.counters().booksRequests

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'resolved'
  } catch (err) {
    return isAppError(err) ? `${err.code}: ${err.message}` : String(err)
  }
}

t.test('resolveTax and organization() over HTTP: read once, cached in PostgreSQL, remembered', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk' } })
  const database = await createTestDatabase(t)
  const mapper = mapperFor(sandbox, database, env)

  t.same(await mapper.organization(), { edition: 'uk', countryCode: 'GB', currencyCode: 'GBP' }, 'the edition from the country')
  const afterOrg = books(sandbox)
  t.same(await mapper.organization(), { edition: 'uk', countryCode: 'GB', currencyCode: 'GBP' })
  t.equal(books(sandbox), afterOrg, 'the profile is read once')

  const standard = sandbox.state.taxByName('Standard Rate')!
  const first = await mapper.resolveTax('VAT:S-GB', '20')
  t.same(first, { taxId: 'tax_id' in standard ? standard.tax_id : '', name: 'Standard Rate', percentage: '20', isGroup: false, kind: 'standard', specificType: 'standard' })
  const afterFirst = books(sandbox)
  t.ok(afterFirst - afterOrg <= 2, 'the first bill reads the taxes and the groups once')
  const zero = await mapper.resolveTax('VAT:Z-GB', '0')
  const exempt = await mapper.resolveTax('VAT:E-GB', '0')
  t.same([zero.name, zero.kind, exempt.name, exempt.kind], ['Zero Rate', 'zero_rated', 'Exempt', 'exempt'])
  t.same(await mapper.resolveTax(' vat:s-gb ', '20'), first, 'the code is a key like an account')
  t.equal(books(sandbox), afterFirst, 'the second bill spends no request')
  const { rows } = await database.pool.query(`SELECT tax_code, origin FROM tax_map ORDER BY tax_code`)
  t.same(rows, [{ tax_code: 'vat:e-gb', origin: 'auto' }, { tax_code: 'vat:s-gb', origin: 'auto' }, { tax_code: 'vat:z-gb', origin: 'auto' }], 'automatic matches are remembered')

  // A 0% code of unknown kind: refused with the candidates and the fix; the re-read happens once at most.
  const unmapped = await code(mapper.resolveTax('VAT:X-GB', '0'))
  t.match(unmapped, /^TAX_UNMAPPED: the NetSuite tax code "VAT:X-GB" maps to no Zoho tax: it is 0% and its name does not say/)
  t.match(unmapped, /Zero Rate.*Exempt.*Out of Scope|candidates: /)
  t.match(unmapped, /npm run cli -- map tax "VAT:X-GB" <zoho tax id>/)
  const afterMiss = books(sandbox)
  await code(mapper.resolveTax('VAT:X-GB', '0'))
  t.equal(books(sandbox), afterMiss, 'a second miss within minutes does not re-read')

  // The operator maps it; the operator's choice wins over an automatic one too.
  const outOfScope = sandbox.state.taxByName('Out of Scope') as { tax_id: string }
  await saveMapping(database.pool, sandbox.organizationId, { kind: 'tax', netsuite: 'VAT:X-GB', zohoId: outOfScope.tax_id }, { actor: 'test' })
  t.match(await mapper.resolveTax('VAT:X-GB', '0'), { taxId: outOfScope.tax_id, kind: 'out_of_scope' })
  await saveMapping(database.pool, sandbox.organizationId, { kind: 'tax', netsuite: 'VAT:Z-GB', zohoId: outOfScope.tax_id }, { actor: 'test' })
  t.match(await mapper.resolveTax('VAT:Z-GB', '0'), { taxId: outOfScope.tax_id }, 'operator wins over the remembered match')
  t.equal(books(sandbox), afterMiss, 'still no request')
  const audit = await database.pool.query(`SELECT action, subject, detail FROM operator_audit WHERE action = 'map_tax' ORDER BY id`)
  t.match(audit.rows, [{ subject: 'VAT:X-GB', detail: { old: null, new: outOfScope.tax_id } }, { subject: 'VAT:Z-GB', detail: { old: zero.taxId, new: outOfScope.tax_id } }])
  t.match(await code(saveMapping(database.pool, sandbox.organizationId, { kind: 'tax', netsuite: 'VAT:Q', zohoId: '999' }, { actor: 'test' })), /^ZOHO_ID_UNKNOWN/)
})

t.test('ZOHO_EDITION overrides; India reports its state', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'india', homeState: 'MH' } })
  const database = await createTestDatabase(t)
  t.same(await mapperFor(sandbox, database, env).organization(), { edition: 'india', countryCode: 'IN', state: 'MH', currencyCode: 'INR' })
  t.same((await mapperFor(sandbox, database, { ...env, ZOHO_EDITION: 'other' }).organization()).edition, 'other')
  const mapper = mapperFor(sandbox, database, env)
  t.match(await mapper.resolveTax('GST:IGST18', '18'), { name: 'IGST18', specificType: 'igst', isGroup: false })
  t.match(await mapper.resolveTax('GST:CGST+SGST 18%', '18'), { name: 'GST18', isGroup: true })
  t.match(await code(mapper.resolveTax('Purchase 18%', '18')), /^TAX_UNMAPPED: .*2 active Zoho taxes are 18% standard; candidates: .*GST18.*IGST18/)
})

t.test('resolveTags over HTTP: hierarchy, operator mapping, mandatory tags, cached', async (t) => {
  const { sandbox, env } = await startSandbox(t, {
    seed: {
      edition: 'uk',
      tags: [
        { name: 'Department', mandatory: true, options: ['Sales', { name: 'EMEA', parent: 'Sales' }, 'Finance'] },
        { name: 'Cost centre', options: ['CC1', 'CC2'] },
        { name: 'Project', options: ['P1'] },
      ],
    },
  })
  const database = await createTestDatabase(t)
  const mapper = mapperFor(sandbox, database, { ...env, ZOHO_TAGS: 'department=Department,class=Cost centre' })
  const dept = sandbox.state.tagByName('Department')!
  const cc = sandbox.state.tagByName('Cost centre')!
  const opt = (tag: typeof dept, name: string) => tag.options.find((o) => o.tag_option_name === name)!.tag_option_id

  const before = books(sandbox)
  t.same(await mapper.resolveTags({ department: 'Sales : EMEA', class: 'CC2' }), [{ tag_id: dept.tag_id, tag_option_id: opt(dept, 'EMEA') }, { tag_id: cc.tag_id, tag_option_id: opt(cc, 'CC2') }])
  t.equal(books(sandbox) - before, 3, 'the tag list and the options of the two configured tags (not of Project)')
  const after = books(sandbox)
  t.same(await mapper.resolveTags({ department: 'Europe : EMEA' }), [{ tag_id: dept.tag_id, tag_option_id: opt(dept, 'EMEA') }], 'the last segment')
  t.same(await mapper.resolveTags({ department: 'finance', location: 'London' }), [{ tag_id: dept.tag_id, tag_option_id: opt(dept, 'Finance') }], 'a segment ZOHO_TAGS does not map is ignored')
  t.equal(books(sandbox), after, 'the second bill spends no request')

  t.match(await code(mapper.resolveTags({ class: 'CC1' })), /^TAG_REQUIRED: Zoho requires the reporting tag "Department" on every line, and this bill has no department: fill the department/)
  const unmapped = await code(mapper.resolveTags({ department: 'Marketing' }))
  t.match(unmapped, /^TAG_UNMAPPED: department "Marketing" matches no option of the Zoho reporting tag "Department"/)
  t.match(unmapped, /npm run cli -- map tag department "Marketing" <tag option id>/)

  await saveMapping(database.pool, sandbox.organizationId, { kind: 'tag', segment: 'department', netsuite: 'Marketing', zohoId: opt(dept, 'Sales') }, { actor: 'test' })
  t.same(await mapper.resolveTags({ department: ' marketing ' }), [{ tag_id: dept.tag_id, tag_option_id: opt(dept, 'Sales') }], 'the operator mapping')
  await saveMapping(database.pool, sandbox.organizationId, { kind: 'tag', segment: 'department', netsuite: 'Finance', zohoId: opt(dept, 'Sales') }, { actor: 'test' })
  t.same(await mapper.resolveTags({ department: 'Finance' }), [{ tag_id: dept.tag_id, tag_option_id: opt(dept, 'Sales') }], 'the operator wins over a name match')
  const audit = await database.pool.query(`SELECT subject FROM operator_audit WHERE action = 'map_tag' ORDER BY id`)
  t.same(audit.rows.map((r) => r.subject), ['department: Marketing', 'department: Finance'])

  // A mandatory tag no segment maps to.
  sandbox.state.addTag({ name: 'Region', mandatory: true, options: ['North'] })
  const fresh = await createTestDatabase(t)
  const other = mapperFor(sandbox, fresh, { ...env, ZOHO_TAGS: 'department=Department' })
  t.match(await code(other.resolveTags({ department: 'Sales' })), /^TAG_REQUIRED: Zoho requires the reporting tag "Region" on every line, and ZOHO_TAGS maps no NetSuite segment to it: add it to ZOHO_TAGS/)
})

t.test('workers missing the same code at once wait for one read of the taxes', async (t) => {
  const { sandbox, env } = await startSandbox(t, { seed: { edition: 'uk' } })
  const database = await createTestDatabase(t)
  const workers = [1, 2, 3, 4].map(() => mapperFor(sandbox, database, env))
  const refs = await Promise.all(workers.map((m, i) => m.resolveTax(i % 2 ? 'VAT:S-GB' : 'VAT:R-GB', i % 2 ? '20' : '5')))
  t.same(refs.map((r) => r.name), ['Reduced Rate', 'Standard Rate', 'Reduced Rate', 'Standard Rate'])
  t.equal(sandbox.counters().requestsByEndpoint['GET /settings/taxes'], 1, 'the taxes list was read once')
  t.equal(sandbox.counters().requestsByEndpoint['GET /settings/taxgroups'], 1, 'and the groups once')
  const missing = await Promise.all(workers.map((m) => code(m.resolveTax('VAT:NEW-GB', '17.5'))))
  t.ok(missing.every((m) => m.startsWith('TAX_UNMAPPED')), 'an unknown rate fails everywhere')
  t.equal(sandbox.counters().requestsByEndpoint['GET /settings/taxes'], 1, 'read within the last minutes: no worker re-reads')
})
