import t from 'tap'
import { backlogEta, MAX_DAYS, type EtaInput } from '../../src/delivery/backlog-eta.ts'

const at = (iso: string) => new Date(iso)
const base: EtaInput = {
  now: at('2026-11-30T10:00:00Z'), billsWaiting: 600, pacePerMinute: 60, requestsPerBill: 1, requestsLeftToday: 5_000, dailyLimit: 10_000,
  budgetPerMinute: 98, pausedUntil: null,
}

t.test('nothing waiting: done now, and said so', async (t) => {
  const eta = backlogEta({ ...base, billsWaiting: 0, pacePerMinute: 0 })
  t.same(eta, { at: base.now, seconds: 0, basis: 'empty', limitedBy: null, resets: 0, requestsNeeded: 0 })
})

t.test('pace-limited: the quota is ample, the pace sets the time', async (t) => {
  const eta = backlogEta(base)
  t.same([eta.at?.toISOString(), eta.seconds, eta.basis, eta.limitedBy, eta.resets, eta.requestsNeeded], ['2026-11-30T10:10:00.000Z', 600, 'pace', 'pace', 0, 600])
})

t.test('quota-limited: what today cannot take waits for the next UTC midnight', async (t) => {
  // 300 requests left today at 2 a bill: 150 bills by 22:02:30; 750 wait; 1,000 requests a day is 500 bills a day.
  const eta = backlogEta({ ...base, now: at('2026-11-30T22:00:00Z'), billsWaiting: 900, pacePerMinute: 60, requestsPerBill: 2, requestsLeftToday: 300, dailyLimit: 1_000 })
  t.equal(eta.limitedBy, 'quota')
  t.equal(eta.resets, 2, 'two midnights: 500 bills go on 1 December, the last 250 on 2 December')
  t.equal(eta.at?.toISOString(), '2026-12-02T00:04:10.000Z', '250 bills at 60 a minute after the second reset')
  t.equal(eta.requestsNeeded, 1_800)
})

t.test('the quota crosses midnight once: tomorrow, just after the reset', async (t) => {
  const eta = backlogEta({ ...base, now: at('2026-11-30T23:00:00Z'), billsWaiting: 900, pacePerMinute: 100, requestsPerBill: 1, requestsLeftToday: 300, dailyLimit: 10_000 })
  t.same([eta.at?.toISOString(), eta.limitedBy, eta.resets], ['2026-12-01T00:06:00.000Z', 'quota', 1])
  t.equal(eta.seconds, 66 * 60)
})

t.test('a pace that runs past midnight is still pace-limited, and the new day brings a full quota', async (t) => {
  const eta = backlogEta({ ...base, now: at('2026-11-30T23:55:00Z'), requestsLeftToday: 600 })
  t.same([eta.at?.toISOString(), eta.limitedBy, eta.resets], ['2026-12-01T00:05:00.000Z', 'pace', 1])
})

t.test('paused after a 429 with no recent delivery: at the budget, from the end of the pause', async (t) => {
  const eta = backlogEta({ ...base, billsWaiting: 98, pacePerMinute: 0, requestsPerBill: 2, pausedUntil: at('2026-11-30T10:01:00Z') })
  t.same([eta.at?.toISOString(), eta.basis, eta.limitedBy, eta.resets], ['2026-11-30T10:03:00.000Z', 'budget', 'pace', 0], '49 bills a minute from 10:01')
})

t.test('paused by the daily limit: the backlog starts at midnight, at the budget', async (t) => {
  const eta = backlogEta({ ...base, now: at('2026-11-30T15:00:00Z'), billsWaiting: 196, pacePerMinute: 0, requestsLeftToday: 0, dailyLimit: 1_000, pausedUntil: at('2026-12-01T00:00:00Z') })
  t.same([eta.at?.toISOString(), eta.basis, eta.limitedBy, eta.resets], ['2026-12-01T00:02:00.000Z', 'budget', 'quota', 1])
  const notBlocked = backlogEta({ ...base, now: at('2026-11-30T15:00:00Z'), billsWaiting: 196, pacePerMinute: 0, requestsLeftToday: 0, dailyLimit: 1_000, pausedUntil: null })
  t.same([notBlocked.at?.toISOString(), notBlocked.limitedBy, notBlocked.resets], ['2026-12-01T00:02:00.000Z', 'quota', 1], 'the spent counter alone says the same')
})

t.test('a quota far too small for the backlog: no time is given', async (t) => {
  const eta = backlogEta({ ...base, billsWaiting: 10_000, dailyLimit: 10, requestsLeftToday: 10 })
  t.same([eta.at, eta.seconds, eta.limitedBy, eta.resets], [null, null, 'quota', MAX_DAYS])
})

t.test('a fractional cost per bill rounds the requests needed up', async (t) => {
  t.equal(backlogEta({ ...base, billsWaiting: 3, requestsPerBill: 1.5 }).requestsNeeded, 5)
})
