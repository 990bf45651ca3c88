import type { HttpRequest, HttpResponse } from './env.ts'

/** A stand-in for billbridge where a test needs no real service: accepts every bill, remembers each request. */
export function acceptingResponder() {
  const requests: Array<{ batchId: string; bills: Array<Record<string, any>> }> = []
  function respond(request: HttpRequest): HttpResponse {
    if (request.url.endsWith('/v1/transactions/lookup')) {
      const { externalIds } = JSON.parse(request.body) as { externalIds: string[] }
      return { code: 200, headers: {}, body: JSON.stringify({ items: [], missing: externalIds }) }
    }
    const body = JSON.parse(request.body)
    requests.push(body)
    const items = body.bills.map((b: { externalId: string }, index: number) => ({ index, externalId: b.externalId, transactionId: `00000000-0000-4000-8000-${b.externalId.padStart(12, '0')}`, status: 'queued' }))
    return { code: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ batchId: body.batchId, accepted: items.length, rejected: 0, items }) }
  }
  return { respond, requests }
}
