// The start every benchmark shares: a scratch folder, the database (DATABASE_URL, or an embedded
// PostgreSQL in the scratch folder), migrations, and an API key for the sender.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type pg from 'pg'
import { createApiKeyRepository } from '../../src/auth/api-keys.ts'
import { startEmbeddedPostgres } from '../../src/db/embedded.ts'
import { migrate } from '../../src/db/migrate.ts'
import { createKysely, createPool } from '../../src/db/pool.ts'
import { createLogger } from '../../src/logger.ts'

export interface BenchDatabase {
  /** scratch folder: the embedded database, the service's PDFs, anything else the run writes */
  work: string
  databaseUrl: string
  pool: pg.Pool
  /** an API key with scope ingest */
  key: string
  /** closes the pool, stops the embedded database and removes the scratch folder */
  close(): Promise<void>
}

export async function openBenchDatabase(name: string): Promise<BenchDatabase> {
  const logger = createLogger('warn', process.stderr)
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `bb-bench-${name}-`))
  await fs.chmod(work, 0o755)
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(path.join(work, 'pg'), logger)
  const databaseUrl = process.env.DATABASE_URL ?? embedded!.url
  const pool = createPool(databaseUrl, logger, 2)
  await migrate(pool, logger)
  const db = createKysely(pool)
  const { key } = await createApiKeyRepository(db).create(`bench-${name}-${Date.now()}`, ['ingest'])
  return {
    work, databaseUrl, pool, key,
    async close() {
      await db.destroy()
      if (!pool.ending) await pool.end()
      await embedded?.stop()
      await fs.rm(work, { recursive: true, force: true })
    },
  }
}
