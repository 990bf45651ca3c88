import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import multipart from '@fastify/multipart'
import type { SandboxContext } from './server.ts'
import { newId, type SandboxAttachment, type SandboxBill } from './state.ts'

const PREFIX = '/books/v3'
const ALLOWED_EXTENSIONS = /\.(pdf|gif|png|jpe?g|bmp)$/i

/** Zoho's error envelope: HTTP status plus { code, message }. */
class BooksError extends Error {
  readonly status: number
  readonly code: number
  constructor(status: number, code: number, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function booksRoutes(app: FastifyInstance, { ctx }: { ctx: SandboxContext }): Promise<void> {
  await app.register(multipart, { limits: { fileSize: ctx.limits.maxAttachmentBytes, files: 1, fields: 5, fieldSize: 1024 * 1024 } })
  app.addHook('onRequest', (request, reply) => gatekeeper(ctx, request, reply))
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof BooksError) return reply.code(err.status).send({ code: err.code, message: err.message })
    const status = (err as { statusCode?: number }).statusCode ?? 500
    return reply.code(status).send({ code: status >= 500 ? 1000 : 2, message: status >= 500 ? 'Internal error' : 'The request passed is not valid.' })
  })

  app.get('/contacts', async (request) => {
    const q = request.query as Record<string, string | undefined>
    const contacts = [...ctx.state.contacts.values()].filter((c) =>
      (!q.contact_type || c.contact_type === q.contact_type) &&
      (!q.contact_name || c.contact_name.toLowerCase() === q.contact_name.toLowerCase()) &&
      (!q.search_text || c.contact_name.toLowerCase().includes(q.search_text.toLowerCase())))
    return { code: 0, message: 'success', contacts, page_context: { page: 1, per_page: 200, has_more_page: false } }
  })

  app.post('/contacts', async (request, reply) => {
    const body = (request.body ?? {}) as { contact_name?: string; company_name?: string; contact_type?: string; contact_persons?: Array<{ email?: string }> }
    if (!body.contact_name?.trim()) throw new BooksError(400, 4, 'Please enter the contact name.')
    // Assumed code: Zoho refuses a duplicate contact name with a non-zero code (3062 here).
    if (ctx.state.contactByName(body.contact_name)) throw new BooksError(400, 3062, `The contact name "${body.contact_name}" already exists. Please specify a different name.`)
    const id = newId()
    const contact = { contact_id: id, contact_name: body.contact_name.trim(), company_name: body.company_name ?? body.contact_name, contact_type: body.contact_type === 'customer' ? 'customer' as const : 'vendor' as const, ...(body.contact_persons?.[0]?.email ? { email: body.contact_persons[0].email } : {}) }
    ctx.state.contacts.set(id, contact)
    return reply.code(201).send({ code: 0, message: 'The contact has been added.', contact })
  })

  app.get('/chartofaccounts', async () => ({ code: 0, message: 'success', chartofaccounts: [...ctx.state.accounts.values()] }))

  app.get('/bills', async (request) => {
    const q = request.query as Record<string, string | undefined>
    const bills = ctx.state.billsFor(q.bill_number, q.vendor_id).filter((b) => !q.reference_number || b.reference_number === q.reference_number)
    return { code: 0, message: 'success', bills: bills.map(summary), page_context: { page: 1, per_page: 200, has_more_page: false } }
  })

  app.get('/bills/:id', async (request) => {
    const bill = findBill(ctx, (request.params as { id: string }).id)
    return { code: 0, message: 'success', bill: { ...bill, documents: bill.attachments.map((a) => ({ file_name: a.file_name, file_size: a.size })) } }
  })

  app.post('/bills', async (request, reply) => {
    const { json, attachment } = await readBillRequest(ctx, request)
    const bill = createBill(ctx, json, attachment)
    if (await afterWrite(ctx, request, reply)) return reply
    return reply.code(201).send({ code: 0, message: 'The bill has been created.', bill })
  })

  app.put('/bills', async (request, reply) => {
    const key = String(request.headers['x-unique-identifier-key'] ?? '')
    const value = String(request.headers['x-unique-identifier-value'] ?? '')
    if (!ctx.uniqueFields.includes(key)) throw new BooksError(400, 4, `The custom field ${key || '(none)'} is not marked unique in this organization.`)
    if (!value) throw new BooksError(400, 4, 'X-Unique-Identifier-Value is required.')
    const { json, attachment } = await readBillRequest(ctx, request)
    const existing = [...ctx.state.bills.values()].find((b) => b.custom_fields.some((f) => f.api_name === key && f.value === value))
    if (existing) {
      Object.assign(existing, billFields(ctx, json, existing.vendor_id), attachment ? { attachments: [attachment] } : {})
      if (await afterWrite(ctx, request, reply)) return reply
      return reply.code(200).send({ code: 0, message: 'Bill information has been updated.', bill: existing })
    }
    if (String(request.headers['x-upsert']).toLowerCase() !== 'true') throw new BooksError(404, 1002, 'Bill does not exist.')
    const fields = (json.custom_fields as Array<{ api_name: string; value: string }> | undefined) ?? []
    const bill = createBill(ctx, { ...json, custom_fields: [...fields.filter((f) => f.api_name !== key), { api_name: key, value }] }, attachment)
    if (await afterWrite(ctx, request, reply)) return reply
    return reply.code(201).send({ code: 0, message: 'The bill has been created.', bill })
  })

  app.post('/bills/:id/attachment', async (request, reply) => {
    const bill = findBill(ctx, (request.params as { id: string }).id)
    const { attachment } = await readBillRequest(ctx, request)
    if (!attachment) throw new BooksError(400, 4, 'Please attach a file.')
    bill.attachments = [attachment]
    if (await afterWrite(ctx, request, reply)) return reply
    return { code: 0, message: 'Your file has been attached to the bill.' }
  })

  app.get('/bills/:id/attachment', async (request) => {
    const bill = findBill(ctx, (request.params as { id: string }).id)
    if (bill.attachments.length === 0) throw new BooksError(404, 1002, 'No attachment found.')
    return { code: 0, message: 'success', documents: bill.attachments }
  })
}

