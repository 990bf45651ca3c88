import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from '../../deps.ts'
import { backlogJson, loadBacklog } from '../../repositories/backlog.ts'
import { backlogAnswerSchema, exampleBacklog } from '../../schemas/backlog.ts'
import { AUTHENTICATED, bearerSecurity, errorReplies, reply } from '../../schemas/common.ts'

/** GET /v1/backlog: when the bills waiting will be in Zoho, per organization. */
export async function backlogRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.get('/v1/backlog', {
    onRequest: app.requireScope('read'),
    schema: {
      operationId: 'getBacklog',
      summary: 'Bills waiting and when they will be in Zoho',
      description: "Per Zoho organization: bills waiting, Zoho requests left today, the pace now (bills delivered per minute over the last 10 minutes), the requests a bill costs (last hour) and when the backlog will be in Zoho at that pace and quota. When the requests needed exceed what today's quota has left, the rest waits for the next UTC midnight and goes on at the daily quota per day, so the time can be tomorrow or later. When nothing was delivered lately (paused after a 429 or the daily limit), the time is reckoned at the rate bucket's pace from the pause's end. Scope `read`.",
      tags: ['read'],
      security: bearerSecurity,
      response: { 200: reply('The backlog per organization', backlogAnswerSchema, exampleBacklog), ...errorReplies(...AUTHENTICATED) },
    },
  }, async () => {
    const organizations = await loadBacklog(deps.pool, deps.organizations)
    return { measuredAt: (organizations[0]?.measuredAt ?? new Date()).toISOString(), organizations: organizations.map(backlogJson) }
  })
}
