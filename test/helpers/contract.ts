import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { request } from 'undici'

type Doc = { paths: Record<string, Record<string, Operation>> }
type Operation = { operationId: string; requestBody?: unknown; responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, { $ref?: string }> }> }
type HeaderSpec = { required?: boolean; schema: object }

// Refusals the document's schema states (so a bill it accepts must not get them, and one it refuses must).
const SCHEMA_RULES = new Set(['UNKNOWN_FIELD', 'INVALID_REQUEST', 'INVALID_ENVELOPE', 'EXTERNAL_ID_MISSING', 'BILL_NUMBER_MISSING', 'VENDOR_MISSING', 'VENDOR_NAME_MISSING',
  'VENDOR_EMAIL_INVALID', 'LINES_MISSING', 'LINE_ACCOUNT_MISSING', 'ATTACHMENT_MISSING', 'ATTACHMENT_FILENAME_INVALID', 'ATTACHMENT_CONTENT_TYPE_INVALID',
  'MEMO_INVALID', 'REFERENCE_NUMBER_INVALID', 'SUBSIDIARY_INVALID', 'EXCHANGE_RATE_INVALID', 'LINE_DESCRIPTION_INVALID'])

const pointer = (...segments: string[]) => segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')

export interface ContractProxy {
  url: string
  /** every difference seen between an answer (or a refusal) and the served document */
  mismatches: string[]
  /** operationIds of the requests that went through */
  seen: Set<string>
  operations: string[]
  close(): Promise<void>
}

/**
 * An HTTP proxy in front of the service that checks each exchange against the document the service serves
 * (/docs/json): the status is documented, the body validates, required headers are there and every documented
 * header present validates; and the request body's validity by the document agrees with the service's verdict.
 */
export async function startContractProxy(target: string): Promise<ContractProxy> {
  const doc = (await (await request(`${target}/docs/json`)).body.json()) as Doc
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
  addFormats.default(ajv)
  // Ajv reads the document as one schema resource: drop OpenAPI's boolean `required` (parameters, headers, bodies).
  ajv.addSchema({ ...JSON.parse(JSON.stringify(doc, (key, value) => (key === 'required' && typeof value === 'boolean' ? undefined : value))), $id: 'openapi' })
  const components = (doc as unknown as { components: { headers: Record<string, HeaderSpec> } }).components
  const compiled = new Map<string, ValidateFunction>()
  const validator = (ref: string) => {
    let fn = compiled.get(ref)
    if (!fn) compiled.set(ref, (fn = ajv.compile({ $ref: `openapi#/${ref}` })))
    return fn
  }
  const routes = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ path, method, re: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`), templated: path.includes('{') })))
    .sort((a, b) => Number(a.templated) - Number(b.templated))
  const mismatches: string[] = []
  const seen = new Set<string>()

  function check(method: string, url: string, requestBody: Buffer, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer) {
    const path = url.split('?')[0]!
    const route = routes.find((r) => r.method === method.toLowerCase() && r.re.test(path))
    if (!route) return
    const operation = doc.paths[route.path]![route.method]!
    seen.add(operation.operationId)
    const where = `${method} ${path.slice(0, 80)} → ${status}`
    const response = operation.responses[String(status)]
    if (!response) return void mismatches.push(`${where}: status not documented`)
    const text = body.toString()
    let json: unknown
    if (response.content) {
      try {
        json = JSON.parse(text)
      } catch {
        return void mismatches.push(`${where}: body is not JSON: ${text.slice(0, 80)}`)
      }
      const validate = validator(pointer('paths', route.path, route.method, 'responses', String(status), 'content', 'application/json', 'schema'))
      if (!validate(json)) mismatches.push(`${where}: body breaks the schema: ${ajv.errorsText(validate.errors)}`)
    }
    for (const [name, spec] of Object.entries(response.headers ?? {})) {
      const header = (spec.$ref ? components.headers[spec.$ref.split('/').at(-1)!] : spec) as HeaderSpec
      const value = headers[name.toLowerCase()]
      if (value === undefined) {
        if (header.required) mismatches.push(`${where}: required header ${name} missing`)
        continue
      }
      const typed = (header.schema as { type?: string }).type === 'integer' ? Number(value) : value
      if (!ajv.validate(header.schema, typed)) mismatches.push(`${where}: header ${name}: ${String(value).slice(0, 60)} breaks ${JSON.stringify(header.schema)}`)
    }
    if (operation.requestBody && requestBody.length > 0) agreeOnRequest(where, route.path, route.method, requestBody, status, json)
  }

  /** A request the document accepts is not refused for a rule the document states, and the reverse. */
  function agreeOnRequest(where: string, path: string, method: string, raw: Buffer, status: number, answer: unknown) {
    let sent: unknown
    try {
      sent = JSON.parse(raw.toString())
    } catch {
      return
    }
    const bodyRef = pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema')
    const refusedCode = (answer as { error?: { code?: string } })?.error?.code
    if (path === '/v1/vendor-bills/batches' && Array.isArray((sent as { bills?: unknown }).bills) && (answer as { items?: unknown })?.items) {
      // A tool that checks requests against the document must let through every batch the service takes.
      const envelope = validator(bodyRef)
      if (status < 300 && !envelope(sent)) mismatches.push(`${where}: the batch breaks the document (${ajv.errorsText(envelope.errors)}) but was taken`)
      const bill = validator('components/schemas/VendorBill')
      for (const item of (answer as { items: Array<{ index: number; status: string; error?: { code: string } }> }).items) {
        const valid = bill((sent as { bills: unknown[] }).bills[item.index])
        if (valid && item.status === 'rejected' && SCHEMA_RULES.has(item.error!.code)) mismatches.push(`${where}: bill ${item.index} is valid by the document but refused with ${item.error!.code}`)
        if (!valid && item.status !== 'rejected') mismatches.push(`${where}: bill ${item.index} breaks the document (${ajv.errorsText(bill.errors)}) but was accepted`)
      }
      return
    }
    const valid = validator(bodyRef)(sent)
    if (valid && refusedCode && SCHEMA_RULES.has(refusedCode)) mismatches.push(`${where}: body is valid by the document but refused with ${refusedCode}`)
    if (!valid && status < 300) mismatches.push(`${where}: body breaks the document but was accepted`)
  }

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const sent = Buffer.concat(chunks)
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(k))) as Record<string, string>
    const answer = await request(`${target}${req.url}`, { method: req.method as 'GET', headers, ...(sent.length ? { body: sent } : {}) })
    const body = Buffer.from(await answer.body.arrayBuffer())
    check(req.method!, req.url!, sent, answer.statusCode, answer.headers, body)
    const out = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !['connection', 'transfer-encoding', 'keep-alive', 'content-length'].includes(k)))
    res.writeHead(answer.statusCode, out as http.OutgoingHttpHeaders).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId))
  return { url: `http://127.0.0.1:${port}`, mismatches, seen, operations, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
