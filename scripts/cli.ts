// Operator commands: npm run cli -- keys create --name NAME --scopes ingest,read | keys list | keys revoke NAME
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createApiKeyRepository, parseScopes } from '../src/auth/api-keys.ts'
import { loadConfig, type Config } from '../src/config.ts'
import { startEmbeddedPostgres } from '../src/db/embedded.ts'
import { migrate } from '../src/db/migrate.ts'
import { createKysely, createPool, type Db } from '../src/db/pool.ts'
import type pg from 'pg'
import { saveMapping } from '../src/delivery/mapping.ts'
import { recordOperatorAction } from '../src/audit/operator-actions.ts'
import { retryTransactions } from '../src/delivery/retry.ts'
import { isAppError } from '../src/errors.ts'
import { createBoss } from '../src/queue/boss.ts'
import { SANDBOX_CREDENTIALS } from '../src/sandbox/server.ts'
import { createLogger, type Logger } from '../src/logger.ts'
import { runDoctor } from './lib/doctor.ts'

const USAGE = `usage:
  npm run cli -- keys create --name NAME --scopes ingest,read,admin
  npm run cli -- keys list
  npm run cli -- keys revoke NAME
  npm run cli -- map account "6100 Office Supplies" ZOHO_ACCOUNT_ID
  npm run cli -- map vendor "Acme Supplies" ZOHO_CONTACT_ID   (a NetSuite vendor name or id)
  npm run cli -- map list
  npm run cli -- retry TRANSACTION_ID [TRANSACTION_ID ...]
  npm run cli -- doctor   (checks the Zoho configuration before go-live; exit 1 on a blocker)`

// A command's own exit code, when it has one (doctor: 1 on a blocker).
type Command = (db: Db, args: string[]) => Promise<number | void>

/** Who acted, for the audit trail, when the action comes from a shell. */
function cliActor(): string {
  return `cli:${os.userInfo().username}`
}

const commands: Record<string, Command> = {
  'keys create': async (db, args) => {
    const { values } = parseArgs({ args, options: { name: { type: 'string' }, scopes: { type: 'string' } } })
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
    if (!revoked) throw new UsageError(`no active API key named "${name}"`)
    process.stdout.write(`revoked API key "${name}"\n`)
  },
  'map account': async (db, args) => {
    const [account, zohoAccountId] = args
    if (!account || !zohoAccountId || !/^\d+$/.test(zohoAccountId)) throw new UsageError('map account needs the NetSuite account (quoted) and the numeric Zoho account_id')
    await saveMapping(poolOf(db), organizationId(), { kind: 'account', netsuite: account, zohoId: zohoAccountId }, { actor: cliActor() })
    process.stdout.write(`mapped "${account}" to Zoho account ${zohoAccountId}; retry the bills that failed with ACCOUNT_UNMAPPED\n`)
  },
  'map vendor': async (db, args) => {
    const [vendor, contactId] = args
    if (!vendor?.trim() || !contactId || !/^\d+$/.test(contactId)) throw new UsageError('map vendor needs the NetSuite vendor name or id (quoted) and the numeric Zoho contact_id')
    await saveMapping(poolOf(db), organizationId(), { kind: 'vendor', netsuite: vendor, zohoId: contactId }, { actor: cliActor() })
    process.stdout.write(`mapped "${vendor.trim()}" to Zoho vendor ${contactId}; retry the bills that failed with VENDOR_AMBIGUOUS or CURRENCY_MISMATCH\n`)
  },
  'map list': async (db) => {
    const { rows } = await poolOf(db).query('SELECT account, zoho_account_id, origin FROM account_map WHERE organization_id = $1 ORDER BY account', [organizationId()])
    const vendors = await poolOf(db).query('SELECT vendor_key, zoho_vendor_id, origin, currency_code FROM vendor_map WHERE organization_id = $1 ORDER BY vendor_key', [organizationId()])
    if (rows.length === 0 && vendors.rows.length === 0) process.stdout.write('no mappings\n')
    for (const r of rows) process.stdout.write(`account\t${r.account}\t${r.zoho_account_id}\t${r.origin}\n`)
    for (const r of vendors.rows) process.stdout.write(`vendor\t${r.vendor_key}\t${r.zoho_vendor_id}\t${r.origin}\t${r.currency_code ?? ''}\n`)
  },
  'retry': async (db, args) => {
    if (args.length === 0) throw new UsageError('retry needs at least one transaction id')
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
  'doctor': async () => runDoctor({ config: config!, pool: pool!, logger: logger!, out: process.stdout }),
}

class UsageError extends Error {}

let pool: pg.Pool | undefined
let databaseUrl: string | undefined
let config: Config | undefined
let logger: Logger | undefined
const poolOf = (_db: Db) => pool!
// The organization the mappings belong to: the configured one, or the sandbox's.
const organizationId = () => process.env.ZOHO_ORGANIZATION_ID || SANDBOX_CREDENTIALS.organizationId

async function main(argv: string[]): Promise<number> {
  const name = argv.slice(0, 2).join(' ')
  const command = commands[name] ?? commands[argv[0] ?? '']
  const rest = commands[name] ? argv.slice(2) : argv.slice(1)
  if (!command) {
    process.stderr.write(`${USAGE}\n`)
    return 64
  }
  config = loadConfig()
  logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr)
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), logger)
  databaseUrl = config.databaseUrl ?? embedded!.url
  pool = createPool(databaseUrl, logger, 2)
  const db = createKysely(pool)
  try {
    await migrate(pool, logger)
    return (await command(db, rest)) ?? 0
  } catch (err) {
    if (err instanceof UsageError || isAppError(err)) {
      process.stderr.write(`error: ${err.message}\n`)
      return 1
    }
    throw err
  } finally {
    await db.destroy()
    // Kysely ends the pool only if it ran a query itself; commands that use the pool directly end it here,
    // or its idle clients would hold the process open for the idle timeout.
    if (!pool.ending) await pool.end()
    await embedded?.stop()
  }
}

process.exitCode = await main(process.argv.slice(2))
