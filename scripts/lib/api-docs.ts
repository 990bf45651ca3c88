// Renders docs/api.md from the OpenAPI document the service serves, so the prose contract cannot drift from it.
// Regenerate with `npm run api-docs`; test/contract/document.test.ts fails when the file is out of date.
import { loadConfig } from '../../src/config.ts'
import { DELIVERY_ERROR_CODES } from '../../src/schemas/delivery-codes.ts'
import { BILL_REJECTION_CODES, DASHBOARD_ERROR_CODES, REQUEST_ERROR_CODES } from '../../src/schemas/error-codes.ts'

type Schema = { type?: string | string[]; description?: string; maxLength?: number; minLength?: number; pattern?: string; format?: string; enum?: unknown[]; anyOf?: Schema[]; items?: Schema; properties?: Record<string, Schema>; required?: string[]; $ref?: string; minItems?: number; maxItems?: number; examples?: unknown[] }
type Media = { schema?: Schema; example?: unknown }
type Response = { description: string; content?: Record<string, Media>; headers?: Record<string, unknown> }
type Operation = { operationId: string; summary: string; description: string; tags?: string[]; security?: unknown[]; parameters?: Array<{ name: string; in: string; required?: boolean; schema: Schema }>; requestBody?: { content: Record<string, Media> }; responses: Record<string, Response> }
export type OpenApiDocument = { info: { description: string }; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } }

const mb = (bytes: number) => `${bytes / (1024 * 1024)} MB`
const json = (value: unknown) => ['```json', JSON.stringify(value, null, 2), '```'].join('\n')
const cell = (text: unknown) => String(text ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ')

function rules(schema: Schema): string {
  if (schema.anyOf) return schema.anyOf.map(rules).join(' or ')
  const parts = [Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type ?? (schema.$ref ? schema.$ref.split('/').at(-1) : 'any')]
  if (schema.format) parts.push(`format ${schema.format}`)
  if (schema.minLength !== undefined) parts.push(`≥ ${schema.minLength} chars`)
  if (schema.maxLength !== undefined) parts.push(`≤ ${schema.maxLength} chars`)
  if (schema.minItems !== undefined) parts.push(`≥ ${schema.minItems} items`)
  if (schema.maxItems !== undefined) parts.push(`≤ ${schema.maxItems} items`)
  if (schema.pattern) parts.push(`pattern \`${schema.pattern}\``)
  if (schema.enum) parts.push(`one of ${schema.enum.map((v) => `\`${String(v)}\``).join(', ')}`)
  return parts.join(', ')
}

function fieldRows(schema: Schema, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, field]) => {
    const path = `${prefix}${name}`
    const row = `| \`${path}\` | ${schema.required?.includes(name) ? 'yes' : ''} | ${cell(rules(field))} | ${cell(field.description)} |`
    if (field.properties) return [row, ...fieldRows(field, `${path}.`)]
    if (field.items?.properties) return [row, ...fieldRows(field.items, `${path}[].`)]
    return [row]
  })
}

