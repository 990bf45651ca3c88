import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { ApiKeyIdentity, ApiKeyRepository } from '../auth/api-keys.ts'
import type { AuthFailureLimiter } from '../auth/auth-failures.ts'
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

async function authPlugin(app: FastifyInstance, options: { keys: ApiKeyRepository; failures: AuthFailureLimiter }): Promise<void> {
  const unauthenticated = (request: FastifyRequest, message: string) => {
    options.failures.record(request.ip)
    return new AppError('UNAUTHENTICATED', message, 401)
  }

  app.decorateRequest('apiKey', null)
  app.decorate('requireScope', (scope: Scope) => {
    return async function requireScope(request: FastifyRequest, _reply: FastifyReply) {
      options.failures.check(request.ip)
      const header = request.headers.authorization
      const match = header ? BEARER.exec(header) : null
      if (!match) throw unauthenticated(request, 'missing API key: send the header "Authorization: Bearer <api key>"')
      const identity = await options.keys.authenticate(match[1]!)
      if (!identity) throw unauthenticated(request, 'the API key is unknown or revoked')
      if (!identity.scopes.includes(scope)) {
        throw new AppError('FORBIDDEN', `the API key "${identity.name}" lacks the "${scope}" scope this endpoint needs`, 403)
      }
      request.apiKey = identity
    }
  })
}

export default fp(authPlugin, { name: 'billbridge-auth' })
