import { createHash } from 'node:crypto'
import { SuiteScriptError } from './errors.ts'
import type { ScriptEnv } from './env.ts'

/** N/runtime: parameters of the deployment, remaining units of the current invocation, execution context. */
export function createRuntimeModule(env: ScriptEnv) {
  return {
    ContextType: { MAP_REDUCE: 'MAPREDUCE', USER_INTERFACE: 'USERINTERFACE', CSV_IMPORT: 'CSVIMPORT', WEBSERVICES: 'WEBSERVICES' },
    /**
     * "runtime.isFeatureInEffect(options)": whether a feature is enabled; ids are case-insensitive (Oracle's own
     * scripts ask for SuiteTax as `tax_overhauling` in 2.x and `TAX_OVERHAULING` in 1.0). The fake's account has
     * departments, classes, locations, subsidiaries and multiple currencies; SuiteTax is the account's choice.
     */
    isFeatureInEffect({ feature }: { feature: string }) {
      const id = String(feature).toUpperCase()
      if (id === 'TAX_OVERHAULING') return env.account.suiteTax
      return ['DEPARTMENTS', 'CLASSES', 'LOCATIONS', 'SUBSIDIARIES', 'MULTICURRENCY'].includes(id)
    },
    /**
     * "runtime.getCurrentUser()": the user's (and the company's) preferences by internal id, which are
     * case-insensitive ("Accounting Preferences"); checkbox preferences read 'T' or 'F'. The fake knows
     * CUSTOMAPPROVALVENDORBILL (Approval Routing > Vendor Bills); others are null.
     */
    getCurrentUser: () => ({
      getPreference({ name }: { name: string }) {
        if (String(name).toUpperCase() === 'CUSTOMAPPROVALVENDORBILL') return env.account.approvalRouting ? 'T' : 'F'
        return null
      },
    }),
    get executionContext() {
      return env.executionContext
    },
    getCurrentScript: () => ({
      id: 'customscript_bb_sender',
      deploymentId: 'customdeploy_bb_sender',
      getParameter: ({ name }: { name: string }) => env.parameters[name] ?? null,
      getRemainingUsage: () => env.meter.remaining(),
    }),
  }
}

export function createLogModule(env: ScriptEnv) {
  const write = (level: string) => ({ title, details }: { title: string; details?: unknown }) => {
    env.logs.push({ level, title, details: typeof details === 'string' ? details : JSON.stringify(details ?? '') })
  }
  return { debug: write('DEBUG'), audit: write('AUDIT'), error: write('ERROR'), emergency: write('EMERGENCY') }
}

/** N/format: dates as the user's date preference writes them (what search filters expect). */
export function createFormatModule(env: ScriptEnv) {
  return {
    Type: { DATE: 'date', DATETIME: 'datetime' },
    format({ value, type }: { value: Date; type: string }) {
      if (type !== 'date') throw new SuiteScriptError('SSS_INVALID_TYPE_ARG', `the fake formats dates only, not ${type}`)
      return env.account.formatDate(value)
    },
  }
}

export function createErrorModule() {
  return { create: ({ name, message }: { name: string; message: string }) => new SuiteScriptError(name, message) }
}

export function createEncodeModule() {
  return { Encoding: { UTF_8: 'UTF_8', HEX: 'HEX', BASE_64: 'BASE_64' } }
}

/** N/crypto hashing; the digest's letter case is not documented, so the fake answers upper case. */
export function createCryptoModule() {
  const algorithms: Record<string, string> = { SHA256: 'sha256', SHA512: 'sha512', SHA1: 'sha1', MD5: 'md5' }
  return {
    HashAlg: { SHA256: 'SHA256', SHA512: 'SHA512', SHA1: 'SHA1', MD5: 'MD5' },
    createHash({ algorithm }: { algorithm: string }) {
      const hash = createHash(algorithms[algorithm] ?? 'sha256')
      return {
        update({ input }: { input: string; inputEncoding?: string }) {
          hash.update(input, 'utf8')
        },
        digest({ outputEncoding }: { outputEncoding?: string } = {}) {
          return outputEncoding === 'BASE_64' ? hash.digest('base64') : hash.digest('hex').toUpperCase()
        },
      }
    },
  }
}
