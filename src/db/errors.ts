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

/** A lost database becomes a 503 the sender can act on (retry later); other errors pass through. */
export function toServiceUnavailable(err: unknown): unknown {
  if (isAppError(err) || !isConnectionError(err)) return err
  return new AppError('DATABASE_UNAVAILABLE', 'the database is unavailable: nothing was stored; send the batch again later', 503)
}
