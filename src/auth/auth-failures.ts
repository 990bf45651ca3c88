import { AppError } from '../errors.ts'

const WINDOW_MS = 60_000
// Beyond this many tracked addresses, windows that have ended are dropped first.
const MAX_TRACKED = 50_000

/**
 * Failed authentications per client IP in fixed one-minute windows, in this process: past the limit every
 * authentication from that IP is refused with 429 and Retry-After until the window ends, so keys cannot be guessed at speed.
 */
export function createAuthFailureLimiter(perMinute: number, now: () => number = Date.now) {
  const windows = new Map<string, { start: number; failures: number }>()

  function current(ip: string) {
    const window = windows.get(ip)
    return window && now() - window.start < WINDOW_MS ? window : undefined
  }

  return {
    record(ip: string): void {
      const window = current(ip)
      if (window) window.failures++
      else {
        if (windows.size >= MAX_TRACKED) for (const [key, w] of windows) if (now() - w.start >= WINDOW_MS) windows.delete(key)
        windows.set(ip, { start: now(), failures: 1 })
      }
    },

    /** Throws 429 AUTH_THROTTLED while the IP is over its limit. */
    check(ip: string): void {
      const window = current(ip)
      if (!window || window.failures < perMinute) return
      const retryAfter = Math.max(1, Math.ceil((window.start + WINDOW_MS - now()) / 1000))
      throw new AppError('AUTH_THROTTLED', `too many failed authentications from this address (AUTH_FAILURES_PER_MINUTE=${perMinute}); try again in ${retryAfter} s`, 429, { retryAfterSeconds: retryAfter })
    },
  }
}

export type AuthFailureLimiter = ReturnType<typeof createAuthFailureLimiter>
