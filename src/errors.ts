/** An error with a stable code that the API, the database, the dashboard and the logs all show the same way. */
export class AppError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly details: unknown

  constructor(code: string, message: string, statusCode = 500, details?: unknown) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.statusCode = statusCode
    this.details = details
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError
}
