import path from 'node:path'
import { loadConfig } from '../src/config.ts'
import { startEmbeddedPostgres } from '../src/db/embedded.ts'
import { migrate } from '../src/db/migrate.ts'
import { createPool } from '../src/db/pool.ts'
import { createLogger } from '../src/logger.ts'

const config = loadConfig()
const logger = createLogger(config.logLevel)
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(config.dataDir, 'pg'), logger)
const pool = createPool(config.databaseUrl ?? embedded!.url, logger, 1)
try {
  const applied = await migrate(pool, logger)
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database already up to date')
} finally {
  await pool.end()
  await embedded?.stop()
}
