import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RouteDeps } from '../../deps.ts'
import { retryTransactions } from '../../delivery/retry.ts'
import { createAdminSessions, installSecret } from '../../auth/admin-sessions.ts'
import { AppError } from '../../errors.ts'
import { encodeCursor, resolveTransactions, type FailedFilter } from '../../repositories/failed.ts'
import { loadBacklog } from '../../repositories/backlog.ts'
import { loadOverview } from '../../repositories/overview.ts'
import { isUuid, listVersions } from '../../repositories/transactions.ts'
import { defaultOrganization } from '../../zoho/organizations.ts'
import { contentDisposition } from '../../http/content-disposition.ts'
import { layout, type Html } from './html.ts'
import { noticeQuery, noticeText } from './notices.ts'
import { operatorPages } from './operator.ts'
import { organizationViews } from './organizations.ts'
import { reconciliationPages } from './reconciliation.ts'
import { zohoBillLink } from './zoho-links.ts'
import { recordOperatorAction } from '../../audit/operator-actions.ts'
import { batchesPage, detailPage, failedPage, filterQuery, loginPage, overviewPage, type BatchRow } from './pages.ts'

const SESSION_COOKIE = 'bb_session'
/** The overview reloads itself (a meta refresh: no script), so the backlog's ETA stays current on a wall screen. */
const OVERVIEW_REFRESH_SECONDS = 30

declare module 'fastify' {
  interface FastifyRequest {
    adminKeyId: string | null
    adminSessionId: string | null
    adminKeyName: string | null
  }
}

