import { pino, type Logger } from 'pino'

export type { Logger }

/** Paths whose values never reach a log line, wherever they appear. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  '*.password',
  '*.apiKey',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.tokenEncryptionKey',
  'config.zoho.clientSecret',
  'config.zoho.refreshToken',
  'config.databaseUrl',
]

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'billbridge' } },
    destination ?? process.stdout,
  )
}

/** A database URL with its password replaced, for banners and errors. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '[unparseable url]'
  }
}
