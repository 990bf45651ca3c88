import { AppError } from '../errors.ts'

export interface Base64Decoder {
  /** decoded bytes available so far (a partial group of 4 characters waits for the next push) */
  push(text: string): Buffer
  end(): Buffer
}

const WHITESPACE_ALL = /[\r\n\t ]/g
const TAIL = /^[A-Za-z0-9+/]{0,3}$/
const PADDING = /^=*$/
const EMPTY = Buffer.alloc(0)
const ascii = new TextEncoder()
let scratch = new Uint8Array(0)

function invalid(detail: string): never {
  throw new AppError('ATTACHMENT_BASE64_INVALID', `attachment.contentBase64 is not valid base64: ${detail}`, 422)
}

/**
 * Streaming base64 decoding with the checks Buffer.from(…, 'base64') skips: the standard alphabet only, '='
 * only as final padding, and whole groups of 4 characters. Line breaks, spaces and tabs are ignored (some
 * encoders wrap lines). Positions in messages count every character of contentBase64 from 0.
 */
export function createBase64Decoder(): Base64Decoder {
  let carry = ''
  let seen = 0
  let padding = 0
  // Once a piece had line breaks the next ones will too: strip first rather than decode twice.
  let wrapped = false

  /** Decodes the whole groups of carry + text if every character is of the standard alphabet; null if not. */
  function decodeWhole(text: string): Buffer | null {
    const all = carry + text
    const whole = all.length - (all.length % 4)
    const out = whole === 0 ? EMPTY : Buffer.from(whole === all.length ? all : all.slice(0, whole), 'base64')
    // Node skips characters it does not know, so a short result means one was there; it reads '-' and '_'
    // as base64url and the low byte of any character above U+00FF, so those are looked for apart.
    if (out.length !== (whole / 4) * 3 || !isAscii(text) || text.indexOf('-') !== -1 || text.indexOf('_') !== -1) return null
    const tail = all.slice(whole)
    if (!TAIL.test(tail)) return null
    carry = tail
    return out
  }

  /** Whitespace out, "=" padding set aside, then the same decoding; any fault is named by locateProblem. */
  function decodeCarefully(raw: string, start: number): Buffer {
    let text = raw.replace(WHITESPACE_ALL, '')
    wrapped ||= text.length !== raw.length
    if (padding > 0) {
      if (!PADDING.test(text)) locateProblem(raw, start, true)
      padding += text.length
      if (padding > 2) invalid(`too much "=" padding: more than two at the end (character ${seen - 1})`)
      return EMPTY
    }
    const pad = text.indexOf('=')
    if (pad !== -1) {
      if (!PADDING.test(text.slice(pad))) locateProblem(raw, start, false)
      padding = text.length - pad
      if (padding > 2) invalid(`too much "=" padding: more than two at the end (character ${seen - 1})`)
      text = text.slice(0, pad)
    }
    return decodeWhole(text) ?? locateProblem(raw, start, false)
  }

  return {
    push(raw: string): Buffer {
      const start = seen
      seen += raw.length
      const quick = wrapped || padding > 0 || raw.indexOf('=') !== -1 ? null : decodeWhole(raw)
      return quick ?? decodeCarefully(raw, start)
    },

    end(): Buffer {
      const rest = carry
      carry = ''
      const groups = rest.length + padding
      if (padding > 0 && groups !== 4) invalid(`"=" padding does not complete a group of 4 characters (${rest.length} + ${padding} "=" at the end)`)
      if (groups % 4 !== 0) invalid(`its length is not a multiple of 4 (${groups % 4} characters after the last whole group): cut short, or unpadded`)
      return rest.length > 0 ? Buffer.from(rest + '='.repeat(padding), 'base64') : EMPTY
    },
  }
}

/** Whether every character is below U+0080: TextEncoder writes one byte per character exactly then (and is 3× faster than Buffer.byteLength). */
function isAscii(text: string): boolean {
  if (text.length > 1024 * 1024) return Buffer.byteLength(text, 'utf8') === text.length
  if (scratch.length < text.length) scratch = new Uint8Array(Math.max(text.length, 64 * 1024))
  const { read, written } = ascii.encodeInto(text, scratch)
  return read === text.length && written === text.length
}

/** The slow path, for a piece known to be bad: names the first bad character and where it is. */
function locateProblem(raw: string, start: number, padded: boolean): never {
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!
    const at = `at character ${start + i}`
    if (ch === '\r' || ch === '\n' || ch === '\t' || ch === ' ') continue
    if (ch === '=') {
      padded = true
      continue
    }
    if (ch === '-' || ch === '_') invalid(`"${ch}" ${at} belongs to base64url; send standard base64 (with "+" and "/")`)
    if (!/[A-Za-z0-9+/]/.test(ch)) invalid(`unexpected character ${describe(ch)} ${at}`)
    if (padded) invalid(`"=" padding followed by more data ${at}`)
  }
  return invalid('bad "=" padding')
}

function describe(ch: string): string {
  const code = ch.codePointAt(0)!
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  return code < 0x20 || code === 0x7f ? hex : `"${ch}" (${hex})`
}
