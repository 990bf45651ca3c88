/** What the ETA of a backlog is computed from: one organization's figures at one moment. */
export interface EtaInput {
  now: Date
  billsWaiting: number
  /** bills delivered per minute over the recent window; 0 when none was */
  pacePerMinute: number
  /** Zoho requests one delivered bill costs (measured, or assumed) */
  requestsPerBill: number
  /** requests the daily quota still allows today (UTC day) */
  requestsLeftToday: number
  dailyLimit: number
  /** requests per minute the rate bucket lets through (ZOHO_RATE_PER_MINUTE less its slack) */
  budgetPerMinute: number
  /** a pause in force: after a 429, or until the quota day ends after the daily limit was hit */
  pausedUntil: Date | null
}

export interface Eta {
  /** when the last waiting bill should be in Zoho; null when it cannot be said (beyond `MAX_DAYS`) */
  at: Date | null
  seconds: number | null
  /** 'empty': nothing waits; 'pace': at the pace measured now; 'budget': nothing moved lately, so at the bucket's rate once the pause ends */
  basis: 'empty' | 'pace' | 'budget'
  /** 'quota': the daily quota runs out before the backlog, which waits for the next reset(s); 'pace': the pace alone sets the time */
  limitedBy: 'pace' | 'quota' | null
  /** quota days (UTC midnights) the backlog waits through before it is all in Zoho */
  resets: number
  requestsNeeded: number
}

/** Beyond a year the figure says nothing useful (a quota far too small for the backlog). */
export const MAX_DAYS = 366

/** Zoho's daily quota starts again at the next UTC midnight (docs/zoho.md; rate-limiter.ts counts the same day). */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
}

/**
 * When the backlog will be in Zoho: bills go at the measured pace (or, when nothing moved lately, at the
 * rate the bucket allows) until today's quota is spent; the rest waits for the next UTC midnight and goes
 * on at the full daily quota per day.
 */
export function backlogEta(input: EtaInput): Eta {
  const perBill = Math.max(input.requestsPerBill, Number.EPSILON)
  const requestsNeeded = Math.ceil(input.billsWaiting * input.requestsPerBill)
  if (input.billsWaiting <= 0) return { at: input.now, seconds: 0, basis: 'empty', limitedBy: null, resets: 0, requestsNeeded: 0 }
  const basis = input.pacePerMinute > 0 ? 'pace' : 'budget'
  const billsPerMs = (basis === 'pace' ? input.pacePerMinute : input.budgetPerMinute / perBill) / 60_000
  const unknown = { at: null, seconds: null, basis, limitedBy: 'quota', resets: MAX_DAYS, requestsNeeded } as const
  if (billsPerMs <= 0 || input.dailyLimit <= 0) return unknown

  const todayEnds = nextUtcMidnight(input.now).getTime()
  let t = Math.max(input.now.getTime(), input.pausedUntil?.getTime() ?? 0)
  // A pause that runs past midnight starts on a new quota day.
  let quota = t >= todayEnds ? input.dailyLimit : Math.max(0, input.requestsLeftToday)
  let resets = t >= todayEnds ? Math.floor((t - todayEnds) / 86_400_000) + 1 : 0
  let remaining = input.billsWaiting
  // Waiting for a reset before the first bill (the daily limit's pause) is the quota's doing too.
  let limitedBy: 'pace' | 'quota' = resets > 0 ? 'quota' : 'pace'
  for (let day = 0; day <= MAX_DAYS; day += 1) {
    const dayEnds = nextUtcMidnight(new Date(t)).getTime()
    const byQuota = quota / perBill
    const byTime = billsPerMs * (dayEnds - t)
    if (remaining <= byQuota && remaining <= byTime) {
      const at = new Date(t + remaining / billsPerMs)
      return { at, seconds: Math.max(0, Math.round((at.getTime() - input.now.getTime()) / 1000)), basis, limitedBy, resets, requestsNeeded }
    }
    if (byQuota < byTime) limitedBy = 'quota'
    remaining -= Math.min(byQuota, byTime)
    t = dayEnds
    quota = input.dailyLimit
    resets += 1
  }
  return unknown
}
