import { createHash } from 'node:crypto'
import { LongString } from './json-scan.ts'

/**
 * A SHA-256 over a batch's canonical content, fed bill by bill as each object closes: every bill's fields as
 * scanned, keys in code-unit order at every level, then its attachment's content hash. Whitespace and key
 * order in the JSON change nothing; any changed field or PDF changes the digest. The PDFs are never held:
 * their hash is taken as they stream.
 */
export class BatchFingerprint {
  private readonly hash = createHash('sha256')

  /** bill: as the scanner gave it (contentBase64 taken out when streamed); content: SHA-256 of that contentBase64 */
  addBill(bill: Record<string, unknown>, content: string | null): void {
    this.hash.update(canonicalJson(bill)).update('\n').update(content ?? '-').update('\n')
  }

  digest(): string {
    return this.hash.digest('hex')
  }
}

/** JSON with object keys sorted; a LongString as "~" and its hash, which no JSON text can look like. */
export function canonicalJson(value: unknown): string {
  if (value instanceof LongString) return `~${value.sha256}`
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record).sort()
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`
  }
  return JSON.stringify(value)
}
