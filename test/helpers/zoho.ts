import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { sandboxZohoEnv, startZohoSandbox, type SandboxOptions, type ZohoSandbox } from '../../src/sandbox/server.ts'

/** A sandbox for one test, and the environment that points billbridge at it as if it were Zoho. */
export async function startSandbox(t: Test, options: Partial<SandboxOptions> = {}): Promise<{ sandbox: ZohoSandbox; env: Record<string, string> }> {
  const sandbox = await startZohoSandbox(options)
  t.teardown(() => sandbox.close())
  const env = {
    ...sandboxZohoEnv(sandbox),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ZOHO_TIMEOUT_MS: '2000',
    DELIVERY_RETRY_DELAY_SECONDS: '1',
    WORKER_CONCURRENCY: '3',
  }
  return { sandbox, env }
}

/** Polls until check() is truthy, up to a generous bound; a bound on waiting, never an assertion on speed. */
export async function waitFor<T>(check: () => Promise<T>, what: string, limitMs = 90_000): Promise<T> {
  const until = Date.now() + limitMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
