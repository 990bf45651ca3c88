/**
 * The only notices a page shows after an action: `?notice=` names one of these, with an optional count
 * `n`, so a crafted link cannot put words on the dashboard.
 */
const NOTICES = {
  requeued: (n: number) => `Requeued ${n} bill${n === 1 ? '' : 's'} for delivery.`,
  'requeued-one': () => 'Requeued for delivery.',
  'not-failed-retry': () => 'Nothing to retry: the bill is not failed.',
  resolved: () => 'Marked resolved.',
  'not-failed-resolve': () => 'Nothing to resolve: the bill is not failed.',
  mapped: () => 'Mapping saved.',
  'mapped-requeued': (n: number) => `Mapping saved; requeued ${n} failed bill${n === 1 ? '' : 's'} for delivery.`,
  'chart-refreshed': (n: number) => `Chart of accounts read from Zoho: ${n} accounts.`,
  'reconcile-queued': () => 'Reconciliation queued: a worker runs it now; reload this page to see it.',
  'reconcile-already-queued': () => 'A reconciliation is already waiting to run.',
  'difference-redelivered': () => 'The bill is queued for delivery again; the difference is resolved.',
  'difference-settled': () => 'Difference resolved.',
  'difference-not-open': () => 'That difference is no longer open.',
  'difference-not-redeliverable': () => 'Nothing to deliver again: only a delivered bill missing in Zoho can be delivered again.',
} satisfies Record<string, (n: number) => string>

export type NoticeKey = keyof typeof NOTICES

export function noticeText(key: string | undefined, n?: string): string | undefined {
  if (!key || !Object.hasOwn(NOTICES, key)) return undefined
  const count = Number(n ?? 0)
  return NOTICES[key as NoticeKey](Number.isSafeInteger(count) && count >= 0 ? count : 0)
}

export function noticeQuery(key: NoticeKey, n?: number): string {
  return `notice=${key}${n === undefined ? '' : `&n=${n}`}`
}
