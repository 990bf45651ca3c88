import { AppError, isAppError } from '../errors.ts'

// Connection-level failures: the database is down, restarting or unreachable.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006'])
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; errors?: unknown[] }
  if (e?.code && CONNECTION_CODES.has(e.code)) return true
  if (Array.isArray(e?.errors) && e.errors.some(isConnectionError)) return true
  return typeof e?.message === 'string' && CONNECTION_MESSAGES.test(e.message)
}

/** PostgreSQL closed the connection because it is shutting down (57P01 admin_shutdown, 57P02 crash_shutdown). */
export function isShutdownDisconnect(err: unknown): boolean {
  const e = err as { code?: string; message?: string }
  return e?.code === '57P01' || e?.code === '57P02' || /terminating connection due to administrator command/i.test(e?.message ?? '')
}

/** A lost database becomes a 503 the sender can act on (retry later); other errors pass through. */
export function toServiceUnavailable(err: unknown): unknown {
  if (isAppError(err) || !isConnectionError(err)) return err
  return new AppError('DATABASE_UNAVAILABLE', 'the database is unavailable: nothing was stored; send the batch again later', 503)
}

interface PgError {
  code: string
  severity: string
  constraint?: string
  table?: string
  column?: string
}

function isPgError(err: unknown): err is PgError {
  const e = err as Partial<PgError>
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string'
}

/** What a log line may say about a PostgreSQL error: its code and where, never the row (detail holds bill content). */
export function pgErrorSummary(err: unknown): Record<string, string> | undefined {
  if (!isPgError(err)) return undefined
  return Object.fromEntries(Object.entries({ pgCode: err.code, constraint: err.constraint, table: err.table, column: err.column }).filter(([, v]) => v !== undefined)) as Record<string, string>
}

/** A value PostgreSQL refused (class 22: data exception) came from the client: a 422, never a 500 the sender retries for ever. */
export function toContentRejected(err: unknown): unknown {
  if (!isPgError(err) || !err.code.startsWith('22')) return err
  return new AppError('CONTENT_UNSTORABLE', `the request holds a value the database cannot store (PostgreSQL ${err.code}); nothing was stored: check text fields for NUL characters and amounts for their range`, 422)
}
