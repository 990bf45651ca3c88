/**
 * The deployment's script parameters, with defaults and bounds, and the API key as a secure string.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/runtime', 'N/https', 'N/error'], /** @param {typeof import('N/runtime')} runtime @param {typeof import('N/https')} https @param {typeof import('N/error')} error */ (runtime, https, error) => {
  const DEFAULT_SECRET = 'custsecret_billbridge_api_key'

  /** @param {string} name */
  function parameter(name) {
    const value = runtime.getCurrentScript().getParameter({ name })
    return value === null || value === undefined || value === '' ? null : value
  }

  /** @param {string} name @param {number} fallback @param {number} min @param {number} max */
  function integer(name, fallback, min, max) {
    const value = Number(parameter(name))
    if (!Number.isFinite(value) || value === 0) return fallback
    return Math.min(max, Math.max(min, Math.floor(value)))
  }

  /** @param {string} name @param {string} message */
  function required(name, message) {
    const value = parameter(name)
    if (value === null) throw error.create({ name: 'BILLBRIDGE_SETUP', message: `${name} is not set: ${message}`, notifyOff: false })
    return value
  }

  function read() {
    const goLive = required('custscript_bb_go_live', 'the first bill date to send (bills dated before it are never sent)')
    return {
      url: String(required('custscript_bb_url', 'billbridge\'s address, e.g. https://billbridge.example.com')).replace(/\/+$/, ''),
      secretId: String(parameter('custscript_bb_api_key_secret') || DEFAULT_SECRET),
      goLive: goLive instanceof Date ? goLive : new Date(String(goLive)),
      billsPerRun: integer('custscript_bb_bills_per_run', 1000, 1, 10000),
      billsPerGroup: integer('custscript_bb_bills_per_group', 20, 1, 50),
      maxPostBytes: integer('custscript_bb_max_post_bytes', 8000000, 500000, 9000000),
      checksPerRun: integer('custscript_bb_checks_per_run', 2000, 0, 20000),
    }
  }

  /** "Bearer <key>" built from the API secret, never readable by the script. @param {{ url: string, secretId: string }} settings */
  function connection(settings) {
    const authorization = https.createSecureString({ input: 'Bearer ' })
    authorization.appendSecureString({ secureString: https.createSecureString({ input: `{${settings.secretId}}` }), keepEncoding: true })
    return { url: settings.url, authorization }
  }

  return { read, connection }
})
