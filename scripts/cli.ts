// Operator commands: npm run cli -- keys create --name NAME --scopes ingest,read | keys list | keys revoke NAME
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createApiKeyRepository, parseScopes } from '../src/auth/api-keys.ts'
import { loadConfig } from '../src/config.ts'
import { startEmbeddedPostgres } from '../src/db/embedded.ts'
import { migrate } from '../src/db/migrate.ts'
import { createKysely, createPool, type Db } from '../src/db/pool.ts'
import { isAppError } from '../src/errors.ts'
import { createLogger } from '../src/logger.ts'

const USAGE = `usage:
  npm run cli -- keys create --name NAME --scopes ingest,read,admin
  npm run cli -- keys list
  npm run cli -- keys revoke NAME`

type Command = (db: Db, args: string[]) => Promise<void>

const commands: Record<string, Command> = {
  'keys create': async (db, args) => {
    const { values } = parseArgs({ args, options: { name: { type: 'string' }, scopes: { type: 'string' } } })
    if (!values.name || !values.scopes) throw new UsageError('keys create needs --name and --scopes')
    const { key, identity } = await createApiKeyRepository(db).create(values.name, parseScopes(values.scopes))
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
    const revoked = await createApiKeyRepository(db).revoke(name)
    if (!revoked) throw new UsageError(`no active API key named "${name}"`)
    process.stdout.write(`revoked API key "${name}"\n`)
  },
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const name = argv.slice(0, 2).join(' ')
  const command = commands[name]
  if (!command) {
    process.stderr.write(`${USAGE}\n`)
    return 64
  }
  const config = loadConfig()
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr)
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), logger)
  const pool = createPool(config.databaseUrl ?? embedded!.url, logger, 2)
  const db = createKysely(pool)
  try {
    await migrate(pool, logger)
    await command(db, argv.slice(2))
    return 0
  } catch (err) {
    if (err instanceof UsageError || isAppError(err)) {
      process.stderr.write(`error: ${err.message}\n`)
      return 1
    }
    throw err
  } finally {
    await db.destroy()
    await embedded?.stop()
  }
}

process.exitCode = await main(process.argv.slice(2))
