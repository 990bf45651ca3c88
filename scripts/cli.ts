// Operator commands: npm run cli -- keys create --name NAME --scopes ingest,read | keys list | keys revoke NAME
import os from 'node:os'
import { createApiKeyRepository, parseScopes } from '../src/auth/api-keys.ts'
import { loadConfig, ConfigError, type Config } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { createKysely, createPool, type Db } from '../src/db/pool.ts'
import type pg from 'pg'
import { saveMapping, zohoVendorProblem } from '../src/delivery/mapping.ts'
import { createTags, SEGMENTS, type Segment } from '../src/delivery/tags.ts'
import { createTaxes } from '../src/delivery/taxes.ts'
import { recordOperatorAction } from '../src/audit/operator-actions.ts'
import { retryTransactions } from '../src/delivery/retry.ts'
import { reconcile } from '../src/reconcile/run.ts'
import { isAppError } from '../src/errors.ts'
import { createBoss } from '../src/queue/boss.ts'
import { SANDBOX_CREDENTIALS } from '../src/sandbox/server.ts'
import { readServiceFile } from '../src/service-file.ts'
import { createLogger, type Logger } from '../src/logger.ts'
import type { OrganizationConfig } from '../src/zoho/organizations.ts'
import type { ZohoTarget } from '../src/zoho/stack.ts'
import { parseOptions, UsageError, USAGE_EXIT, wantsHelp } from './lib/args.ts'
import { runDoctor } from './lib/doctor.ts'
import { databaseProblem, openServiceDatabase, ScriptError } from './lib/service-database.ts'
import { chooseOrganization, configuredOrganizations, openZohoSession, OrganizationChoiceError } from './lib/zoho-session.ts'

const USAGE = `usage: npm run cli -- <command>, one of:
  npm run cli -- keys create --name NAME --scopes ingest,read,admin
  npm run cli -- keys list
  npm run cli -- keys revoke NAME
  npm run cli -- map account "6100 Office Supplies" ZOHO_ACCOUNT_ID [--organization ID]
  npm run cli -- map vendor "Acme Supplies" ZOHO_CONTACT_ID [--organization ID]   (a NetSuite vendor name or id)
  npm run cli -- map tax "VAT:S-GB" ZOHO_TAX_ID [--organization ID]   (a tax or a tax group)
  npm run cli -- map tag department "Sales : EMEA" ZOHO_TAG_OPTION_ID [--organization ID]   (department, class or location, per ZOHO_TAGS)
  npm run cli -- map list [--organization ID]   (every organization's mappings, its id first on each line)
  npm run cli -- retry TRANSACTION_ID [TRANSACTION_ID ...]
  npm run cli -- doctor [--organization ID]   (checks each Zoho organization before go-live; exit 1 on a blocker)
  npm run cli -- reconcile [--organization ID]   (reads each organization's delivered bills back from Zoho; counts per kind; exit 1 while any difference is open)
Mappings are per Zoho organization: --organization names the one (its Zoho organization id) when
ZOHO_ORGANIZATIONS configures several, and is required then for map account|vendor|tax|tag; with one
organization it is that one. doctor, reconcile and map list take every organization in turn unless one is named.
It works on the service's database: DATABASE_URL, or the embedded one under DATA_DIR (default ./data),
so give it the same DATABASE_URL or DATA_DIR as the service.`

// A command's own exit code, when it has one (doctor: 1 on a blocker).
type Command = (db: Db, args: string[]) => Promise<number | void>

/** The --organization option taken out of a command's arguments (anywhere among them), and the rest in order. */
function organizationOption(args: string[]): { organization?: string; rest: string[] } {
  const rest: string[] = []
  let organization: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--organization') {
      const value = args[++i]
      if (value === undefined || value.startsWith('--')) throw new UsageError('option --organization needs a value: a Zoho organization id')
      organization = value
    } else if (arg.startsWith('--organization=')) organization = arg.slice('--organization='.length)
    else rest.push(arg)
  }
  return { ...(organization === undefined ? {} : { organization }), rest }
}

/** The organization a mapping command works on (required when several are configured), and its other arguments. */
function mappingOrganization(args: string[], command: string): { organization: OrganizationConfig; rest: string[] } {
  const { organization, rest } = organizationOption(args)
  return { organization: chooseOrganization(configuredOrganizations(config!), organization, command), rest }
}

