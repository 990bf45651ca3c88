// npm run zoho-contract [-- --write] [-- --organization ID]
// Asserts Zoho's contract (scripts/lib/zoho-contract-checks.ts) against the organization the ZOHO_*
// settings name (with ZOHO_ORGANIZATIONS: the one --organization names, else the default one), read-only;
// --write also makes, checks and deletes one test bill. Without ZOHO_*
// credentials it runs against a local sandbox started for the run. Uses DATABASE_URL (the workers'
// database, so its requests share their rate bucket) or the embedded database under DATA_DIR.
// Prints PASS/FAIL/SKIP per assertion; exits 1 on any FAIL.
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { createPool } from '../src/db/pool.ts'
import { createLogger } from '../src/logger.ts'
import { SANDBOX_CREDENTIALS, startZohoSandbox, type ZohoSandbox } from '../src/sandbox/server.ts'
import type { ZohoTarget } from '../src/zoho/stack.ts'
import { scriptArgs, USAGE_EXIT } from './lib/args.ts'
import { openServiceDatabase, ScriptError } from './lib/service-database.ts'
import { runContractChecks } from './lib/zoho-contract-checks.ts'
import { chooseOrganization, openZohoSession, OrganizationChoiceError } from './lib/zoho-session.ts'

const USAGE = `usage: npm run zoho-contract [-- --write] [-- --organization ID]
Asserts Zoho's contract against the organization the ZOHO_* settings name (read-only), or against a local
sandbox when none are set. Its requests share the organization's rate bucket in the service's database
(DATABASE_URL, or the embedded one under DATA_DIR). Prints PASS/FAIL/SKIP per assertion; exit 1 on a FAIL.
  --write              also make, check and delete one marked test bill
  --organization ID    the Zoho organization to check, when ZOHO_ORGANIZATIONS configures several
                       (default: the one taking every other subsidiary, "*", else the first)
  -h, --help           this text`

const { values } = scriptArgs(USAGE, { write: { type: 'boolean', default: false }, organization: { type: 'string' } })
const config = loadConfig()
// The organization before the database: an unknown id is one line, and nothing is opened.
let organization
try {
  organization = config.zoho.mode === 'remote' ? chooseOrganization(config.organizations, values.organization, 'zoho-contract', 'default') : undefined
} catch (err) {
  if (!(err instanceof OrganizationChoiceError)) throw err
  process.stderr.write(`error: ${err.message}\n`)
  process.exit(USAGE_EXIT)
}
if (config.zoho.mode !== 'remote' && values.organization !== undefined) {
  process.stderr.write('error: --organization names a configured Zoho organization; none is configured (no ZOHO_* credentials): the check runs against a local sandbox\n')
  process.exit(USAGE_EXIT)
}
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr)
// The database first: a missing one ends the run before a sandbox is started.
const database = await openServiceDatabase(config, logger).catch((err: unknown) => {
  if (!(err instanceof ScriptError)) throw err
  process.stderr.write(`error: ${err.message}\n`)
  process.exit(1)
})
const out = process.stdout

let sandbox: ZohoSandbox | undefined
let target: ZohoTarget
if (organization) {
  target = organization.target
  out.write(`Zoho organization ${target.organizationId}${organization.name ? ` (${organization.name})` : ''} via ${target.accountsUrl}, ${values.write ? 'WRITE mode: one test bill is made and deleted' : 'read-only'}\n`)
} else {
  sandbox = await startZohoSandbox()
  target = { ...SANDBOX_CREDENTIALS, accountsUrl: sandbox.accountsUrl, defaultApiUrl: sandbox.apiUrl }
  out.write(`no ZOHO_* credentials: checking a local sandbox (${sandbox.url}), nothing real, ${values.write ? 'write mode' : 'read-only'}\n`)
}

const pool = createPool(database.url, logger, 4)
let failed = 0
try {
  await migrate(pool, logger)
  const session = openZohoSession({ pool, limits: organization?.limits ?? config.zoho, target, encryptionKey: config.tokenEncryptionKey, logger })
  try {
    const results = await runContractChecks(session, {
      write: values.write,
      report: (r) => out.write(`${r.outcome.padEnd(4)}  ${r.name}: ${r.reason}\n`),
    })
    failed = results.filter((r) => r.outcome === 'FAIL').length
    const paths = Object.entries(session.requests.byPath()).map(([p, n]) => `${p.replace(/\/\d{6,}/g, '/:id')} ×${n}`).join(', ')
    out.write(`${results.length - failed} of ${results.length} passed or skipped, ${failed} failed; ${session.requests.total()} Zoho requests (${paths})\n`)
  } finally {
    await session.close()
  }
} finally {
  await pool.end()
  await database.close()
  await sandbox?.close()
}
process.exitCode = failed === 0 ? 0 : 1
