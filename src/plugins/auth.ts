import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { ApiKeyIdentity, ApiKeyRepository } from '../auth/api-keys.ts'
import type { Scope } from '../db/schema.ts'
import { AppError } from '../errors.ts'

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyIdentity | null
  }
  interface FastifyInstance {
    /** An onRequest hook admitting only a valid, unrevoked API key that carries the scope. */
    requireScope(scope: Scope): onRequestHookHandler
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i

async function authPlugin(app: FastifyInstance, options: { keys: ApiKeyRepository }): Promise<void> {
  app.decorateRequest('apiKey', null)
  app.decorate('requireScope', (scope: Scope) => {
    return async function requireScope(request: FastifyRequest, _reply: FastifyReply) {
      const header = request.headers.authorization
      const match = header ? BEARER.exec(header) : null
      if (!match) throw new AppError('UNAUTHENTICATED', 'missing API key: send the header "Authorization: Bearer <api key>"', 401)
      const identity = await options.keys.authenticate(match[1]!)
      if (!identity) throw new AppError('UNAUTHENTICATED', 'the API key is unknown or revoked', 401)
      if (!identity.scopes.includes(scope)) {
        throw new AppError('FORBIDDEN', `the API key "${identity.name}" lacks the "${scope}" scope this endpoint needs`, 403)
      }
      request.apiKey = identity
    }
  })
}

export default fp(authPlugin, { name: 'billbridge-auth' })
