import type { HttpRequest, HttpResponse } from './env.ts'

export interface ResponderOptions {
  /** A billbridge rejection for this bill, or undefined to accept it. */
  reject?: (bill: Record<string, any>) => { code: string; message: string } | undefined
}

/** A stand-in for billbridge where a test needs no real service: remembers each request and each bill's state. */
export function acceptingResponder(options: ResponderOptions = {}) {
  const requests: Array<{ batchId: string; bills: Array<Record<string, any>> }> = []
  const answers = new Map<string, string>()
  const states = new Map<string, { status: string; transactionId: string; lastErrorCode?: string; lastErrorMessage?: string }>()
  function respond(request: HttpRequest): HttpResponse {
    if (request.url.endsWith('/v1/transactions/lookup')) {
      const { externalIds } = JSON.parse(request.body) as { externalIds: string[] }
      const items = externalIds.filter((id) => states.has(id)).map((id) => ({ externalId: id, zohoBillId: null, lastErrorCode: null, lastErrorMessage: null, deliveredAt: null, updatedAt: new Date().toISOString(), ...states.get(id) }))
      return { code: 200, headers: {}, body: JSON.stringify({ items, missing: externalIds.filter((id) => !states.has(id)) }) }
    }
    const body = JSON.parse(request.body)
    requests.push(body)
    // Like billbridge, a batchId seen before gets its first answer again.
    const first = answers.get(body.batchId)
    if (first) return { code: 202, headers: {}, body: first }
    const items = body.bills.map((b: { externalId: string }, index: number) => {
      const error = options.reject?.(b)
      if (error) return { index, externalId: b.externalId, status: 'rejected', error }
      const transactionId = `00000000-0000-4000-8000-${b.externalId.padStart(12, '0')}`
      states.set(b.externalId, { status: 'queued', transactionId })
      return { index, externalId: b.externalId, transactionId, status: 'queued' }
    })
    const answer = JSON.stringify({ batchId: body.batchId, accepted: items.filter((i: { status: string }) => i.status !== 'rejected').length, rejected: 0, items })
    answers.set(body.batchId, answer)
    return { code: 202, headers: { 'content-type': 'application/json' }, body: answer }
  }
  return { respond, requests, states }
}

/**
 * A stand-in for billbridge's versions and cancellations (docs/api.md, the batch operation): a bill sent again with
 * the same content is `duplicate`; with other content and a newer `lastModified`, `updated`; with an older one,
 * `stale` (ignored); `{ externalId, lastModified, cancelled: true }` is `cancelled` (`duplicate` when it was already).
 */
export function versionedResponder() {
  const requests: Array<{ batchId: string; bills: Array<Record<string, any>> }> = []
  const held = new Map<string, { content: string; lastModified: string; cancelled: boolean; transactionId: string }>()
  const answers = new Map<string, string>()
  const base = acceptingResponder()
  function respond(request: HttpRequest): HttpResponse {
    if (request.url.endsWith('/v1/transactions/lookup')) return base.respond(request)
    const body = JSON.parse(request.body)
    requests.push(body)
    const first = answers.get(body.batchId)
    if (first) return { code: 202, headers: {}, body: first }
    const items = body.bills.map((b: Record<string, any>, index: number) => {
      const { attachment, ...rest } = b
      const content = JSON.stringify({ ...rest, lastModified: undefined, pdf: attachment?.contentBase64?.length })
      const known = held.get(b.externalId)
      const transactionId = known?.transactionId ?? `00000000-0000-4000-8000-${String(b.externalId).padStart(12, '0')}`
      const older = known && b.lastModified && Date.parse(b.lastModified) < Date.parse(known.lastModified)
      let status: string
      if (b.cancelled === true) {
        status = known?.cancelled ? 'duplicate' : older ? 'stale' : 'cancelled'
        if (status === 'cancelled') held.set(b.externalId, { content: known?.content ?? '', lastModified: b.lastModified, cancelled: true, transactionId })
      } else if (!known) {
        status = 'queued'
        held.set(b.externalId, { content, lastModified: b.lastModified, cancelled: false, transactionId })
      } else if (known.content === content) {
        status = 'duplicate'
      } else if (older) {
        status = 'stale'
      } else {
        status = 'updated'
        held.set(b.externalId, { content, lastModified: b.lastModified, cancelled: false, transactionId })
      }
      base.states.set(b.externalId, { status: status === 'cancelled' || held.get(b.externalId)?.cancelled ? 'cancelled' : 'queued', transactionId })
      return { index, externalId: b.externalId, transactionId, status }
    })
    const answer = JSON.stringify({ batchId: body.batchId, items })
    answers.set(body.batchId, answer)
    return { code: 202, headers: { 'content-type': 'application/json' }, body: answer }
  }
  return { respond, requests, held, states: base.states }
}
