import { createHmac } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RouteDeps } from '../../deps.ts'
import { retryTransactions } from '../../delivery/retry.ts'
import { AppError } from '../../errors.ts'
import { encodeCursor, resolveTransactions, type FailedFilter } from '../../repositories/failed.ts'
import { loadOverview } from '../../repositories/overview.ts'
import { isUuid } from '../../repositories/transactions.ts'
import { SANDBOX_CREDENTIALS } from '../../sandbox/server.ts'
import { layout, type Html } from './html.ts'
import { noticeQuery, noticeText } from './notices.ts'
import { operatorPages } from './operator.ts'
import { zohoBillLink } from './zoho-links.ts'
import { recordOperatorAction } from '../../audit/operator-actions.ts'
import { batchesPage, detailPage, failedPage, loginPage, overviewPage, type BatchRow } from './pages.ts'

const SESSION_COOKIE = 'bb_session'
const SESSION_HOURS = 8

declare module 'fastify' {
  interface FastifyRequest {
    adminKeyId: string | null
    adminKeyName: string | null
  }
}

/** The operators' dashboard under /admin: server-rendered pages, a signed session cookie, CSRF on every form. */
export async function dashboardRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  // The cookie secret is derived from TOKEN_ENCRYPTION_KEY so that every container signs alike.
  const secret = createHmac('sha256', deps.config.tokenEncryptionKey).update('billbridge dashboard session').digest('hex')
  await app.register(fastifyCookie, { secret })
  await app.register(fastifyFormbody)
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/cookie', cookieOpts: { path: '/admin', httpOnly: true, sameSite: 'strict' } })
  const organizationId = deps.config.zoho.mode === 'remote' ? deps.config.zoho.organizationId : SANDBOX_CREDENTIALS.organizationId

  app.decorateRequest('adminKeyId', null)
  app.decorateRequest('adminKeyName', null)
  const page = (reply: FastifyReply, title: string, body: Html, csrf?: string) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(layout(title, body, csrf === undefined ? {} : { csrf }))

  /** Pages need a live session of a key that still has the admin scope. */
  async function requireSession(request: FastifyRequest, reply: FastifyReply) {
    const cookie = request.cookies[SESSION_COOKIE]
    const unsigned = cookie ? request.unsignCookie(cookie) : null
    const [keyId, expires] = unsigned?.valid && unsigned.value ? unsigned.value.split('.') : []
    const key = keyId && Number(expires) > Date.now() && isUuid(keyId)
      ? await deps.db.selectFrom('api_keys').select(['id', 'name', 'scopes']).where('id', '=', keyId).where('revoked_at', 'is', null).executeTakeFirst()
      : undefined
    if (!key || !key.scopes.includes('admin')) return reply.redirect('/admin/login')
    request.adminKeyId = key.id
    request.adminKeyName = key.name
  }
  const guarded = { onRequest: requireSession, schema: { hide: true } }
  // The CSRF token travels in the form body, which is parsed only after onRequest: check it at preHandler.
  const guardedPost = { onRequest: requireSession, preHandler: app.csrfProtection, schema: { hide: true } }
  const secure = (request: FastifyRequest) => request.protocol === 'https'

  app.get('/admin/login', { schema: { hide: true } }, async (_request, reply) => {
    const token = reply.generateCsrf()
    return reply.type('text/html; charset=utf-8').send(layout('Log in', loginPage(token)))
  })


  app.post<{ Body: { apiKey?: string } }>('/admin/login', { preHandler: app.csrfProtection, schema: { hide: true } }, async (request, reply) => {
    const identity = request.body?.apiKey ? await deps.keys.authenticate(request.body.apiKey.trim()) : null
    if (!identity || !identity.scopes.includes('admin')) {
      const message = identity ? `The key "${identity.name}" has no admin scope.` : 'That API key is unknown or revoked.'
      return reply.code(identity ? 403 : 401).type('text/html; charset=utf-8').send(layout('Log in', loginPage(reply.generateCsrf(), message)))
    }
    const value = `${identity.id}.${Date.now() + SESSION_HOURS * 3_600_000}`
    await recordOperatorAction(deps.pool, { actor: identity.name, action: 'login', address: request.ip })
    reply.setCookie(SESSION_COOKIE, value, { path: '/admin', httpOnly: true, sameSite: 'strict', secure: secure(request), signed: true, maxAge: SESSION_HOURS * 3600 })
    return reply.redirect('/admin', 303)
  })

  app.post('/admin/logout', guardedPost, async (request, reply) => {
    await recordOperatorAction(deps.pool, { actor: request.adminKeyName!, action: 'logout', address: request.ip })
    reply.clearCookie(SESSION_COOKIE, { path: '/admin' })
    return reply.redirect('/admin/login', 303)
  })

  app.get('/admin', guarded, async (_request, reply) => page(reply, 'Overview', overviewPage(await loadOverview(deps.pool, deps.boss, organizationId)), reply.generateCsrf()))

  app.get<{ Querystring: FailedFilter & { cursor?: string; notice?: string; n?: string } }>('/admin/failed', guarded, async (request, reply) => {
    const { cursor, notice, n, ...filter } = request.query
    const clean = cleanFilter(filter)
    const [{ rows, next }, matching] = await Promise.all([deps.failed.page(clean, cursor), deps.failed.count(clean)])
    return page(reply, 'Failed bills', failedPage(clean, rows, next, matching, reply.generateCsrf(), noticeText(notice, n)), reply.generateCsrf())
  })

  app.post<{ Body: FailedFilter & { id?: string | string[]; all?: string } }>('/admin/failed/retry', guardedPost, async (request, reply) => {
    const { id, all, ...filter } = request.body ?? {}
    const clean = cleanFilter(filter)
    const ids = all === '1' ? await deps.failed.ids(clean) : (Array.isArray(id) ? id : id ? [id] : []).filter(isUuid)
    const { retried } = await retryTransactions(deps.pool, deps.boss, ids, { actor: request.adminKeyName!, address: request.ip, bulk: true, ...(all === '1' ? { filter: { ...clean } } : {}) })
    return reply.redirect(`/admin/failed?${noticeQuery('requeued', retried.length)}`, 303)
  })

  app.get<{ Params: { id: string }; Querystring: { notice?: string; n?: string } }>('/admin/transactions/:id', guarded, async (request, reply) => {
    const found = await deps.transactions.findById(request.params.id)
    if (!found) throw new AppError('TRANSACTION_NOT_FOUND', `no transaction with id ${request.params.id}`, 404)
    const row = await deps.db.selectFrom('transactions').select('bill').where('id', '=', found.id).executeTakeFirstOrThrow()
    return page(reply, `Bill ${found.billNumber}`, detailPage(found, row.bill as Record<string, unknown>, reply.generateCsrf(), noticeText(request.query.notice, request.query.n), zohoBillLink(deps, found.zohoBillId)), reply.generateCsrf())
  })

  app.get<{ Params: { id: string }; Querystring: { download?: string } }>('/admin/transactions/:id/pdf', guarded, async (request, reply) => {
    if (!isUuid(request.params.id)) throw new AppError('TRANSACTION_NOT_FOUND', 'no such transaction', 404)
    const row = await deps.db.selectFrom('transactions').select(['blob_key', 'file_name', 'size_bytes']).where('id', '=', request.params.id).executeTakeFirst()
    if (!row) throw new AppError('TRANSACTION_NOT_FOUND', 'no such transaction', 404)
    const disposition = request.query.download ? 'attachment' : 'inline'
    reply.header('content-type', 'application/pdf').header('content-length', row.size_bytes)
      .header('content-disposition', `${disposition}; filename="${row.file_name.replace(/["\\\r\n]/g, '_')}"`)
      .header('content-security-policy', "default-src 'none'; sandbox").header('x-content-type-options', 'nosniff')
    return reply.send(await deps.blobs.get(row.blob_key))
  })

  app.post<{ Params: { id: string } }>('/admin/transactions/:id/retry', guardedPost, async (request, reply) => {
    const { retried } = await retryTransactions(deps.pool, deps.boss, [request.params.id].filter(isUuid), { actor: request.adminKeyName!, address: request.ip })
    return reply.redirect(`/admin/transactions/${request.params.id}?${noticeQuery(retried.length ? 'requeued-one' : 'not-failed-retry')}`, 303)
  })

  app.post<{ Params: { id: string }; Body: { note?: string } }>('/admin/transactions/:id/resolve', guardedPost, async (request, reply) => {
    const done = await resolveTransactions(deps.db, [request.params.id].filter(isUuid), { actor: request.adminKeyName!, address: request.ip, note: request.body?.note ?? '' })
    return reply.redirect(`/admin/transactions/${request.params.id}?${noticeQuery(done.length ? 'resolved' : 'not-failed-resolve')}`, 303)
  })

  operatorPages(app, deps, { guarded, guardedPost, page, organizationId, cleanFilter })

  app.get<{ Querystring: { cursor?: string } }>('/admin/batches', guarded, async (request, reply) => {
    const { rows, next } = await recentBatches(deps, request.query.cursor)
    return page(reply, 'Batches', batchesPage(rows, next), reply.generateCsrf())
  })
}