function summary(b: SandboxBill) {
  return { bill_id: b.bill_id, bill_number: b.bill_number, vendor_id: b.vendor_id, date: b.date, reference_number: b.reference_number, total: b.total, has_attachment: b.attachments.length > 0 }
}

function findBill(ctx: SandboxContext, id: string): SandboxBill {
  const bill = ctx.state.bills.get(id)
  if (!bill) throw new BooksError(404, 1002, 'Bill does not exist.')
  return bill
}

/** Auth, organization, limits and injected faults, in the order a caller would meet them. */
async function gatekeeper(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const route = (request.routeOptions.url ?? request.url.split('?')[0]!).replace(PREFIX, '')
  const endpoint = `${request.method} ${route}`
  ctx.count(endpoint)
  ctx.state.counters.booksRequests++
  const auth = /^Zoho-oauthtoken\s+(\S+)$/.exec(String(request.headers.authorization ?? ''))
  // The exact 401 code is not documented; 57 is what Zoho Books is reported to send for a bad token.
  if (!auth || !ctx.tokens.valid(auth[1]!)) return reply.code(401).send({ code: 57, message: 'You are not authorized to perform this operation' })
  const org = (request.query as Record<string, string | undefined>).organization_id ?? request.headers['x-com-zoho-books-organizationid']
  if (!org) return reply.code(400).send({ code: 6041, message: 'organization_id is required.' })
  if (org !== ctx.credentials.organizationId) return reply.code(400).send({ code: 6024, message: 'You are not a member of this organization.' })

  const refuse = (message: string) => {
    ctx.state.counters.responses429++
    // Zoho sends no Retry-After header with its 429.
    return reply.code(429).send({ code: 44, message })
  }
  if (Date.now() < ctx.faults.rateLimitStormUntil) return refuse('You have exceeded the maximum number of API requests per minute.')
  if (ctx.window.count() >= ctx.limits.ratePerMinute) return refuse('You have exceeded the maximum number of API requests per minute.')
  if (ctx.inFlight.n >= ctx.limits.concurrency) return refuse('You have exceeded the maximum number of concurrent API requests.')
  if (!ctx.daily.take(ctx.limits.dailyLimit)) return refuse('You have exceeded the maximum number of API requests per day.')

  const inWindow = ctx.window.add()
  const counters = ctx.state.counters
  counters.acceptedBooksRequests++
  counters.maxRequestsInAnyWindow = Math.max(counters.maxRequestsInAnyWindow, inWindow)
  ctx.inFlight.n++
  counters.maxConcurrent = Math.max(counters.maxConcurrent, ctx.inFlight.n)
  let done = false
  const release = () => {
    if (!done) ctx.inFlight.n--
    done = true
  }
  reply.raw.once('close', release)

  const latency = ctx.faults.latencyMs
  const ms = typeof latency === 'number' ? latency : latency.min + Math.random() * (latency.max - latency.min)
  if (ms > 0) await sleep(ms)
  if (Math.random() < ctx.faults.dropRate) {
    counters.faults.dropped++
    reply.hijack()
    request.raw.socket.destroy()
    return reply
  }
  if (Math.random() < ctx.faults.timeoutRate) {
    // Never answers: the caller's own timeout has to end it (the socket closes with the sandbox).
    counters.faults.timedOut++
    reply.hijack()
    release()
    return reply
  }
  if (Math.random() < ctx.faults.errorRate5xx) {
    counters.faults.errors++
    counters.responses5xx++
    return reply.code(500).send({ code: 1000, message: 'Internal error' })
  }
  return undefined
}

