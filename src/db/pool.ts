import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import type { Database } from './schema.ts'
import type { Logger } from '../logger.ts'
import { isConnectionError, isShutdownDisconnect } from './errors.ts'

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
  pool.on('error', (err) => reportLostConnection(pool, logger, err, brief(err), 'idle database connection lost'))
  pool.on('connect', (client) => client.on('error', (err) => reportLostConnection(pool, logger, err, brief(err), 'database connection lost')))
  return pool
}

const stopping = new WeakSet<object>()

/** The service is stopping: the database closing the connections of this pool is expected, not a warning. */
export function expectDisconnects(pool: pg.Pool): void {
  stopping.add(pool)
}

// Ctrl-C signals the embedded PostgreSQL and the service at once: the disconnect may be read just before the signal.
const SIGNAL_GRACE_MS = 100

/**
 * Logs a lost connection of `pool` (or of a part using the same database, like pg-boss) as a warning,
 * unless it is PostgreSQL shutting down (57P01) while the service stops: that is logged at debug.
 */
export function reportLostConnection(pool: pg.Pool, logger: Logger, err: unknown, fields: object, message: string): void {
  // Once PostgreSQL is stopping, a connection may also be refused or cut without its 57P01 message.
  const expected = isShutdownDisconnect(err) || isConnectionError(err)
  const report = () => {
    if (stopping.has(pool) && expected) logger.debug(fields, `${message} (the database stopped with the service)`)
    else logger.warn(fields, message)
  }
  if (expected && !stopping.has(pool)) setTimeout(report, SIGNAL_GRACE_MS).unref()
  else report()
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