/** The organizations a listing or checking command goes through: the one named, else every one. */
function namedOrAll(args: string[], command: string): OrganizationConfig[] {
  const { organization, rest } = organizationOption(args)
  if (rest.length > 0) throw new UsageError(`${command} takes no argument but --organization; got "${rest[0]}"`)
  const all = configuredOrganizations(config!)
  return organization === undefined ? all : [chooseOrganization(all, organization, command)]
}

const nameOf = (o: OrganizationConfig) => o.name ?? o.label

/** Who acted, for the audit trail, when the action comes from a shell. */
function cliActor(): string {
  return `cli:${os.userInfo().username}`
}

const commands: Record<string, Command> = {
  'keys create': async (db, args) => {
    const { values } = parseOptions(args, { name: { type: 'string' }, scopes: { type: 'string' } })
    if (!values.name || !values.scopes) throw new UsageError('keys create needs --name and --scopes')
    const { key, identity } = await db.transaction().execute(async (trx) => {
      const created = await createApiKeyRepository(trx).create(values.name!, parseScopes(values.scopes!))
      await recordOperatorAction(trx, { actor: cliActor(), action: 'key_created', subject: created.identity.name, detail: { scopes: created.identity.scopes } })
      return created
    })
    process.stdout.write(`created API key "${identity.name}" with scopes ${identity.scopes.join(',')}; it is shown once, store it now:\n${key}\n`)
  },
  'keys list': async (db) => {
    const keys = await createApiKeyRepository(db).list()
    if (keys.length === 0) process.stdout.write('no API keys\n')
    for (const k of keys) {
      const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'
      process.stdout.write(`${k.name}\t${k.prefix}…\t${k.scopes.join(',')}\t${state}\tlast used ${k.lastUsedAt?.toISOString() ?? 'never'}\n`)
    }
  },
  'keys revoke': async (db, args) => {
    const name = args[0]
    if (!name) throw new UsageError('keys revoke needs the key name')
    const revoked = await db.transaction().execute(async (trx) => {
      const done = await createApiKeyRepository(trx).revoke(name)
      if (done) await recordOperatorAction(trx, { actor: cliActor(), action: 'key_revoked', subject: name })
      return done
    })
    if (!revoked) throw new ScriptError(`no active API key named "${name}"`)
    process.stdout.write(`revoked API key "${name}"\n`)
  },
  'map account': async (db, args) => {
    const { organization, rest: [account, zohoAccountId] } = mappingOrganization(args, 'map account')
    if (!account || !zohoAccountId || !/^\d+$/.test(zohoAccountId)) throw new UsageError('map account needs the NetSuite account (quoted) and the numeric Zoho account_id')
    await saveMapping(poolOf(db), organization.organizationId, { kind: 'account', netsuite: account, zohoId: zohoAccountId }, { actor: cliActor() })
    process.stdout.write(`mapped "${account}" to Zoho account ${zohoAccountId}${inOrganization(organization)}; retry the bills that failed with ACCOUNT_UNMAPPED\n`)
  },
  'map vendor': async (db, args) => {
    const { organization, rest: [vendor, contactId] } = mappingOrganization(args, 'map vendor')
    if (!vendor?.trim() || !contactId || !/^\d+$/.test(contactId)) throw new UsageError('map vendor needs the NetSuite vendor name or id (quoted) and the numeric Zoho contact_id')
    // The contact must be an active vendor of the organization: checked before anything is saved.
    const problem = await withZoho(organization, (books) => zohoVendorProblem(books, contactId))
    if (problem) throw new ScriptError(`${problem}; nothing was saved`)
    await saveMapping(poolOf(db), organization.organizationId, { kind: 'vendor', netsuite: vendor, zohoId: contactId }, { actor: cliActor() })
    process.stdout.write(`mapped "${vendor.trim()}" to Zoho vendor ${contactId}${inOrganization(organization)}; retry the bills that failed with VENDOR_AMBIGUOUS or CURRENCY_MISMATCH\n`)
  },
  'map tax': async (db, args) => {
    const { organization, rest: [code, taxId] } = mappingOrganization(args, 'map tax')
    if (!code?.trim() || !taxId || !/^\d+$/.test(taxId)) throw new UsageError('map tax needs the NetSuite tax code (quoted) and the numeric Zoho tax_id (of a tax or a tax group)')
    const org = organization.organizationId
    const cached = () => poolOf(db).query<{ tax_name: string; percentage: string; kind: string; is_active: boolean }>(
      'SELECT tax_name, percentage::text AS percentage, kind, is_active FROM zoho_taxes WHERE organization_id = $1 AND tax_id = $2', [org, taxId])
    // Not in the cached list: one request for the taxes list's first page, which may name it.
    if ((await cached()).rowCount === 0) await withZoho(organization, (books) => createTaxes({ pool: poolOf(db), books, organizationId: org }).readTaxesOnce(), `tax ${taxId}`)
    const tax = (await cached()).rows[0]
    if (!tax) throw new ScriptError(`Zoho lists no tax or tax group ${taxId}: take the id from the Mappings page (Taxes); nothing was saved`)
    if (!tax.is_active) throw new ScriptError(`Zoho tax ${taxId} "${tax.tax_name}" is inactive: pick an active one; nothing was saved`)
    await saveMapping(poolOf(db), org, { kind: 'tax', netsuite: code, zohoId: taxId }, { actor: cliActor() })
    process.stdout.write(`mapped "${code.trim()}" to Zoho tax ${taxId} "${tax.tax_name}" (${Number(tax.percentage)}%, ${tax.kind.replace(/_/g, ' ')})${inOrganization(organization)}; retry the bills that failed with TAX_UNMAPPED\n`)
  },
  'map tag': async (db, args) => {
    const { organization, rest: [segment, value, optionId] } = mappingOrganization(args, 'map tag')
    if (!SEGMENTS.includes(segment as Segment) || !value?.trim() || !optionId || !/^\d+$/.test(optionId)) {
      throw new UsageError('map tag needs the segment (department, class or location), the NetSuite value (quoted) and the numeric Zoho tag_option_id')
    }
    const seg = segment as Segment
    const tags = organization.limits.tags
    const tagName = tags[seg]
    if (!tagName) throw new ScriptError(`ZOHO_TAGS maps no reporting tag to ${seg}${configuredOrganizations(config!).length > 1 ? ` for organization ${organization.organizationId} (${nameOf(organization)})` : ''}: add ${seg}=<tag name> to ZOHO_TAGS first`)
    const org = organization.organizationId
    const cached = () => poolOf(db).query<{ option_name: string; full_name: string; is_active: boolean }>(
      `SELECT o.option_name, o.full_name, o.is_active FROM zoho_tag_options o JOIN zoho_tags t USING (organization_id, tag_id)
        WHERE o.organization_id = $1 AND o.tag_option_id = $2 AND lower(btrim(t.tag_name)) = lower(btrim($3))`, [org, optionId, tagName])
    if ((await cached()).rowCount === 0) {
      // Not cached: one request for the tag's options (two when the tag list itself was never read).
      await withZoho(organization, async (books) => {
        const cache = createTags({ pool: poolOf(db), books, organizationId: org, tags })
        const tag = cache.tagOf((await cache.cached()).tags, seg)
        return tag ? cache.rereadOptions(tag.tag_id) : cache.readTags()
      }, `tag option ${optionId}`)
    }
    const option = (await cached()).rows[0]
    if (!option) throw new ScriptError(`${optionId} is not an option of the reporting tag "${tagName}" (ZOHO_TAGS ${seg}): take the id from the Mappings page (Tags); nothing was saved`)
    if (!option.is_active) throw new ScriptError(`tag option ${optionId} "${option.full_name}" is inactive: pick an active one; nothing was saved`)
    await saveMapping(poolOf(db), org, { kind: 'tag', segment: seg, netsuite: value, zohoId: optionId }, { actor: cliActor() })
    process.stdout.write(`mapped ${seg} "${value.trim()}" to "${tagName}" option ${optionId} "${option.full_name}"${inOrganization(organization)}; retry the bills that failed with TAG_UNMAPPED\n`)
  },
  // One line per mapping, the Zoho organization's id first: mappings are per organization.
  'map list': async (db, args) => {
    const out = process.stdout
    let any = false
    for (const organization of namedOrAll(args, 'map list')) {
      const org = organization.organizationId
      const { rows } = await poolOf(db).query('SELECT account, zoho_account_id, origin FROM account_map WHERE organization_id = $1 ORDER BY account', [org])
      const vendors = await poolOf(db).query('SELECT vendor_key, zoho_vendor_id, origin, currency_code FROM vendor_map WHERE organization_id = $1 ORDER BY vendor_key', [org])
      const taxes = await poolOf(db).query(
        `SELECT m.tax_code, m.zoho_tax_id, m.origin, z.tax_name, z.percentage::text AS percentage FROM tax_map m
           LEFT JOIN zoho_taxes z ON z.organization_id = m.organization_id AND z.tax_id = m.zoho_tax_id WHERE m.organization_id = $1 ORDER BY m.tax_code`, [org])
      const tags = await poolOf(db).query(
        `SELECT m.segment, m.value, m.tag_option_id, m.origin, o.full_name FROM tag_map m
           LEFT JOIN zoho_tag_options o ON o.organization_id = m.organization_id AND o.tag_option_id = m.tag_option_id WHERE m.organization_id = $1 ORDER BY m.segment, m.value`, [org])
      any ||= rows.length + vendors.rows.length + taxes.rows.length + tags.rows.length > 0
      for (const r of rows) out.write(`${org}\taccount\t${r.account}\t${r.zoho_account_id}\t${r.origin}\n`)
      for (const r of vendors.rows) out.write(`${org}\tvendor\t${r.vendor_key}\t${r.zoho_vendor_id}\t${r.origin}\t${r.currency_code ?? ''}\n`)
      for (const r of taxes.rows) out.write(`${org}\ttax\t${r.tax_code}\t${r.zoho_tax_id}\t${r.origin}\t${r.tax_name ?? '?'}${r.percentage === null ? '' : ` ${Number(r.percentage)}%`}\n`)
      for (const r of tags.rows) out.write(`${org}\ttag ${r.segment}\t${r.value}\t${r.tag_option_id}\t${r.origin}\t${r.full_name ?? '?'}\n`)
    }
    if (!any) out.write('no mappings\n')
  },
  'retry': async (db, args) => {
    if (args.length === 0) throw new UsageError('retry needs at least one transaction id')
    const bad = args.find((id) => !UUID.test(id))
    if (bad !== undefined) throw new UsageError(`retry takes transaction ids (UUIDs such as 3f2b8c1e-…, shown by GET /v1/transactions?externalId= and the dashboard); "${bad}" is not one`)
    // Only sends jobs: no supervision or cron loops, which would hold the stop up for their timeout.
    const boss = createBoss(databaseUrl!, createLogger('warn', process.stderr), 1, undefined, { supervise: false, schedule: false })
    await boss.start()
    try {
      const { retried, skipped } = await retryTransactions(poolOf(db), boss, args, { actor: cliActor() })
      process.stdout.write(`requeued ${retried.length}${skipped.length ? `; skipped ${skipped.length} that are not failed: ${skipped.join(', ')}` : ''}\n`)
    } finally {
      await boss.stop({ graceful: false })
    }
  },
  // Each organization in turn (or the one named), each within its own daily share; counts per kind, the organization's id first.
  'reconcile': async (_db, args) => {
    const out = process.stdout
    let open = 0
    for (const organization of namedOrAll(args, 'reconcile')) {
      const limits = organization.limits
      const result = await withZoho(organization, (books) => reconcile({
        pool: pool!, books, organizationId: organization.organizationId, dailyLimit: limits.dailyLimit, maxDailyShare: config!.reconcileMaxDailyShare, logger: logger!,
        ...(limits.uniqueField ? { uniqueField: limits.uniqueField } : {}),
      }, 'cli'), 'Zoho')
      const org = organization.organizationId
      out.write(`Zoho organization ${org} (${nameOf(organization)}): `)
      if (result.state === 'busy') out.write('another reconciliation of it is running (schedule or dashboard); the counts below are from the last runs\n')
      else if (result.state === 'paused') out.write(`reconciliation run ${result.runId} stopped: ${result.note}\n`)
      else out.write(`reconciliation run ${result.runId} complete${result.resumed ? ' (resumed)' : ''}\n`)
      if (result.state !== 'busy') out.write(`${result.requests} Zoho requests, ${result.billsRead} bills read, ${result.newDifferences} new differences, ${result.closed} closed\n`)
      for (const [kind, n] of Object.entries(result.open)) {
        out.write(`${org}\t${kind}\t${n}\n`)
        open += n
      }
    }
    out.write(open === 0 ? 'no open differences\n' : `${open} open difference(s): see /admin/reconciliation\n`)
    return open === 0 ? 0 : 1
  },
  'doctor': async (_db, args) => {
    const { organization, rest } = organizationOption(args)
    if (rest.length > 0) throw new UsageError(`doctor takes no argument but --organization; got "${rest[0]}"`)
    return runDoctor({ config: config!, pool: pool!, logger: logger!, out: process.stdout, ...(organization === undefined ? {} : { organizationId: organization }) })
  },
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

let pool: pg.Pool | undefined
let databaseUrl: string | undefined
let config: Config | undefined
let logger: Logger | undefined
const poolOf = (_db: Db) => pool!

/** " in Zoho organization …" when several are configured: which organization a change went to. */
const inOrganization = (o: OrganizationConfig) => (configuredOrganizations(config!).length > 1 ? ` in Zoho organization ${o.organizationId} (${nameOf(o)})` : '')

/** Runs work with the Zoho the service uses: the organization's, or the running service's sandbox. */
async function withZoho<T>(organization: OrganizationConfig, work: (books: ReturnType<typeof openZohoSession>['stack']['books']) => Promise<T>, what = 'the contact'): Promise<T> {
  let target: ZohoTarget
  if (config!.zoho.mode === 'remote') target = organization.target
  else {
    const service = await readServiceFile(config!.dataDir)
    if (!service?.zohoSandboxUrl) {
      throw new ScriptError(`cannot check ${what}: no ZOHO_* credentials are set and no running billbridge with its Zoho sandbox was found under DATA_DIR=${config!.dataDir}; start the service first (npm start) with the same DATA_DIR`)
    }
    target = { ...SANDBOX_CREDENTIALS, accountsUrl: `${service.zohoSandboxUrl}/accounts`, defaultApiUrl: `${service.zohoSandboxUrl}/books/v3` }
  }
  const session = openZohoSession({ pool: pool!, limits: organization.limits, target, encryptionKey: config!.tokenEncryptionKey, logger: logger! })
  try {
    return await work(session.stack.books)
  } finally {
    await session.close()
  }
}

function usageFailure(problem: string): number {
  process.stderr.write(`error: ${problem}\n${USAGE}\n`)
  return USAGE_EXIT
}

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv) || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const name = argv.slice(0, 2).join(' ')
  const command = commands[name] ?? commands[argv[0] ?? '']
  const rest = commands[name] ? argv.slice(2) : argv.slice(1)
  if (!command) {
    const first = argv[0]
    return usageFailure(first === undefined ? 'no command given' : first.startsWith('-') ? `unknown option ${first}` : `unknown command "${argv.slice(0, 2).join(' ')}"`)
  }
  try {
    config = loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`error: configuration: ${err.message}\n`)
    return 78
  }
  logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr)
  let database
  try {
    database = await openServiceDatabase(config, logger)
  } catch (err) {
    if (!(err instanceof ScriptError)) throw err
    process.stderr.write(`error: ${err.message}\n`)
    return 1
  }
  databaseUrl = database.url
  // reconcile holds one connection for its fleet-wide lock while a Zoho request holds a concurrency slot and a permit query runs
  pool = createPool(databaseUrl, logger, name === 'reconcile' || argv[0] === 'reconcile' ? 4 : 2)
  const db = createKysely(pool)
  try {
    await migrate(pool, logger)
    return (await command(db, rest)) ?? 0
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(err.message)
    if (err instanceof OrganizationChoiceError) {
      process.stderr.write(`error: ${err.message}\n`)
      return USAGE_EXIT
    }
    const problem = err instanceof ScriptError || isAppError(err) ? err.message : databaseProblem(err, database.label)
    if (problem === undefined) throw err
    process.stderr.write(`error: ${problem}\n`)
    return 1
  } finally {
    await db.destroy()
    // Kysely ends the pool only if it ran a query itself; commands that use the pool directly end it here,
    // or its idle clients would hold the process open for the idle timeout.
    if (!pool.ending) await pool.end()
    await database.close()
  }
}

process.exitCode = await main(process.argv.slice(2))
