import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import type { Logger } from '../logger.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations/', import.meta.url))

// One fixed key: every container migrating the same database queues behind the same lock.
const MIGRATION_LOCK_KEY = 7_160_531_094_417

export interface Migration {
  version: number
  name: string
  sql: string
  checksum: string
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((file) => file.endsWith('.sql')).sort()
  const migrations: Migration[] = []
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file)
    if (!match) throw new Error(`migration file ${file} must be named NNNN_name.sql`)
    const sql = await fs.readFile(path.join(dir, file), 'utf8')
    const version = Number(match[1])
    if (migrations.some((m) => m.version === version)) throw new Error(`two migrations share version ${match[1]}`)
    migrations.push({ version, name: match[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') })
  }
  return migrations
}

/**
 * Applies pending migrations in order, each in its own transaction, under a session advisory lock so
 * that containers starting together apply each file exactly once. Returns the versions applied here.
 */
export async function migrate(pool: pg.Pool, logger: Logger, dir = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = await readMigrations(dir)
  const client = await pool.connect()
  const applied: number[] = []
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`)
      const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations')
      const done = new Map(rows.map((row) => [row.version, row.checksum]))
      for (const migration of migrations) {
        const checksum = done.get(migration.version)
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) logger.warn({ version: migration.version }, 'an applied migration file has changed since it ran; it is not run again')
          continue
        }
        await applyOne(client, migration)
        applied.push(migration.version)
        logger.info({ version: migration.version, name: migration.name }, 'migration applied')
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
    }
  } finally {
    client.release()
  }
  return applied
}

async function applyOne(client: pg.PoolClient, migration: Migration): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query(migration.sql)
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum])
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK')
    throw new Error(`migration ${String(migration.version).padStart(4, '0')}_${migration.name} failed: ${(err as Error).message}`, { cause: err })
  }
}
