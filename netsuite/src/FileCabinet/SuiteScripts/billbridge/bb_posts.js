/**
 * Splits a group of bills into requests under a byte and a bill limit, and names each request's batch.
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define([], () => {
  const MAX_BILLS_PER_POST = 100
  const ENVELOPE_BYTES = 200 // {"batchId":"…","bills":[…]} around the bills

  /** Length of a file's base64 text. @param {number} bytes */
  function base64Length(bytes) {
    return 4 * Math.ceil(bytes / 3)
  }

  /**
   * Bytes a bill adds to a request: its JSON without the PDF, the PDF's base64 and the attachment's keys.
   * @param {{ bill: object, fileName: string, fileBytes: number }} entry
   */
  function requestBytes(entry) {
    return JSON.stringify(entry.bill).length + entry.fileName.length + base64Length(entry.fileBytes) + 100
  }

  /**
   * Consecutive runs of entries, each under maxBytes and MAX_BILLS_PER_POST; callers refuse a bill that is
   * over maxBytes alone, so no request is ever larger than the limit.
   * @template {{ bill: object, fileName: string, fileBytes: number }} T
   * @param {T[]} entries @param {number} maxBytes @returns {T[][]}
   */
  function plan(entries, maxBytes) {
    const posts = []
    let current = []
    let size = ENVELOPE_BYTES
    for (const entry of entries) {
      const bytes = requestBytes(entry) + 1
      if (current.length > 0 && (size + bytes > maxBytes || current.length >= MAX_BILLS_PER_POST)) {
        posts.push(current)
        current = []
        size = ENVELOPE_BYTES
      }
      current.push(entry)
      size += bytes
    }
    if (current.length > 0) posts.push(current)
    return posts
  }

  /** Whether one bill alone fits in a request. @param {{ bill: object, fileName: string, fileBytes: number }} entry @param {number} maxBytes */
  function fitsAlone(entry, maxBytes) {
    return ENVELOPE_BYTES + requestBytes(entry) <= maxBytes
  }

  /**
   * The batch id is a hash of the bills' ids and last-modified times: a re-run of the same request (after a
   * NetSuite restart) gets billbridge's first answer, and a corrected bill makes a new batch.
   * @param {(text: string) => string} sha256Hex
   * @param {Array<{ bill: { externalId: string }, modified: string }>} entries
   */
  function batchId(sha256Hex, entries) {
    const text = entries.map((e) => `${e.bill.externalId}@${e.modified}`).join(',')
    return `ns-${sha256Hex(text).slice(0, 40)}`
  }

  return { plan, fitsAlone, batchId, base64Length, requestBytes, MAX_BILLS_PER_POST }
})
