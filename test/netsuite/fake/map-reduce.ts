import { SuiteScriptError } from './errors.ts'
import type { ScriptEnv } from './env.ts'
import { Meter, type Stage } from './governance.ts'
import { MAX_KEY_CHARS, MAX_PERSISTED_BYTES, MAX_VALUE_BYTES, STAGE_UNITS } from './limits.ts'

export interface MapReduceScript {
  getInputData(context: unknown): unknown
  map(context: unknown): void
  reduce(context: unknown): void
  summarize(summary: unknown): void
}

export interface RunReport {
  peakUnits: Record<Stage, number>
  invocations: Record<Stage, number>
  peakPersistedBytes: number
  peakValueBytes: number
  peakKeyChars: number
  errors: Array<{ stage: Stage; key: string; name: string; message: string }>
  persistedLimitHit: boolean
  output: Array<[string, string]>
}

export interface RunOptions {
  /** Re-run this invocation as NetSuite does after a server restart: its side effects stay, its writes are redone. */
  restart?: (stage: Stage, key: string) => boolean
}

class PersistedLimit extends Error {}

/** Each stage as "Map/Reduce Script Stages" describes it, with the limits of limits.ts enforced. */
export function runMapReduce(env: ScriptEnv, script: MapReduceScript, options: RunOptions = {}): RunReport {
  const report: RunReport = {
    peakUnits: { getInputData: 0, map: 0, reduce: 0, summarize: 0 },
    invocations: { getInputData: 0, map: 0, reduce: 0, summarize: 0 },
    peakPersistedBytes: 0,
    peakValueBytes: 0,
    peakKeyChars: 0,
    errors: [],
    persistedLimitHit: false,
    output: [],
  }
  let persisted = 0
  const errorsOf: Record<Stage, Array<[string, string]>> = { getInputData: [], map: [], reduce: [], summarize: [] }

  function hold(key: string, value: string): void {
    persisted += Buffer.byteLength(key) + Buffer.byteLength(value)
    report.peakPersistedBytes = Math.max(report.peakPersistedBytes, persisted)
    if (persisted > MAX_PERSISTED_BYTES) {
      report.persistedLimitHit = true
      throw new PersistedLimit()
    }
  }

  /** context.write as mapContext/reduceContext define it: key ≤ 3,000 characters, value ≤ 10 MB. */
  function writer(into: Array<[string, string]>) {
    return ({ key, value }: { key: unknown; value: unknown }) => {
      const k = String(key)
      const v = typeof value === 'string' ? value : JSON.stringify(value)
      if (k.length > MAX_KEY_CHARS) throw new SuiteScriptError('MAP_REDUCE_KEY_TOO_LONG', `a key of ${k.length} characters; at most ${MAX_KEY_CHARS}`)
      const bytes = Buffer.byteLength(v)
      if (bytes > MAX_VALUE_BYTES) throw new SuiteScriptError('MAP_REDUCE_VALUE_TOO_LARGE', `a value of ${bytes} bytes; at most ${MAX_VALUE_BYTES}`)
      report.peakKeyChars = Math.max(report.peakKeyChars, k.length)
      report.peakValueBytes = Math.max(report.peakValueBytes, bytes)
      into.push([k, v])
    }
  }

  /** One invocation with its own meter; an error is recorded for summarize, as NetSuite does. */
  function invoke(stage: Stage, key: string, call: (isRestarted: boolean) => void): boolean {
    const attempts = options.restart?.(stage, key) ? [false, true] : [false]
    let ok = true
    for (const isRestarted of attempts) {
      env.meter = new Meter(stage, env.clock)
      report.invocations[stage]++
      try {
        call(isRestarted)
        // NetSuite stops an invocation at its time limit wherever it is; the fake checks at each call and at the end.
        env.meter.checkTime(`end of ${stage}`)
        ok = true
      } catch (err) {
        if (err instanceof PersistedLimit) throw err
        const e = err as { name?: string; message?: string }
        report.errors.push({ stage, key, name: e.name ?? 'Error', message: e.message ?? String(err) })
        errorsOf[stage].push([key, JSON.stringify({ name: e.name, message: e.message })])
        ok = false
      } finally {
        report.peakUnits[stage] = Math.max(report.peakUnits[stage], env.meter.used)
      }
    }
    return ok
  }

  env.executionContext = 'MAPREDUCE'
  let inputError: string | null = null
  const shuffled = new Map<string, string[]>()
  try {
    let input: unknown = []
    const inputOk = invoke('getInputData', 'input', () => {
      input = script.getInputData({ isRestarted: false })
    })
    if (!inputOk) inputError = errorsOf.getInputData[0]?.[1] ?? 'error'
    const entries: Array<[string, string]> = Array.isArray(input)
      ? input.map((v, i) => [String(i), typeof v === 'string' ? v : JSON.stringify(v)])
      : Object.entries(input as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])
    for (const [k, v] of entries) hold(k, v)

    for (const [key, value] of entries) {
      let written: Array<[string, string]> = []
      invoke('map', key, (isRestarted) => {
        written = []
        script.map({ key, value, isRestarted, write: writer(written) })
      })
      for (const [k, v] of written) {
        hold(k, v)
        shuffled.set(k, [...(shuffled.get(k) ?? []), v])
      }
    }

    for (const [key, values] of shuffled) {
      let written: Array<[string, string]> = []
      invoke('reduce', key, (isRestarted) => {
        written = []
        script.reduce({ key, values: [...values], isRestarted, write: writer(written) })
      })
      for (const [k, v] of written) {
        hold(k, v)
        report.output.push([k, v])
      }
    }
  } catch (err) {
    if (!(err instanceof PersistedLimit)) throw err
    inputError = JSON.stringify({ name: 'PERSISTED_DATA_LIMIT_FOR_MAPREDUCE_SCRIPT_EXCEEDED', message: `more than ${MAX_PERSISTED_BYTES} bytes held between stages` })
    report.errors.push({ stage: 'map', key: '', name: 'PERSISTED_DATA_LIMIT_FOR_MAPREDUCE_SCRIPT_EXCEEDED', message: 'persisted data limit' })
  }

  const iterate = (pairs: Array<[string, string]>) => ({ iterator: () => ({ each: (fn: (key: string, value: string) => boolean) => { for (const [k, v] of pairs) if (!fn(k, v)) break } }) })
  invoke('summarize', 'summary', () => {
    script.summarize({
      isRestarted: false,
      inputSummary: { error: inputError },
      mapSummary: { errors: iterate(errorsOf.map), keys: iterate([]) },
      reduceSummary: { errors: iterate(errorsOf.reduce), keys: iterate([]) },
      output: iterate(report.output),
    })
  })
  return report
}

export const STAGE_LIMITS = STAGE_UNITS
