import type { FastifyInstance } from 'fastify'
import { recordOperatorAction } from '../../audit/operator-actions.ts'
import type { RouteDeps } from '../../deps.ts'
import { RECONCILE_BOOKS_QUEUE } from '../../queue/boss.ts'
import { redeliver, settle, type ActionOutcome } from '../../reconcile/actions.ts'
import { openCounts } from '../../reconcile/store.ts'
import { createReconciliationRepository } from '../../repositories/reconciliation.ts'
import { noticeQuery, noticeText, type NoticeKey } from './notices.ts'
import type { AdminGuards } from './operator.ts'
import { reconciliationPage } from './reconciliation-pages.ts'

const OUTCOME_NOTICE: Record<ActionOutcome, NoticeKey> = { 'done': 'difference-settled', 'not-open': 'difference-not-open', 'not-redeliverable': 'difference-not-redeliverable' }
const postSchema = { hide: true, params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } } }

/** The reconciliation page: open differences by kind with their actions, and a button that queues a run. */
export function reconciliationPages(app: FastifyInstance, deps: RouteDeps, guards: Pick<AdminGuards, 'guarded' | 'guardedPost' | 'page' | 'csrf'>): void {
  const { guarded, guardedPost, page } = guards
  const repository = createReconciliationRepository(deps.pool)
  const names = new Map(deps.organizations.map((o) => [o.organizationId, o.name ?? o.label]))

  app.get<{ Querystring: { notice?: string; n?: string } }>('/admin/reconciliation', {
    ...guarded, schema: { hide: true, querystring: { type: 'object', additionalProperties: false, properties: { notice: { type: 'string', maxLength: 40 }, n: { type: 'string', maxLength: 10 } } } },
  }, async (request, reply) => {
    // The latest runs of every organization: a few each.
    const [rows, counts, runs] = await Promise.all([repository.open(), openCounts(deps.pool), repository.runs(5 * Math.max(1, names.size))])
    const csrf = guards.csrf(request, reply)
    return page(reply, 'Reconciliation', reconciliationPage(rows, counts, runs, csrf, names, noticeText(request.query.notice, request.query.n)), csrf)
  })

  // The run itself happens in a worker (it reaches Zoho through the workers' buckets): the button queues it, for every organization in turn.
  app.post('/admin/reconciliation/run', guardedPost, async (request, reply) => {
    const jobId = await deps.boss.send(RECONCILE_BOOKS_QUEUE, { trigger: 'dashboard' })
    await recordOperatorAction(deps.pool, { actor: request.adminKeyName!, action: 'reconcile_run', address: request.ip, detail: { queued: jobId !== null } })
    return reply.redirect(`/admin/reconciliation?${noticeQuery(jobId ? 'reconcile-queued' : 'reconcile-already-queued')}`, 303)
  })

  app.post<{ Params: { id: string } }>('/admin/reconciliation/:id/redeliver', { ...guardedPost, schema: postSchema }, async (request, reply) => {
    const outcome = await redeliver(deps.pool, deps.boss, request.params.id, { actor: request.adminKeyName!, address: request.ip })
    return reply.redirect(`/admin/reconciliation?${noticeQuery(outcome === 'done' ? 'difference-redelivered' : OUTCOME_NOTICE[outcome])}`, 303)
  })

  for (const [action, resolution] of [['accept', 'accepted'], ['review', 'reviewed']] as const) {
    app.post<{ Params: { id: string } }>(`/admin/reconciliation/:id/${action}`, { ...guardedPost, schema: postSchema }, async (request, reply) => {
      const outcome = await settle(deps.pool, request.params.id, resolution, { actor: request.adminKeyName!, address: request.ip })
      return reply.redirect(`/admin/reconciliation?${noticeQuery(OUTCOME_NOTICE[outcome])}`, 303)
    })
  }
}
