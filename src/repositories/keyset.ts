import { AppError } from '../errors.ts'

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** A page cursor: the last row's time and id, opaque to the browser. */
export function encodeKeyset(at: Date, id: string | number): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url')
}

export function decodeKeyset(cursor: string): [string, string] {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|')
  if (!at || !id || Number.isNaN(new Date(at).getTime())) throw new AppError('CURSOR_INVALID', 'the page cursor is not valid; start from the first page', 400)
  return [at, id]
}

/** from/to as YYYY-MM-DD (UTC days, to inclusive) → a half-open time range; anything else is FILTER_INVALID. */
export function dayFilter(filter: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const out: { from?: Date; to?: Date } = {}
  for (const name of ['from', 'to'] as const) {
    const value = filter[name]
    if (!value) continue
    const day = new Date(`${value}T00:00:00Z`)
    if (!DAY.test(value) || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) throw new AppError('FILTER_INVALID', `${name} must be a real date as YYYY-MM-DD`, 400)
    out[name] = name === 'to' ? new Date(day.getTime() + 86_400_000) : day
  }
  if (out.from && out.to && out.from >= out.to) throw new AppError('FILTER_INVALID', 'from must not be after to', 400)
  return out
}

/** A LIKE pattern matching values that start with `term`, any case (compare with lower(column)). */
export function likePrefix(term: string): string {
  return `${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}
