import { AppError } from '../errors.ts'

export interface Base64Decoder {
  /** decoded bytes available so far (a partial quantum is kept for the next push) */
  push(text: string): Buffer
  end(): Buffer
}

const WHITESPACE = /[\r\n\t ]/g
const ALPHABET = /^[A-Za-z0-9+/]*$/

function invalid(detail: string): never {
  throw new AppError('ATTACHMENT_BASE64_INVALID', `attachment.contentBase64 is not valid base64: ${detail}`, 422)
}

/**
 * Streaming base64 decoding with the strict checks Buffer.from(…, 'base64') skips: the standard alphabet
 * only, '=' only as final padding, and a length that is a whole number of 4-character groups.
 * Line breaks and spaces (some encoders wrap at 76 columns) are ignored.
 */
export function createBase64Decoder(): Base64Decoder {
  let carry = ''
  let seen = 0
  let padded = false

  function check(text: string): void {
    if (ALPHABET.test(text)) return
    const bad = /[^A-Za-z0-9+/]/.exec(text)!
    const ch = bad[0]
    const where = `at character ${seen + bad.index}`
    if (ch === '=') invalid(`"=" padding in the middle ${where}`)
    if (ch === '-' || ch === '_') invalid(`"${ch}" ${where} is base64url; send standard base64 (+ and /)`)
    invalid(`unexpected character ${JSON.stringify(ch)} ${where}`)
  }

  /** The common case, checked cheaply: Node's decoder skips bad characters, so a short result means one was there. */
  function fast(text: string): Buffer | null {
    if (padded || text.indexOf('=') !== -1 || text.indexOf('-') !== -1 || text.indexOf('_') !== -1) return null
    const all = carry ? carry + text : text
    const whole = all.length - (all.length % 4)
    const out = Buffer.from(whole === all.length ? all : all.slice(0, whole), 'base64')
    if (out.length !== (whole / 4) * 3) return null
    // A line break can only hide in the short tail carried to the next piece.
    carry = all.slice(whole).replace(WHITESPACE, '')
    seen += text.length
    return out
  }

  return {
    push(text: string): Buffer {
      const quick = fast(text)
      if (quick) return quick
      if (padded) {
        const more = text.replace(WHITESPACE, '')
        if (!/^=*$/.test(more)) invalid('data after "=" padding')
        carry += more
        return Buffer.alloc(0)
      }
      let clean = text.includes('\n') || text.includes('\r') || text.includes(' ') || text.includes('\t') ? text.replace(WHITESPACE, '') : text
      const pad = clean.indexOf('=')
      let tail = ''
      if (pad !== -1) {
        tail = clean.slice(pad)
        clean = clean.slice(0, pad)
        if (!/^=*$/.test(tail)) invalid(`misplaced "=" padding at character ${seen + pad}`)
        padded = true
      }
      check(clean)
      seen += clean.length
      const all = carry + clean
      const whole = all.length - (all.length % 4)
      carry = all.slice(whole) + tail
      return whole > 0 ? Buffer.from(all.slice(0, whole), 'base64') : Buffer.alloc(0)
    },

    end(): Buffer {
      const rest = carry
      carry = ''
      if (rest.includes('=') && !/^[A-Za-z0-9+/]{2}==$|^[A-Za-z0-9+/]{3}=$/.test(rest)) invalid('bad "=" padding at the end')
      if (rest.length % 4 !== 0) invalid(`its length is not a multiple of 4 (${seen} characters, ${rest.length % 4} left over)`)
      return rest.length > 0 ? Buffer.from(rest, 'base64') : Buffer.alloc(0)
    },
  }
}