function operationSection(method: string, path: string, op: Operation): string[] {
  const scope = op.security?.length ? `\`Authorization: Bearer <api key>\`` : 'none'
  const out = [`### \`${method.toUpperCase()} ${path}\``, '', `**${op.summary}** (operationId \`${op.operationId}\`; auth: ${scope})`, '', op.description, '']
  for (const p of op.parameters ?? []) out.push(`- ${p.in} parameter \`${p.name}\`${p.required ? ' (required)' : ''}: ${rules(p.schema)}`)
  if (op.parameters?.length) out.push('')
  const body = op.requestBody?.content['application/json']
  if (body) {
    const example = body.example ?? body.schema?.examples?.[0]
    out.push(`Request body: ${rules(body.schema ?? {})}.`, '')
    if (example !== undefined) out.push(json(example), '')
  }
  out.push('| Status | Meaning | Headers |', '| --- | --- | --- |')
  for (const [status, response] of Object.entries(op.responses)) out.push(`| ${status} | ${cell(response.description)} | ${Object.keys(response.headers ?? {}).map((h) => `\`${h}\``).join(', ')} |`)
  out.push('')
  const ok = Object.entries(op.responses).find(([status]) => status.startsWith('2'))
  const example = ok?.[1].content?.['application/json']?.example
  if (example !== undefined) out.push(`Example ${ok![0]} answer:`, '', json(example), '')
  return out
}

export function renderApiDocs(doc: OpenApiDocument): string {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })))
  const byTag = (tag: string) => ops.filter(({ op }) => op.tags?.includes(tag))
  const bill = doc.components.schemas.VendorBill!
  const defaults = loadConfig({})
  return [
    '# billbridge API (v1)',
    '',
    '<!-- Generated from the OpenAPI document the service serves at /docs/json (npm run api-docs); test/contract/document.test.ts fails when it is out of date. Edit the route schemas in src/, not this file. -->',
    '',
    doc.info.description,
    '',
    '## Conventions',
    '',
    '- **Auth**: HTTP bearer authentication (the document\'s security scheme `bearerAuth`, `type: http`, `scheme: bearer`) with a billbridge API key, not an OAuth token: every `/v1` route needs `Authorization: Bearer <api key>` with the scope it names (`ingest`, `read`, `admin`). Keys are minted with `npm run cli -- keys create --name NAME --scopes ingest,read` and stored hashed. A missing, unknown or revoked key is `401` with `WWW-Authenticate: Bearer realm="billbridge"`; a key without the scope is `403`.',
    '- **Errors**: every error answer, from every route and from the HTTP layer itself (body too large, malformed JSON, wrong content type, over-long path parameter, a stalled body, a fault: `500 INTERNAL_ERROR`), is `{"error": {"code": "STABLE_CODE", "message": "…", "details": …}}` with a code from the table below. The field at fault is `error.details.field`, in the error of one bill and in a batch item\'s error alike. A batch whose every bill is rejected answers `422` with the batch answer plus `"error": {"code": "BATCH_REJECTED", …}` (schema `BatchRejected`): a client tells it from the other errors by its `items`.',
    '- **Methods**: a path the API has, asked with a method it does not take (e.g. `DELETE /v1/transactions/{id}`), is `405 METHOD_NOT_ALLOWED` with an `Allow` header listing the methods it takes; an unknown path is `404 NOT_FOUND`.',
    '- **Unknown keys** in any request body are refused, never ignored: `400 UNKNOWN_FIELD` naming the key (inside a batch, that bill alone is rejected with `UNKNOWN_FIELD`).',
    `- **Rate limit**: \`API_RATE_PER_MINUTE\` (default ${defaults.apiRatePerMinute}) requests per minute per API key, counted across every \`/v1\` route once a request is authenticated and its body validated; past it \`429 RATE_LIMITED\` with \`Retry-After\`. \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\` and \`X-RateLimit-Reset\` come on every answer of a counted request (success, \`404\`, \`409\`, \`422\`, \`429 RATE_LIMITED\`), and the document lists them there; refusals made before the count (\`400\` for the schema, \`401\`, \`403\`, \`413\` by Content-Length, \`414\`, \`415\`, \`429 AUTH_THROTTLED\` or \`TOO_MANY_UPLOADS\`, \`503\` during authentication) do not carry them.`,
    `- **Failed authentications** are limited per client address, not per key: after \`AUTH_FAILURES_PER_MINUTE\` (default ${defaults.authFailuresPerMinute}) failures in a minute, every request from that address is \`429 AUTH_THROTTLED\` with \`Retry-After\`, even with a valid key. Clients behind one shared address (a NAT, a proxy without \`TRUST_PROXY\`) are throttled together. Each key may have \`MAX_UPLOADS_PER_KEY\` (default ${defaults.maxUploadsPerKey}) ingest requests in flight (\`429 TOO_MANY_UPLOADS\`).`,
    `- **Default limits** (each an environment variable of the instance): \`MAX_BODY_BYTES\` ${mb(defaults.maxBodyBytes)} per ingest request, \`MAX_ATTACHMENT_BYTES\` ${mb(defaults.maxAttachmentBytes)} per decoded PDF, \`MAX_BILLS_PER_BATCH\` ${defaults.maxBillsPerBatch} bills per batch (the served document's \`maxItems\` is the instance's setting), 1 MB for every other body, \`REQUEST_IDLE_TIMEOUT_MS\` ${defaults.requestIdleTimeoutMs / 1000} s.`,
    '- **Request ids**: send `X-Request-Id` (1-128 of `A-Z a-z 0-9 . _ : -`) and it is echoed and logged; anything else is replaced by a generated id. Every answer carries one.',
    '- **Bodies**: JSON only (`Content-Type: application/json`), uncompressed (`Content-Encoding` other than identity is `415`), taken as sent: a value of the wrong JSON type is `400`, never converted (`"externalIds": "x"` is not `["x"]`), and a key a body does not name is `400 UNKNOWN_FIELD`, never ignored. Ingest bodies are streamed, up to `MAX_BODY_BYTES`; other bodies up to 1 MB. A body that stops arriving for `REQUEST_IDLE_TIMEOUT_MS` is answered `408 REQUEST_TIMEOUT`, the connection is closed and nothing of the body is kept.',
    '- **Ids**: every id the API gives out can be read back; path parameters are at most 256 characters (`414 URI_TOO_LONG`). An unknown transaction or batch is `404` on every route.',
    '',
    '## The vendor bill',
    '',
    cell(bill.description),
    '',
    '| Field | Required | Type and limits | Meaning |',
    '| --- | --- | --- | --- |',
    ...fieldRows(bill),
    '',
    "Beyond what the schema can say: the bill's total (sum of the lines and their `taxAmount`) must be positive and at most 9999999999999999.99; `date` is from 1900-01-01 on and `dueDate` not before it; `currency` must be a code in use; `quantity × rate` must equal `amount` to the cent; a line's `taxAmount` has at most the currency's decimals (none for JPY); `vendor.country` must be a country code ISO assigns; the PDF must start with `%PDF-` and be at most `MAX_ATTACHMENT_BYTES` decoded.",
    '',
    '### Tax and dimensions',
    '',
    "A line's `amount` is net. A taxed line carries `taxCode` (NetSuite's tax code name) and `taxAmount` (NetSuite's tax for the line, `\"0.00\"` for a zero-rated or exempt line), and `taxRate` when known; `taxAmount` or `taxRate` without `taxCode`, or `taxCode` without `taxAmount`, is `TAX_INVALID`. `total`, when sent, must be Σ `amount` + Σ `taxAmount` to the cent (`TOTAL_MISMATCH` names both); the transaction's `amount` is that gross total. A bill with none of these fields is taken and delivered as before.",
    '',
    `In Zoho each line gets the Zoho tax its \`taxCode\` maps to (an operator's mapping, else the one active Zoho tax of that rate and kind, else the bill fails \`TAX_UNMAPPED\`) and its reporting tags (\`ZOHO_TAGS\`; a line without its own \`department\`, \`class\` or \`location\` takes the bill's). Zoho computes the tax itself and may round it otherwise than NetSuite (per line or per bill, an organization setting): billbridge makes Zoho's total equal NetSuite's by the bill's \`adjustment\` when the difference is at most \`TAX_ROUNDING_TOLERANCE\` (default ${defaults.zoho.taxRoundingTolerance}) of the bill's currency, and otherwise fails the bill \`TAX_DIFFERS\` naming both figures, leaving no bill open in Zoho. The UK, India and Gulf editions need the vendor's \`country\` (and in India its GSTIN as \`taxId\`) for a taxed bill; a bill that lacks what its edition needs fails with a code naming the field (\`VENDOR_COUNTRY_REQUIRED\`, \`VENDOR_TAX_ID_REQUIRED\`, …; see Delivery codes).`,
    '',
    '### Versions and cancellations',
    '',
    "A bill sent again under its `externalId` is compared with the version billbridge holds by a SHA-256 of its content (every field as validated, keys in order, and its PDF; `lastModified` left out). The same content is `duplicate`. Other content with a `lastModified` newer than the version held is `updated`: a bill not yet in Zoho is delivered with the new content; one in Zoho is updated in place (the same Zoho bill, `PUT /bills/{id}` with the whole bill), its PDF replaced when it changed, under the same lock, rate and retry rules as a create. A `lastModified` not newer than the one held is `stale`: ignored, the item's `message` says so. Without `lastModified`, new content for a failed bill is `requeued` and for any other bill `duplicate` (as before versions were kept): a delivered bill is updated only when NetSuite says when it changed. An update Zoho refuses (a paid bill whose total would fall below what was paid, a locked period, a void bill) fails `UPDATE_REFUSED` quoting Zoho; Zoho keeps the version it last accepted, and `GET /v1/transactions/{id}` (`versions`, `zohoHolds`) and the bill page show which, and what differs.",
    '',
    "A cancel is `{\"externalId\", \"lastModified\"?, \"cancelled\": true}` (other contract fields may come along and are ignored; no PDF is needed). A bill in Zoho is voided (`POST /bills/{id}/status/void`); one not yet delivered is never sent. The item says `cancelled`, and the transaction's status becomes `cancelled` once done. A void Zoho refuses (payments applied) fails `VOID_REFUSED` quoting Zoho. A cancel for an `externalId` billbridge does not know is rejected, `BILL_UNKNOWN` (422 on `POST /v1/vendor-bills`); one with a `lastModified` older than the version held is `stale`; a bill already cancelled answers `duplicate`, and a cancelled bill stays cancelled whatever is sent later.",
    '',
    ...(['ingest', 'read', 'admin', 'health'] as const).flatMap((tag) => [`## ${tag[0]!.toUpperCase()}${tag.slice(1)}`, '', ...byTag(tag).flatMap(({ method, path, op }) => operationSection(method, path, op))]),
    '## Error codes',
    '',
    'Answers to a request (`error.code`):',
    '',
    '| Code | Status | Meaning |',
    '| --- | --- | --- |',
    ...Object.entries(REQUEST_ERROR_CODES).map(([code, [status, meaning]]) => `| \`${code}\` | ${status} | ${cell(meaning)} |`),
    '',
    'Why one bill was rejected (a batch item\'s `error.code`, or the error of `POST /v1/vendor-bills`):',
    '',
    '| Code | Meaning |',
    '| --- | --- |',
    ...Object.entries(BILL_REJECTION_CODES).map(([code, meaning]) => `| \`${code}\` | ${cell(meaning)} |`),
    '',
    '## Delivery codes',
    '',
    'Why a delivery to Zoho Books failed: a transaction\'s `lastError.code`, an attempt\'s `errorCode`, the lookup\'s `lastErrorCode`, and the `errorCode` filter of `POST /v1/transactions/retry` (schema `DeliveryErrorCode`). The fix is the one the failure alert gives.',
    '',
    '| Code | Meaning | Fix |',
    '| --- | --- | --- |',
    ...Object.entries(DELIVERY_ERROR_CODES).map(([code, { meaning, fix }]) => `| \`${code}\` | ${cell(meaning)} | ${cell(fix)} |`),
    '',
    `The operator dashboard (\`/admin\`, not part of this API) answers some codes of its own: ${Object.keys(DASHBOARD_ERROR_CODES).map((code) => `\`${code}\``).join(', ')}.`,
    '',
  ].join('\n')
}
