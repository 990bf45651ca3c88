/**
 * billbridge's API as the kit uses it: post a batch, look up bills; every failure becomes "try next run".
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/https'], /** @param {typeof import('N/https')} https */ (https) => {
  /**
   * @typedef {{ url: string, authorization: import('N/https').SecureString }} Connection
   * @typedef {{ kind: 'answered', items: Array<{ index: number, externalId?: string, transactionId?: string, status: string, error?: { code: string, message: string } }> }} Answered
   * @typedef {{ kind: 'later', reason: string, stop: boolean }} Later
   */

  /** @param {Record<string, string>} headers @param {string} name */
  function header(headers, name) {
    for (const key of Object.keys(headers || {})) if (key.toLowerCase() === name) return headers[key]
    return ''
  }

  /** @param {string} body */
  function errorCode(body) {
    try {
      const parsed = JSON.parse(body)
      return parsed && parsed.error ? `${parsed.error.code}: ${parsed.error.message}` : ''
    } catch (e) {
      return ''
    }
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
   * @param {Connection} connection @param {string} batchId @param {object[]} bills
   * @returns {Answered | Later}
   */
  function postBatch(connection, batchId, bills) {
    const sent = post(connection, '/v1/vendor-bills/batches', JSON.stringify({ batchId, bills }))
    if (!('response' in sent)) return sent
    const { response } = sent
    if (response.code !== 202 && response.code !== 422) return notAccepted(response)
    try {
      return { kind: 'answered', items: JSON.parse(response.body).items || [] }
    } catch (e) {
      return { kind: 'later', reason: `HTTP ${response.code} with an unreadable body`, stop: true }
    }
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