/** The operators' dashboard under /admin: server-rendered pages, server-side sessions, CSRF bound to the session. */
export async function dashboardRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  // A random secret per install, kept in the database: never derived from a key that has a default.
  const secret = await installSecret(deps.pool, 'dashboard-cookie')
  const sessions = createAdminSessions(deps.pool, deps.config.adminSessionHours)
  await app.register(fastifyCookie, { secret: secret.toString('hex') })
  await app.register(fastifyFormbody)
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieOpts: { path: '/admin', httpOnly: true, sameSite: 'strict', signed: true },
    // A token is good only for the session it was made for (before login: for the login form).
    getUserInfo: (request: FastifyRequest) => request.adminSessionId ?? 'login',
    csrfOpts: { hmacKey: secret },
  })
  const { organizationId } = defaultOrganization(deps.organizations)
  const organizations = organizationViews(deps.organizations)
  const secure = (request: FastifyRequest) => request.protocol === 'https'
  const csrfFor = (request: FastifyRequest, reply: FastifyReply) => reply.generateCsrf({ userInfo: request.adminSessionId ?? 'login', secure: secure(request) } as never)

  app.decorateRequest('adminKeyId', null)
  app.decorateRequest('adminSessionId', null)
  app.decorateRequest('adminKeyName', null)
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/admin') && String(reply.getHeader('content-type') ?? '').startsWith('text/html')) setPageHeaders(reply)
  })
  const page = (reply: FastifyReply, title: string, body: Html, csrf?: string, refreshSeconds?: number) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(layout(title, body, { ...(csrf === undefined ? {} : { csrf }), ...(refreshSeconds ? { refreshSeconds } : {}) }))

  /** Pages need a live server-side session of a key that still has the admin scope. */
  async function requireSession(request: FastifyRequest, reply: FastifyReply) {
    const cookie = request.cookies[SESSION_COOKIE]
    const unsigned = cookie ? request.unsignCookie(cookie) : null
    const session = unsigned?.valid && unsigned.value ? await sessions.find(unsigned.value) : null
    if (!session) return reply.redirect('/admin/login')
    request.adminKeyId = session.keyId
    request.adminSessionId = session.id
    request.adminKeyName = session.keyName
  }
  const guarded = { onRequest: requireSession, schema: { hide: true } }
  // The CSRF token travels in the form body, which is parsed only after onRequest: check it at preHandler.
  const guardedPost = { onRequest: requireSession, preHandler: app.csrfProtection, schema: { hide: true } }

  app.get('/admin/login', { schema: { hide: true } }, async (request, reply) => {
    return reply.type('text/html; charset=utf-8').send(layout('Log in', loginPage(csrfFor(request, reply))))
  })

  const throttle = async (request: FastifyRequest) => deps.authFailures.check(request.ip)
  app.post<{ Body: { apiKey?: string; _csrf?: string } }>('/admin/login', { onRequest: throttle, preHandler: app.csrfProtection, schema: { hide: true } }, async (request, reply) => {
    const identity = request.body?.apiKey ? await deps.keys.authenticate(request.body.apiKey.trim()) : null
    if (!identity || !identity.scopes.includes('admin')) {
      if (!identity) deps.authFailures.record(request.ip)
      const message = identity ? `The key "${identity.name}" has no admin scope.` : 'That API key is unknown or revoked.'
      return reply.code(identity ? 403 : 401).type('text/html; charset=utf-8').send(layout('Log in', loginPage(csrfFor(request, reply), message)))
    }
    const { token, maxAgeSeconds } = await sessions.create(identity.id)
    await recordOperatorAction(deps.pool, { actor: identity.name, action: 'login', address: request.ip })
    reply.setCookie(SESSION_COOKIE, token, { path: '/admin', httpOnly: true, sameSite: 'strict', secure: secure(request), signed: true, maxAge: maxAgeSeconds })
    return reply.redirect('/admin', 303)
  })

  app.post('/admin/logout', guardedPost, async (request, reply) => {
    await sessions.revoke(request.adminSessionId!)
    await recordOperatorAction(deps.pool, { actor: request.adminKeyName!, action: 'logout', address: request.ip })
    reply.clearCookie(SESSION_COOKIE, { path: '/admin' })
    return reply.redirect('/admin/login', 303)
  })

  app.get('/admin', guarded, async (request, reply) => {
    const [overview, backlog] = await Promise.all([loadOverview(deps.pool, deps.boss, deps.organizations), loadBacklog(deps.pool, deps.organizations)])
    return page(reply, 'Overview', overviewPage(overview, backlog), csrfFor(request, reply), OVERVIEW_REFRESH_SECONDS)
  })

  app.get<{ Querystring: FailedFilter & { cursor?: string; notice?: string; n?: string } }>('/admin/failed', guarded, async (request, reply) => {
    const { cursor, notice, n, ...filter } = request.query
    const clean = cleanFilter(filter)
    const [{ rows, next }, matching] = await Promise.all([deps.failed.page(clean, cursor), deps.failed.count(clean)])
    const csrf = csrfFor(request, reply)
    return page(reply, 'Failed bills', failedPage(clean, rows, next, matching, csrf, noticeText(notice, n), organizations), csrf)
  })

  app.post<{ Body: FailedFilter & { id?: string | string[]; all?: string } }>('/admin/failed/retry', guardedPost, async (request, reply) => {
    const { id, all, ...filter } = request.body ?? {}
    const clean = cleanFilter(filter)
    const ids = all === '1' ? await deps.failed.ids(clean) : (Array.isArray(id) ? id : id ? [id] : []).filter(isUuid)
    const { retried } = await retryTransactions(deps.pool, deps.boss, ids, { actor: request.adminKeyName!, address: request.ip, bulk: true, ...(all === '1' ? { filter: { ...clean } } : {}) })
    // Back to the list the operator was looking at, with its filter.
    const back = filterQuery(clean)
    return reply.redirect(`/admin/failed?${back ? `${back}&` : ''}${noticeQuery('requeued', retried.length)}`, 303)
  })

  app.get<{ Params: { id: string }; Querystring: { notice?: string; n?: string } }>('/admin/transactions/:id', guarded, async (request, reply) => {
    const found = await deps.transactions.findById(request.params.id)
    if (!found) throw new AppError('TRANSACTION_NOT_FOUND', `no transaction with id ${request.params.id}`, 404)
    const row = await deps.db.selectFrom('transactions').select('bill').where('id', '=', found.id).executeTakeFirstOrThrow()
    const csrf = csrfFor(request, reply)
    const versions = await listVersions(deps.db, found.id)
    return page(reply, `Bill ${found.billNumber}`, detailPage(found, row.bill as Record<string, unknown>, csrf, noticeText(request.query.notice, request.query.n), zohoBillLink(deps, found.zohoBillId, found.organization.id), versions), csrf)
  })

  app.get<{ Params: { id: string }; Querystring: { download?: string } }>('/admin/transactions/:id/pdf', guarded, async (request, reply) => {
    if (!isUuid(request.params.id)) throw new AppError('TRANSACTION_NOT_FOUND', 'no such transaction', 404)
    const row = await deps.db.selectFrom('transactions').select(['blob_key', 'file_name', 'size_bytes']).where('id', '=', request.params.id).executeTakeFirst()
    if (!row) throw new AppError('TRANSACTION_NOT_FOUND', 'no such transaction', 404)
    // Open the PDF before any header is set: a store error then answers with its own length, not the PDF's.
    const body = await deps.blobs.get(row.blob_key)
    const disposition = request.query.download ? 'attachment' : 'inline'
    reply.header('content-type', 'application/pdf').header('content-length', row.size_bytes)
      .header('content-disposition', contentDisposition(disposition, row.file_name))
      .header('content-security-policy', "default-src 'none'; sandbox").header('x-content-type-options', 'nosniff')
    return reply.send(body)
  })

  app.post<{ Params: { id: string } }>('/admin/transactions/:id/retry', guardedPost, async (request, reply) => {
    const { retried } = await retryTransactions(deps.pool, deps.boss, [request.params.id].filter(isUuid), { actor: request.adminKeyName!, address: request.ip })
    return reply.redirect(`/admin/transactions/${request.params.id}?${noticeQuery(retried.length ? 'requeued-one' : 'not-failed-retry')}`, 303)
  })

  app.post<{ Params: { id: string }; Body: { note?: string } }>('/admin/transactions/:id/resolve', guardedPost, async (request, reply) => {
    const done = await resolveTransactions(deps.db, [request.params.id].filter(isUuid), { actor: request.adminKeyName!, address: request.ip, note: request.body?.note ?? '' })
    return reply.redirect(`/admin/transactions/${request.params.id}?${noticeQuery(done.length ? 'resolved' : 'not-failed-resolve')}`, 303)
  })

  operatorPages(app, deps, { guarded, guardedPost, page, csrf: csrfFor, organizationId, cleanFilter })
  reconciliationPages(app, deps, { guarded, guardedPost, page, csrf: csrfFor })

  app.get<{ Querystring: { cursor?: string } }>('/admin/batches', guarded, async (request, reply) => {
    const { rows, next } = await recentBatches(deps, request.query.cursor)
    return page(reply, 'Batches', batchesPage(rows, next), csrfFor(request, reply))
  })
}

// No inline script, no framing, no referrer leaving the dashboard; the inline stylesheet is the one exception.
function setPageHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    .header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff')
}

function cleanFilter(filter: FailedFilter): FailedFilter {
  const out: FailedFilter = {}
  for (const key of ['from', 'to', 'vendor', 'errorCode', 'batch', 'organization'] as const) {
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
    rows: pageRows.map((b) => {
      const waiting = count(b.id, 'received') + count(b.id, 'queued') + count(b.id, 'processing')
      const [delivered, failed, resolved] = [count(b.id, 'delivered'), count(b.id, 'failed'), count(b.id, 'resolved')]
      // Accepted items that are not this batch's rows: duplicates of known bills, or bills sent again in a later batch.
      const elsewhere = Math.max(0, b.accepted - waiting - delivered - failed - resolved)
      return { id: b.id, batchId: b.client_batch_id ?? b.id, createdAt: b.created_at, accepted: b.accepted, rejected: b.rejected, waiting, delivered, failed, resolved, elsewhere }
    }),
    next: batches.length > limit ? encodeCursor({ createdAt: pageRows.at(-1)!.created_at, id: pageRows.at(-1)!.id }) : null,
  }
}
