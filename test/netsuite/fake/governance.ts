import { SuiteScriptError } from './errors.ts'
import { STAGE_SECONDS, STAGE_UNITS } from './limits.ts'

export type Stage = keyof typeof STAGE_UNITS

/** Script time: real time plus what simulated waits (HTTP timeouts) added; the script's Date reads it. */
export class Clock {
  private offsetMs = 0
  now(): number {
    return Date.now() + this.offsetMs
  }
  advance(ms: number): void {
    this.offsetMs += ms
  }
}

/** One invocation's usage units and time; every N/ call spends here and fails past the limits. */
export class Meter {
  readonly stage: Stage
  readonly limit: number
  used = 0
  private readonly startedAt: number
  private readonly clock: Clock
  constructor(stage: Stage, clock: Clock) {
    this.clock = clock
    this.stage = stage
    this.limit = STAGE_UNITS[stage]
    this.startedAt = clock.now()
  }
  spend(units: number, call: string): void {
    this.checkTime(call)
    if (this.used + units > this.limit) {
      throw new SuiteScriptError('SSS_USAGE_LIMIT_EXCEEDED', `${call} needs ${units} units; ${this.stage} has used ${this.used} of ${this.limit}`)
    }
    this.used += units
  }
  checkTime(call: string): void {
    const seconds = (this.clock.now() - this.startedAt) / 1000
    if (seconds > STAGE_SECONDS[this.stage]) throw new SuiteScriptError('SSS_TIME_LIMIT_EXCEEDED', `${call} after ${seconds.toFixed(0)} s; ${this.stage} may run ${STAGE_SECONDS[this.stage]} s`)
  }
  remaining(): number {
    return this.limit - this.used
  }
}
