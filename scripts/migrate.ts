// npm run migrate: applies db/migrations to the service's database (DATABASE_URL, or the embedded one under DATA_DIR).
import { ConfigError, loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { createPool } from '../src/db/pool.ts'
import { createLogger } from '../src/logger.ts'
import { scriptArgs } from './lib/args.ts'
import { databaseProblem, openServiceDatabase, ScriptError } from './lib/service-database.ts'

const USAGE = `usage: npm run migrate
Applies the migrations in db/migrations, in order and under an advisory lock, to the service's database:
DATABASE_URL, or the embedded PostgreSQL under DATA_DIR (default ./data) made by npm start. The service
also migrates at start; this is for deploys that migrate first.
  -h, --help   this text`

scriptArgs(USAGE, {})

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`)
  process.exit(1)
}

let config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) fail(`configuration: ${err.message}`)
  throw err
}
const logger = createLogger(config.logLevel)
const database = await openServiceDatabase(config, logger).catch((err: unknown) => (err instanceof ScriptError ? fail(err.message) : Promise.reject(err)))
const pool = createPool(database.url, logger, 1)
try {
  const applied = await migrate(pool, logger)
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date')
} catch (err) {
  const problem = databaseProblem(err, database.label)
  if (!problem) throw err
  process.stderr.write(`error: ${problem}\n`)
  process.exitCode = 1
} finally {
  await pool.end()
  await database.close()
}
