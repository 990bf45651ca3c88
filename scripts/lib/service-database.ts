// The database of the service the scripts run beside: DATABASE_URL when set, else the embedded PostgreSQL
// under DATA_DIR/pg that `npm start` made (shared while the service runs). A script never initialises a
// cluster of its own: a missing one means the script was not given the service's DATA_DIR.
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Config } from '../../src/config.ts'
import { startEmbeddedPostgres } from '../../src/db/embedded.ts'
import { isConnectionError } from '../../src/db/errors.ts'
import { safeUrl, type Logger } from '../../src/logger.ts'

/** A problem the script reports in one line (exit 1), without a stack. */
export class ScriptError extends Error {}

export interface ServiceDatabase {
  url: string
  /** for messages: the database without its password */
  label: string
  close(): Promise<void>
}

export async function openServiceDatabase(config: Config, logger: Logger): Promise<ServiceDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, label: safeUrl(config.databaseUrl), close: async () => {} }
  const dir = path.join(config.dataDir, 'pg')
  const initialised = await fs.access(path.join(dir, 'PG_VERSION')).then(() => true, () => false)
  if (!initialised) {
    throw new ScriptError(`no billbridge database under DATA_DIR=${config.dataDir}: start the service first (npm start) and give this script the same DATA_DIR, or set DATABASE_URL`)
  }
  const embedded = await startEmbeddedPostgres(dir, logger)
  return { url: embedded.url, label: `the embedded PostgreSQL under ${dir}`, close: () => embedded.stop() }
}

/** One line for a database failure a user can act on; undefined for anything else (a bug keeps its stack). */
export function databaseProblem(err: unknown, database: string): string | undefined {
  const e = err as { code?: string; message?: string }
  if (isConnectionError(err)) return `cannot reach ${database}: ${e.message ?? e.code}; is the service's database running, and is DATABASE_URL right?`
  if (e?.code === '42P01') return `${database} has no billbridge tables (${e.message}): point DATABASE_URL at the service's database, or run npm run migrate against it`
  if (e?.code === '28P01' || e?.code === '3D000') return `cannot use ${database}: ${e.message}`
  return undefined
}
