import type { FakeAccount } from './account.ts'
import { Clock, Meter } from './governance.ts'

export interface HttpRequest { method: string; url: string; headers: Record<string, string>; body: string }
export interface HttpResponse { code: number; headers: Record<string, string>; body: string }
/** How a request leaves the fake NetSuite: a real HTTP call (in a worker) or a function in the test. */
export type Transport = (request: HttpRequest) => HttpResponse
/** A fault in place of the network: a timeout, a reset connection, or a canned answer; undefined lets it through. */
export type Fault = 'timeout' | 'reset' | HttpResponse | undefined

export interface LogEntry { level: string; title: string; details: string }

/** What every fake N/ module shares within one simulated account. */
export interface ScriptEnv {
  account: FakeAccount
  clock: Clock
  meter: Meter
  parameters: Record<string, unknown>
  executionContext: string
  transport: Transport
  fault: (request: HttpRequest) => Fault
  logs: LogEntry[]
  /** Hosts the script may call, mapped to where the test's server listens (NetSuite calls only https://). */
  hosts: Record<string, string>
}

export function createEnv(account: FakeAccount, transport: Transport, options: Partial<ScriptEnv> = {}): ScriptEnv {
  const clock = new Clock()
  return {
    account,
    clock,
    meter: new Meter('getInputData', clock),
    parameters: {},
    executionContext: 'MAPREDUCE',
    transport,
    fault: () => undefined,
    logs: [],
    hosts: {},
    ...options,
  }
}