function cleanFilter(filter: FailedFilter): FailedFilter {
  const out: FailedFilter = {}
  for (const key of ['from', 'to', 'vendor', 'errorCode', 'batch'] as const) {
    const value = filter[key]?.trim()
    if (value) out[key] = value
  }
  return out
}

async function recentBatches(deps: RouteDeps, cursor: string | undefined, limit = 50): Promise<{ rows: BatchRow[]; next: string | null }> {
  let q = deps.db.selectFrom('batches').select(['id', 'client_batch_id', 'created_at', 'accepted', 'rejected'])
  if (cursor) {
    const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|')
    if (!id || !isUuid(id) || Number.isNaN(new Date(at ?? '').getTime())) throw new AppError('CURSOR_INVALID', 'the page cursor is not valid', 400)
    q = q.where((eb) => eb.or([eb('created_at', '<', new Date(at!)), eb.and([eb('created_at', '=', new Date(at!)), eb('id', '<', id)])]))
  }
  const batches = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute()
  const pageRows = batches.slice(0, limit)
  const ids = pageRows.map((b) => b.id)
  const counts = ids.length
    ? await deps.pool.query<{ batch_id: string; status: string; n: string }>('SELECT batch_id, status, count(*) AS n FROM transactions WHERE batch_id = ANY($1::uuid[]) GROUP BY 1, 2', [ids])
    : { rows: [] }
  const count = (id: string, status: string) => Number(counts.rows.find((r) => r.batch_id === id && r.status === status)?.n ?? 0)
  return {
    rows: pageRows.map((b) => ({ id: b.id, batchId: b.client_batch_id ?? b.id, createdAt: b.created_at, accepted: b.accepted, rejected: b.rejected, delivered: count(b.id, 'delivered'), failed: count(b.id, 'failed') })),
    next: batches.length > limit ? encodeCursor({ createdAt: pageRows.at(-1)!.created_at, id: pageRows.at(-1)!.id }) : null,
  }
}
