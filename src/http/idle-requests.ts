import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { AppError } from '../errors.ts'

/**
 * A body that stops arriving for REQUEST_IDLE_TIMEOUT_MS gets a 408 REQUEST_TIMEOUT, then the connection closes:
 * the stalled body stream fails with that error, so the route's own clean-up runs and the usual error answer goes
 * out. A connection idle between requests, or one whose answer has started, is simply closed.
 */
export function answerStalledBodies(app: FastifyInstance, idleMs: number): void {
  const current = new WeakMap<Socket, FastifyReply>()
  app.addHook('onRequest', async (request, reply) => {
    current.set(request.raw.socket, reply)
  })
  app.server.on('timeout', (socket: Socket) => {
    const reply = current.get(socket)
    const raw = reply?.request.raw
    // Someone must be reading the body for its failure to become an answer; otherwise there is no one to answer.
    if (!reply || !raw || reply.sent || reply.raw.headersSent || raw.complete || raw.listenerCount('error') === 0) return void socket.destroy()
    raw.emit('error', new AppError('REQUEST_TIMEOUT', `the request body stopped arriving for ${idleMs} ms (REQUEST_IDLE_TIMEOUT_MS); nothing of it was kept: send it again`, 408))
    // The answer is small; a client that reads nothing must not hold the socket open.
    setTimeout(() => socket.destroy(), 5_000).unref()
  })
}
