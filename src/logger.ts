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

// Query parameters whose value is a secret whatever route they reach (a key pasted into a URL).
const SECRET_PARAMS = /^(api[_-]?key|key|token|access[_-]?token|refresh[_-]?token|password|secret|client[_-]?secret|code|authorization|session)$/i

/** The URL with the values of secret-looking query parameters replaced, for log lines. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?')
  if (at < 0) return url
  const query = url.slice(at + 1).split('&').map((pair) => {
    const name = pair.split('=')[0] ?? ''
    let decoded = name
    try {
      decoded = decodeURIComponent(name)
    } catch {}
    return SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : pair
  })
  return `${url.slice(0, at)}?${query.join('&')}`
}

interface LoggedRequest {
  method: string
  url: string
  host?: string
  ip?: string
  socket?: { remotePort?: number }
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const logger = pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'billbridge' } },
    destination ?? process.stdout,
  )
  // Fastify merges these over its own request serializer: the logged URL has secrets taken out.
  Object.assign(logger, {
    serializers: {
      req: (req: LoggedRequest) => ({ method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
    },
  })
  return logger
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
