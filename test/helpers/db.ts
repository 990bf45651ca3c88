import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'
import { migrate } from '../../src/db/migrate.ts'
import { createKysely, createPool, type Db } from '../../src/db/pool.ts'
import { createLogger } from '../../src/logger.ts'

export const silentLogger = createLogger('silent')

export function adminUrl(): string {
  return process.env.BILLBRIDGE_TEST_ADMIN_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
}

export interface TestDatabase {
  url: string
  name: string
  pool: pg.Pool
  db: Db
}

/** A fresh database for one test file, dropped when the test ends. */
export async function createTestDatabase(t: Test, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `bb_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl() })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  const pool = createPool(url.toString(), silentLogger, 5)
  const db = createKysely(pool)
  if (options.migrate !== false) await migrate(pool, silentLogger)
  t.teardown(async () => {
    await db.destroy().catch(() => undefined)
    const drop = new pg.Client({ connectionString: adminUrl() })
    await drop.connect()
    await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await drop.end()
  })
  return { url: url.toString(), name, pool, db }
}
