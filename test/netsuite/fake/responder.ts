import type { HttpRequest, HttpResponse } from './env.ts'

export interface ResponderOptions {
  /** A billbridge rejection for this bill, or undefined to accept it. */
  reject?: (bill: Record<string, any>) => { code: string; message: string } | undefined
}

/** A stand-in for billbridge where a test needs no real service: remembers each request and each bill's state. */
export function acceptingResponder(options: ResponderOptions = {}) {
  const requests: Array<{ batchId: string; bills: Array<Record<string, any>> }> = []
  const answers = new Map<string, string>()
  const states = new Map<string, { status: string; transactionId: string }>()
  function respond(request: HttpRequest): HttpResponse {
    if (request.url.endsWith('/v1/transactions/lookup')) {
      const { externalIds } = JSON.parse(request.body) as { externalIds: string[] }
      const items = externalIds.filter((id) => states.has(id)).map((id) => ({ externalId: id, ...states.get(id), zohoBillId: null, lastErrorCode: null, lastErrorMessage: null, deliveredAt: null, updatedAt: new Date().toISOString() }))
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
