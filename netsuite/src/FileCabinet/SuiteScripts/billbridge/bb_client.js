/**
 * billbridge's API as the kit uses it: post a batch, look up bills. Every answer docs/api.md documents has an
 * outcome: answered (items), split (one bill at a time), refused (the bill waits for an edit), stopped (an
 * error a person must fix, written on the bills and logged) or later (a transient fault, sent next run).
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/https'], /** @param {typeof import('N/https')} https */ (https) => {
  /**
   * @typedef {{ url: string, authorization: import('N/https').SecureString }} Connection
   * @typedef {{ kind: 'answered', items: Array<{ index: number, externalId?: string, transactionId?: string, status: string, error?: { code: string, message: string } }> }} Answered
   * @typedef {{ kind: 'later', reason: string, stop: boolean }} Later
   * @typedef {{ kind: 'split' | 'refused' | 'stopped', code: string, reason: string }} NotAccepted
   */

  /** @param {Record<string, string>} headers @param {string} name */
  function header(headers, name) {
    for (const key of Object.keys(headers || {})) if (key.toLowerCase() === name) return headers[key]
    return ''
  }

  /** The answer's {"error": {code, message}}, if it has one. @param {string} body @returns {{ code: string, message: string } | null} */
  function errorOf(body) {
    try {
      const parsed = JSON.parse(body)
      return parsed && parsed.error && parsed.error.code ? { code: String(parsed.error.code), message: String(parsed.error.message || '') } : null
    } catch (e) {
      return null
    }
  }

  /** @param {string} body */
  function errorCode(body) {
    const error = errorOf(body)
    return error ? `${error.code}: ${error.message}` : ''
  }

  /**
   * One POST; a thrown error (timeout, reset, TLS) is an answer like any other.
   * @param {Connection} connection @param {string} path @param {string} body
   * @returns {{ response: import('N/https').ClientResponse } | Later}
   */
  function post(connection, path, body) {
    try {
      const response = https.post({ url: connection.url + path, body, headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: connection.authorization } })
      return { response }
    } catch (e) {
      const error = /** @type {{ name?: string, message?: string }} */ (e)
      return { kind: 'later', reason: `request failed: ${error.name || 'Error'} ${error.message || ''}`.trim(), stop: true }
    }
  }

  /** What a non-2xx answer means for the bills in it. @param {import('N/https').ClientResponse} response @returns {Later} */
  function notAccepted(response) {
    const code = response.code
    const detail = errorCode(response.body)
    if (code === 429 || code === 503) return { kind: 'later', reason: `HTTP ${code}, Retry-After ${header(/** @type {Record<string, string>} */ (response.headers), 'retry-after') || 'not given'}s: left for a later run`, stop: true }
    if (code === 401 || code === 403) return { kind: 'later', reason: `HTTP ${code} ${detail}: check the API secret and its scopes (ingest, read)`, stop: true }
    if (code === 413) return { kind: 'later', reason: `HTTP 413: lower custscript_bb_max_post_bytes below billbridge's MAX_BODY_BYTES`, stop: false }
    return { kind: 'later', reason: `HTTP ${code} ${detail}`.trim(), stop: code >= 500 }
  }

  /**
   * A batch answer that names no bill: what it means for the request's bills (docs/api.md, the batch operation).
   * @param {import('N/https').ClientResponse} response @returns {NotAccepted | Later}
   */
  function batchNotAccepted(response) {
    const code = response.code
    const error = errorOf(response.body) || { code: `HTTP_${code}`, message: '' }
    const said = `HTTP ${code} ${error.code}${error.message ? `: ${error.message}` : ''}`
    // Nothing stored, and the same request would fail again: one of its bills is the cause, so each goes alone.
    if (code === 422 || code === 413) return { kind: 'split', code: error.code, reason: code === 413 ? `${said}; a bill that is too large alone needs a smaller PDF, or billbridge's MAX_BODY_BYTES raised (and custscript_bb_max_post_bytes under it)` : `${said}; billbridge could not store this bill, edit it (or ask billbridge's operator) to send it again` }
    if (code === 429 || code === 503 || code >= 500) return notAccepted(response)
    if (code === 401 || code === 403) return { kind: 'stopped', code: error.code, reason: `${said}: check the API secret (${code === 401 ? 'unknown or revoked key' : 'the key needs the ingest and read scopes'})` }
    if (code === 409) return { kind: 'stopped', code: error.code, reason: `${said}: billbridge holds this batch id with other bills; nothing was stored. Tell billbridge's operator` }
    return { kind: 'stopped', code: error.code, reason: `${said}: billbridge refused the request itself (not one bill); the kit and billbridge's version disagree. Tell billbridge's operator` }
  }

  /**
   * @param {Connection} connection @param {string} batchId @param {object[]} bills
   * @returns {Answered | Later | NotAccepted}
   */
  function postBatch(connection, batchId, bills) {
    const sent = post(connection, '/v1/vendor-bills/batches', JSON.stringify({ batchId, bills }))
    if (!('response' in sent)) return sent
    const { response } = sent
    /** @type {Answered['items'] | null} */
    let items = null
    try {
      const parsed = JSON.parse(response.body)
      items = parsed && Array.isArray(parsed.items) ? parsed.items : null
    } catch (e) {
      items = null
    }
    // 202, or 422 with every bill rejected: each item says what became of its bill.
    if ((response.code === 202 || response.code === 422) && items && items.length > 0) return { kind: 'answered', items }
    if (response.code === 202) return { kind: 'later', reason: 'HTTP 202 with an unreadable body', stop: true }
    return batchNotAccepted(response)
  }

  /**
   * The current state of up to 100 bills.
   * @param {Connection} connection @param {string[]} externalIds
   * @returns {{ kind: 'found', items: any[], missing: string[] } | Later}
   */
  function lookup(connection, externalIds) {
    const sent = post(connection, '/v1/transactions/lookup', JSON.stringify({ externalIds }))
    if (!('response' in sent)) return sent
    const { response } = sent
    if (response.code !== 200) return notAccepted(response)
    try {
      const answer = JSON.parse(response.body)
      return { kind: 'found', items: answer.items || [], missing: answer.missing || [] }
    } catch (e) {
      return { kind: 'later', reason: 'lookup answer unreadable', stop: true }
    }
  }

  return { postBatch, lookup }
})