/** After a successful write, injected faults may hold the answer back or cut the connection before it. */
async function afterWrite(ctx: SandboxContext, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (ctx.faults.answerDelayMs > 0) await sleep(ctx.faults.answerDelayMs)
  if (Math.random() >= ctx.faults.loseAnswerAfterCreateRate) return false
  ctx.state.counters.faults.lostAnswers++
  reply.hijack()
  request.raw.socket.destroy()
  return true
}

async function readBillRequest(ctx: SandboxContext, request: FastifyRequest): Promise<{ json: Record<string, unknown>; attachment?: SandboxAttachment }> {
  if (!request.isMultipart()) return { json: (request.body ?? {}) as Record<string, unknown> }
  let json: Record<string, unknown> = {}
  let attachment: SandboxAttachment | undefined
  for await (const part of request.parts()) {
    if (part.type === 'field' && part.fieldname === 'JSONString') {
      try {
        json = JSON.parse(String(part.value)) as Record<string, unknown>
      } catch {
        throw new BooksError(400, 2, 'Invalid value passed for JSONString')
      }
    } else if (part.type === 'file') {
      const hash = createHash('sha256')
      let size = 0
      for await (const chunk of part.file) {
        size += (chunk as Buffer).length
        hash.update(chunk as Buffer)
      }
      if (part.file.truncated) throw new BooksError(400, 33003, `The file exceeds the maximum size of ${ctx.limits.maxAttachmentBytes} bytes.`)
      if (part.fieldname !== 'attachment') continue
      if (!ALLOWED_EXTENSIONS.test(part.filename)) throw new BooksError(400, 33004, 'Attach a file of type gif, png, jpeg, jpg, bmp or pdf.')
      attachment = { file_name: part.filename, size, sha256: hash.digest('hex') }
    }
  }
  return { json, ...(attachment ? { attachment } : {}) }
}

function billFields(ctx: SandboxContext, json: Record<string, unknown>, vendorId: string) {
  const lines = json.line_items
  if (!Array.isArray(lines) || lines.length === 0) throw new BooksError(400, 4, 'Please add at least one line item.')
  const line_items = lines.map((raw) => {
    const line = raw as { account_id?: string; description?: string; rate?: number; quantity?: number }
    if (!line.account_id || !ctx.state.accounts.has(line.account_id)) throw new BooksError(400, 4, `Invalid value passed for account_id: ${line.account_id ?? '(none)'}`)
    return { account_id: line.account_id, description: line.description, rate: Number(line.rate ?? 0), quantity: Number(line.quantity ?? 1) }
  })
  return {
    vendor_id: vendorId,
    bill_number: String(json.bill_number),
    date: json.date as string | undefined,
    due_date: json.due_date as string | undefined,
    reference_number: json.reference_number as string | undefined,
    notes: json.notes as string | undefined,
    line_items,
    custom_fields: (json.custom_fields as SandboxBill['custom_fields'] | undefined) ?? [],
    total: Math.round(line_items.reduce((sum, l) => sum + l.rate * l.quantity, 0) * 100) / 100,
  }
}

function createBill(ctx: SandboxContext, json: Record<string, unknown>, attachment: SandboxAttachment | undefined): SandboxBill {
  const vendorId = String(json.vendor_id ?? '')
  if (!ctx.state.contacts.has(vendorId)) throw new BooksError(400, 4, `Invalid value passed for vendor_id: ${vendorId || '(none)'}`)
  if (!json.bill_number) throw new BooksError(400, 4, 'Please enter the bill number.')
  // Zoho can be set to refuse a second bill with the same number for a vendor (code assumed); off by
  // default, so that exactly-once delivery is shown by billbridge, not enforced by the sandbox.
  if (ctx.rejectDuplicateBillNumbers && ctx.state.billsFor(String(json.bill_number), vendorId).length > 0) throw new BooksError(400, 13011, 'This bill number has already been used for this vendor.')
  const bill: SandboxBill = { bill_id: newId(), ...billFields(ctx, json, vendorId), attachments: attachment ? [attachment] : [], created_time: new Date().toISOString() }
  ctx.state.recordBill(bill)
  return bill
}
