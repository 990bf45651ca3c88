/** Timestamps of accepted requests over the last `windowMs`; counts any sliding window exactly. */
export class SlidingWindow {
  private readonly windowMs: number
  private stamps: number[] = []
  private head = 0

  constructor(windowMs = 60_000) {
    this.windowMs = windowMs
  }

  /** Requests accepted in the window ending now. */
  count(now = Date.now()): number {
    while (this.head < this.stamps.length && this.stamps[this.head]! <= now - this.windowMs) this.head++
    if (this.head > 4096) {
      this.stamps = this.stamps.slice(this.head)
      this.head = 0
    }
    return this.stamps.length - this.head
  }

  /** Records a request; returns how many fall in the window ending with it. */
  add(now = Date.now()): number {
    this.count(now)
    this.stamps.push(now)
    return this.stamps.length - this.head
  }

  /** ms until the oldest request in the window leaves it. */
  msUntilFree(now = Date.now()): number {
    this.count(now)
    const oldest = this.stamps[this.head]
    return oldest === undefined ? 0 : oldest + this.windowMs - now
  }

  clear(): void {
    this.stamps = []
    this.head = 0
  }
}

/** Requests counted per UTC day; Zoho's day boundary is not documented, UTC is the sandbox's choice. */
export class DailyCounter {
  private day = ''
  private n = 0

  private roll(now: Date): void {
    const today = now.toISOString().slice(0, 10)
    if (today !== this.day) {
      this.day = today
      this.n = 0
    }
  }

  allows(limit: number, now = new Date()): boolean {
    this.roll(now)
    return this.n < limit
  }

  take(now = new Date()): void {
    this.roll(now)
    this.n++
  }

  count(now = new Date()): number {
    this.roll(now)
    return this.n
  }

  clear(): void {
    this.day = ''
    this.n = 0
  }
}

/** The next UTC midnight after `now` (ms since epoch): when the sandbox's daily count starts again. */
export function nextUtcMidnight(now = Date.now()): number {
  const day = new Date(now)
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1)
}
