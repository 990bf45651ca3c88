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
