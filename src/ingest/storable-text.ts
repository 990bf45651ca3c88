/** Text PostgreSQL can store: no NUL character and no lone UTF-16 surrogate (a JSON escape like \ud800). */
export function isStorableText(value: string): boolean {
  return value.isWellFormed() && !value.includes('\u0000')
}
