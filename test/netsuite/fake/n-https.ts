import { SuiteScriptError } from './errors.ts'
import type { HttpRequest, ScriptEnv } from './env.ts'
import { COST, HTTPS_CONNECT_SECONDS, HTTPS_SEND_SECONDS } from './limits.ts'

// "N/https Module": NetSuite drops values a script sets for these headers.
const DROPPED_HEADERS = new Set(['connection', 'content-length', 'host', 'jsessionid', 'trailer', 'transfer-encoding', 'upgrade', 'via'])

/** A SecureString: the script can build it from a secret but never read the secret back. */
class SecureString {
  #parts: string[]
  constructor(text: string) {
    this.#parts = [text]
  }
  appendSecureString({ secureString }: { secureString: SecureString; keepEncoding?: boolean }): SecureString {
    this.#parts.push(secureString.reveal())
    return this
  }
  appendString({ input }: { input: string }): SecureString {
    this.#parts.push(input)
    return this
  }
  reveal(): string {
    return this.#parts.join('')
  }
  toString(): string {
    return '[object SecureString]'
  }
  toJSON(): string {
    return '[object SecureString]'
  }
}

export function createHttpsModule(env: ScriptEnv) {
  function headerValue(value: unknown): string {
    return value instanceof SecureString ? value.reveal() : String(value)
  }

  return {
    /** "https.createSecureString": '{custsecret_…}' (or '{GUID}') stands for an API Secret's value. */
    createSecureString({ input }: { input: string }): SecureString {
      const secret = /^\{([^{}]+)\}$/.exec(input)
      if (!secret) return new SecureString(input)
      const value = env.account.secrets.get(secret[1]!)
      if (value === undefined) throw new SuiteScriptError('INVALID_SECRET_KEY_LENGTH', `no API secret ${secret[1]} is available to this script`)
      return new SecureString(value)
    },
    /** "https.post": 10 units; connect within 5 s and send within 45 s or SSS_REQUEST_TIME_EXCEEDED; only https URLs. */
    post({ url, body, headers = {} }: { url: string; body: string; headers?: Record<string, unknown> }) {
      env.meter.spend(COST.httpsPost, 'https.post')
      const parsed = new URL(url)
      if (parsed.protocol !== 'https:') throw new SuiteScriptError('SSS_INVALID_URL', `N/https calls https:// URLs only, not ${url}`)
      const target = env.hosts[parsed.host]
      if (!target) {
        env.clock.advance(HTTPS_CONNECT_SECONDS * 1000)
        throw new SuiteScriptError('SSS_REQUEST_TIME_EXCEEDED', `could not connect to ${parsed.host} within ${HTTPS_CONNECT_SECONDS} s`)
      }
      const sent: Record<string, string> = {}
      for (const [name, value] of Object.entries(headers)) {
        if (name.includes('_')) throw new SuiteScriptError('SSS_INVALID_HEADER', `header names may not contain underscores: ${name}`)
        if (!DROPPED_HEADERS.has(name.toLowerCase())) sent[name] = headerValue(value)
      }
      const request: HttpRequest = { method: 'POST', url: `${target}${parsed.pathname}${parsed.search}`, headers: sent, body: String(body) }
      const fault = env.fault(request)
      if (fault === 'timeout') {
        env.clock.advance(HTTPS_SEND_SECONDS * 1000)
        throw new SuiteScriptError('SSS_REQUEST_TIME_EXCEEDED', `the request to ${parsed.host} took more than ${HTTPS_SEND_SECONDS} s`)
      }
      if (fault === 'reset') throw new SuiteScriptError('SSS_CONNECTION_CLOSED', `the connection to ${parsed.host} was reset`)
      const response = fault ?? env.transport(request)
      env.meter.checkTime('https.post')
      return { code: response.code, headers: response.headers, body: response.body }
    },
  }
}
