import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import type { Database } from './schema.ts'
import type { Logger } from '../logger.ts'
import { isShutdownDisconnect } from './errors.ts'

export type Db = Kysely<Database>

// bigint counts and numeric amounts come back as strings; int8 ids would overflow a JS number.
export function createPool(connectionString: string, logger: Logger, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'billbridge',
  })
  // A connection lost in a database restart must not crash the process: the pool reports idle clients,
  // and clients held between queries (the delivery's bill lock, a Zoho slot) report here.
  // Only the message and code: pg attaches the client (connection parameters, cancel key) to the error.
  const brief = (err: Error & { code?: string }) => ({ err: { message: err.message, code: err.code } })
  const lost = (err: Error & { code?: string }, what: string) => {
    if (stopping.has(pool) && isShutdownDisconnect(err)) logger.debug(brief(err), `${what} closed by the database during shutdown`)
    else logger.warn(brief(err), `${what} lost`)
  }
  pool.on('error', (err) => lost(err, 'idle database connection'))
  pool.on('connect', (client) => client.on('error', (err) => lost(err, 'database connection')))
  return pool
}

const stopping = new WeakSet<pg.Pool>()

/** The service is stopping: the database closing this pool's connections is expected, not a warning. */
export function expectDisconnects(pool: pg.Pool): void {
  stopping.add(pool)
}

export function createKysely(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}

/** Runs work inside BEGIN … COMMIT on one pooled connection; rolls back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
