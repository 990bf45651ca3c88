// SuiteScript's https.post is synchronous; in Node the script runs in a worker thread that blocks on
// Atomics.wait while the main thread makes the real HTTP request and hands the answer back.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { request } from 'undici'
import { SuiteScriptError } from './errors.ts'
import type { HttpRequest, HttpResponse, Transport } from './env.ts'

/** The worker's side: a Transport that waits for the main thread's answer. */
export function syncTransport(port: MessagePort, signal: Int32Array): Transport {
  return (req: HttpRequest): HttpResponse => {
    Atomics.store(signal, 0, 0)
    port.postMessage(req)
    Atomics.wait(signal, 0, 0)
    const received = receiveMessageOnPort(port)
    if (!received) throw new Error('http bridge: woken without an answer')
    const answer = received.message as HttpResponse & { error?: string }
    if (answer.error) throw new SuiteScriptError('SSS_CONNECTION_CLOSED', answer.error)
    return answer
  }
}

/** The main thread's side: makes each request the worker asks for and wakes it with the answer. */
export function serveBridge(port: MessagePort, signal: Int32Array): void {
  port.on('message', async (req: HttpRequest) => {
    let answer: HttpResponse | { error: string }
    try {
      const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body, headersTimeout: 300_000, bodyTimeout: 300_000 })
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
      answer = { code: res.statusCode, headers, body: await res.body.text() }
    } catch (err) {
      answer = { error: (err as Error).message }
    }
    port.postMessage(answer)
    Atomics.store(signal, 0, 1)
    Atomics.notify(signal, 0)
  })
}
