import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.ts'
import { silentLogger } from './db.ts'

/** A temporary directory that the `postgres` user can reach when tests run as root. */
export async function reachableTempDir(t: Test, prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  await fs.chmod(dir, 0o755)
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

/** A PostgreSQL cluster of the test's own, for tests that stop and start the database. */
export async function startOwnPostgres(t: Test): Promise<EmbeddedDatabase> {
  const dir = await reachableTempDir(t, 'bb-own-pg-')
  const db = await startEmbeddedPostgres(path.join(dir, 'pg'), silentLogger)
  t.teardown(() => db.stop())
  return db
}
