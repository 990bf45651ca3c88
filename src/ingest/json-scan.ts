import { createHash, type Hash } from 'node:crypto'
import { AppError } from '../errors.ts'
import { isStorableText } from './storable-text.ts'

/** Receives one attachment's contentBase64, JSON escapes resolved, in pieces as they arrive; promises are awaited. */
export interface StringSink {
  write(text: string): void | Promise<void>
  end(): void | Promise<void>
}

export interface BatchSink {
  billStart(index: number): void
  attachmentStart(index: number): StringSink
  /**
   * bill: the whole bill object but attachment.contentBase64 when that was a string (it went to attachmentStart
   * instead, and streamed is true). Numbers arrive as JsonNumber, never as floats.
   */
  billEnd(index: number, bill: Record<string, unknown>, streamed: boolean): Promise<void>
}

export interface ScanOptions {
  /** batch: the body is { batchId?, bills: [...] }; single: the body is one bill (index 0) */
  mode: 'batch' | 'single'
  /** cap on any string that is kept, in source bytes (every string but contentBase64); default 64 KiB */
  maxStringBytes?: number
  /** cap on one bill as held in memory: kept string bytes plus 16 per key or value; default 1 MiB */
  maxBillBytes?: number
  /** default 32 */
  maxDepth?: number
  /** refuse envelope keys other than batchId and bills (400 UNKNOWN_FIELD) instead of reporting them */
  strictEnvelope?: boolean
  /** cap on the bills' kept bytes summed over the whole body (bills are held until the batch commits); default none */
  maxKeptBytes?: number
  /**
   * Inside a bill, a string over maxStringBytes is read through without being kept and given as a LongString
   * (a key as its first 64 characters and "…"), so the bill alone can be rejected; default false: the body fails
   */
  markLongStrings?: boolean
}

export interface ScanResult {
  batchId?: string
  billCount: number
  bytes: number
  /** top-level keys of the envelope other than batchId and bills (the first 20) */
  ignoredKeys: string[]
}

/** A JSON number kept as its exact source text, so amounts never pass through a float. */
export interface JsonNumber {
  number: string
}

/** Stands for a string inside a bill that was longer than maxStringBytes: read through, never kept. */
export class LongString {
  /** its length in source bytes (escapes as written) */
  readonly bytes: number
  /** SHA-256 of its text (UTF-16 code units), so two different long strings never look the same */
  readonly sha256: string
  constructor(bytes: number, sha256: string) {
    this.bytes = bytes
    this.sha256 = sha256
  }
}

type Role = 'envelope' | 'bills' | 'bill' | 'attachment' | 'member' | 'skip'
type Target = 'key' | 'keep' | 'skip' | 'stream' | 'long' | 'longKey'

interface Frame {
  kind: 'object' | 'array'
  role: Role
  /** null where nothing is kept: the envelope, the bills array, skipped values */
  value: Record<string, unknown> | unknown[] | null
  key: string | null
  count: number
}

const VALUE = 0, VALUE_OR_END = 1, KEY = 2, KEY_OR_END = 3, COLON = 4, AFTER_VALUE = 5, STRING = 6, LITERAL = 7, DONE = 8
const QUOTE = 0x22, BACKSLASH = 0x5c
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
const SHORT_ESCAPES: Array<string | undefined> = []
for (const [ch, text] of Object.entries(ESCAPES)) SHORT_ESCAPES[ch.charCodeAt(0)] = text
const VALUE_COST = 16
const LOW = 0x20202020
const HIGH = 0x80808080 | 0
const MAX_LITERAL = 64
const MAX_BATCH_ID = 200
const MAX_IGNORED_KEYS = 20
const SHOWN_KEY_CHARS = 64

/**
 * A streaming JSON scanner for vendor-bill batches. Every byte is checked as strict JSON, bills are
 * materialised one at a time under size caps, and attachment.contentBase64 is never held: its text goes to
 * the sink in pieces. String runs are found with indexOf, never byte by byte.
 */
export async function scanBatch(source: AsyncIterable<Uint8Array>, sink: BatchSink, options: ScanOptions): Promise<ScanResult> {
  const scanner = new BatchScanner(sink, options)
  for await (const chunk of source) {
    await scanner.feed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  }
  return scanner.finish()
}

class BatchScanner {
  private readonly sink: BatchSink
  private readonly mode: 'batch' | 'single'
  private readonly strictEnvelope: boolean
  private readonly markLong: boolean
  /** the text of a string being read through (target long or longKey) */
  private longHash: Hash | null = null
  private readonly maxString: number
  private readonly maxBill: number
  private readonly maxKept: number
  private keptBytes = 0
  private readonly maxDepth: number
  private readonly stack: Frame[] = []
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true })
  /** the UTF-8 decoder may hold the first bytes of a character split across chunks */
  private utf8Pending = false
  private state = VALUE
  private offset = 0
  private pending: Promise<void> | null = null
  private batchId: string | undefined
  private sawBills = false
  private ignoredKeys: string[] = []
  private billCount = 0
  private billBytes = 0
  private billStreamed = false
  private target: Target = 'keep'
  private stringStart = 0
  private stringBytes = 0
  private text = ''
  private parts: string[] = []
  private escape = ''
  private stream: StringSink | null = null
  private literal = ''
  private literalStart = 0

  constructor(sink: BatchSink, options: ScanOptions) {
    this.sink = sink
    this.mode = options.mode
    this.strictEnvelope = options.strictEnvelope ?? false
    this.markLong = options.markLongStrings ?? false
    this.maxString = options.maxStringBytes ?? 64 * 1024
    this.maxBill = options.maxBillBytes ?? 1024 * 1024
    this.maxKept = options.maxKeptBytes ?? Number.POSITIVE_INFINITY
    this.maxDepth = options.maxDepth ?? 32
  }

  async feed(chunk: Buffer): Promise<void> {
    let i = 0
    while (i < chunk.length) {
      if (this.state === STRING) i = this.scanString(chunk, i)
      else if (this.state === LITERAL) i = this.scanLiteral(chunk, i)
      else i = this.scanStructure(chunk, i)
      if (this.pending) {
        const wait = this.pending
        this.pending = null
        await wait
      }
    }
    this.offset += chunk.length
  }

  finish(): ScanResult {
    if (this.state === LITERAL) this.endLiteral(this.offset)
    if (this.state !== DONE) {
      if (this.state === VALUE && this.stack.length === 0) this.malformed('the body is empty: send a JSON object', this.offset)
      this.malformed('the JSON ends before the document is complete', this.offset)
    }
    return { ...(this.batchId !== undefined ? { batchId: this.batchId } : {}), billCount: this.billCount, bytes: this.offset, ignoredKeys: this.ignoredKeys }
  }

  /** Punctuation and whitespace, byte by byte, until a string or literal starts or the sink must be awaited. */
  private scanStructure(chunk: Buffer, from: number): number {
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i]!
      if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue
      const at = this.offset + i
      switch (this.state) {
        case DONE:
          return this.malformed('unexpected data after the end of the JSON document', at)
        case COLON:
          if (byte !== 0x3a) this.malformed('expected ":" after an object key', at)
          this.state = VALUE
          continue
        case KEY_OR_END:
        case KEY:
          if (byte === 0x7d && this.state === KEY_OR_END) this.closeContainer(at)
          else if (byte === QUOTE) this.openString('key', at)
          else this.malformed(this.state === KEY ? 'expected a quoted object key' : 'expected a quoted object key or "}"', at)
          break
        case AFTER_VALUE: {
          const top = this.stack.at(-1)!
          if (byte === 0x2c) this.state = top.kind === 'object' ? KEY : VALUE
          else if (byte === (top.kind === 'object' ? 0x7d : 0x5d)) this.closeContainer(at)
          else this.malformed(`expected "," or "${top.kind === 'object' ? '}' : ']'}"`, at)
          break
        }
        default:
          if (byte === 0x5d && this.state === VALUE_OR_END) this.closeContainer(at)
          else this.openValue(byte, at)
      }
      // A literal's first byte is part of it; a string's opening quote is not.
      if (this.state === LITERAL) return i
      if (this.state === STRING || this.pending) return i + 1
    }
    return chunk.length
  }

  private openValue(byte: number, at: number): void {
    const parent = this.stack.at(-1)
    const role = this.childRole(parent)
    const kind = byte === 0x7b ? 'object' : byte === 0x5b ? 'array' : byte === QUOTE ? 'string' : 'scalar'
    if (kind === 'scalar' && !(byte === 0x2d || (byte >= 0x30 && byte <= 0x39) || byte === 0x74 || byte === 0x66 || byte === 0x6e)) {
      this.malformed('expected a JSON value', at)
    }
    this.checkShape(parent, role, kind, at)
    if (parent) parent.count++
    if (kind === 'string') {
      const streamed = parent?.role === 'attachment' && parent.key === 'contentBase64'
      if (streamed) this.startAttachment(at)
      return this.openString(streamed ? 'stream' : role === 'skip' ? 'skip' : 'keep', at)
    }
    if (kind === 'scalar') {
      this.state = LITERAL
      this.literal = ''
      this.literalStart = at
      return
    }
    if (this.stack.length >= this.maxDepth) this.invalid(`the JSON is nested deeper than ${this.maxDepth} levels`, at)
    const kept = role === 'bill' || role === 'attachment' || role === 'member'
    this.stack.push({ kind, role, value: kept ? (kind === 'object' ? {} : []) : null, key: null, count: 0 })
    this.state = kind === 'object' ? KEY_OR_END : VALUE_OR_END
    if (role === 'bill') {
      this.billBytes = 0
      this.billStreamed = false
      this.sink.billStart(this.billCount)
    } else if (kept) this.charge(VALUE_COST, at)
    if (role === 'bills') this.sawBills = true
  }

  private childRole(parent: Frame | undefined): Role {
    if (!parent) return this.mode === 'batch' ? 'envelope' : 'bill'
    switch (parent.role) {
      case 'envelope':
        return parent.key === 'bills' ? 'bills' : parent.key === 'batchId' ? 'member' : 'skip'
      case 'bills':
        return 'bill'
      case 'bill':
        return parent.key === 'attachment' ? 'attachment' : 'member'
      case 'skip':
        return 'skip'
      default:
        return 'member'
    }
  }

  /** Shape errors are reported at the first byte of the offending value, before it is read. */
  private checkShape(parent: Frame | undefined, role: Role, kind: string, at: number): void {
    if (role === 'envelope' && kind !== 'object') this.invalid('the body must be a JSON object: { "batchId": ..., "bills": [ ... ] }', at)
    if (role === 'bill' && kind !== 'object') {
      this.invalid(this.mode === 'batch' ? `bills[${parent!.count}] must be a JSON object` : 'the body must be one bill as a JSON object', at)
    }
    if (role === 'bills' && kind !== 'array') this.invalid('"bills" must be an array of bill objects', at)
    if (role === 'bills' && this.sawBills) this.invalid('the body has "bills" twice', at)
    if (parent?.role === 'envelope' && parent.key === 'batchId' && kind !== 'string') this.invalid('"batchId" must be a string', at)
    if (role === 'attachment' && kind === 'object' && this.billStreamed) this.invalid(`${this.billLabel()} has "attachment" twice`, at)
  }

  private startAttachment(at: number): void {
    if (this.billStreamed) this.invalid(`${this.billLabel()} has attachment.contentBase64 twice`, at)
    this.billStreamed = true
    this.stream = this.sink.attachmentStart(this.billCount)
  }

  private openString(target: Target, at: number): void {
    this.state = STRING
    this.target = target
    this.stringStart = at
    this.stringBytes = 0
    this.text = ''
    this.escape = ''
  }

  /** Consumes string content from `from`; each search for '"' or '\' runs once over any stretch of the chunk. */
  private scanString(chunk: Buffer, from: number): number {
    let i = from
    let quote = chunk.indexOf(QUOTE, i)
    let slash = chunk.indexOf(BACKSLASH, i)
    while (i < chunk.length) {
      if (this.escape) {
        i = this.readEscape(chunk, i)
        continue
      }
      if (quote !== -1 && quote < i) quote = chunk.indexOf(QUOTE, i)
      if (slash !== -1 && slash < i) slash = chunk.indexOf(BACKSLASH, i)
      const stop = slash !== -1 && (quote === -1 || slash < quote) ? slash : quote
      const end = stop === -1 ? chunk.length : stop
      if (end > i) this.takeRun(chunk, i, end)
      if (stop === -1) break
      if (stop === slash) {
        this.flushUtf8()
        const short = slash + 1 < chunk.length ? SHORT_ESCAPES[chunk[slash + 1]!] : undefined
        this.countBytes(short === undefined ? 1 : 2)
        // \/ and \n are common (some encoders escape every "/" of base64): read them without the general path.
        if (short !== undefined) this.append(short)
        else this.escape = '\\'
        i = slash + (short === undefined ? 1 : 2)
        continue
      }
      this.endString(this.offset + quote)
      return quote + 1
    }
    if (this.target === 'stream') this.writeParts(false)
    return chunk.length
  }

  /** Raw bytes of a string: no control characters, valid UTF-8 (checked in pieces, so a split character is fine). */
  private takeRun(chunk: Buffer, from: number, to: number): void {
    this.countBytes(to - from)
    const unusual = findUnusual(chunk, from, to)
    if (unusual === -1) {
      this.flushUtf8()
      return this.append(chunk.toString('latin1', from, to))
    }
    for (let i = unusual; i < to; i++) if (chunk[i]! < 0x20) this.malformed('a control character inside a string must be escaped', this.offset + i)
    let text: string
    try {
      text = this.utf8.decode(chunk.subarray(from, to), { stream: true })
    } catch {
      return this.malformed('invalid UTF-8 in the string that starts', this.stringStart)
    }
    this.utf8Pending = chunk[to - 1]! >= 0x80
    this.append(text)
  }

  private flushUtf8(): void {
    if (!this.utf8Pending) return
    this.utf8Pending = false
    try {
      this.utf8.decode()
    } catch {
      this.malformed('invalid UTF-8 in the string that starts', this.stringStart)
    }
  }

  private append(text: string): void {
    if (text === '' || this.target === 'skip') return
    if (this.target === 'stream') this.parts.push(text)
    else if (this.longHash) {
      this.longHash.update(text, 'utf16le')
      if (this.target === 'longKey' && this.text.length < 2 * SHOWN_KEY_CHARS) this.text += text.slice(0, 2 * SHOWN_KEY_CHARS)
    } else this.text += text
  }

  private countBytes(n: number): void {
    if (this.target === 'stream' || this.target === 'skip') return
    this.stringBytes += n
    if (this.stringBytes <= this.maxString || this.longHash) return
    if (!this.markLong || !this.insideBill()) this.invalid(`a string is longer than ${this.maxString} bytes${this.pathHint()}`, this.stringStart)
    // From here the string is only hashed: what was kept so far goes into the hash (a key keeps its start to be named).
    this.longHash = createHash('sha256').update(this.text, 'utf16le')
    this.text = this.target === 'key' ? this.text.slice(0, 2 * SHOWN_KEY_CHARS) : ''
    this.target = this.target === 'key' ? 'longKey' : 'long'
  }

  /** Whether the string being read is a key or value of a bill (or of something inside one). */
  private insideBill(): boolean {
    const role = this.stack.at(-1)?.role
    return role === 'bill' || role === 'attachment' || role === 'member'
  }

  /** \x, or \uXXXX, possibly split across chunks. */
  private readEscape(chunk: Buffer, from: number): number {
    let i = from
    while (i < chunk.length) {
      this.escape += String.fromCharCode(chunk[i++]!)
      const need = this.escape[1] === 'u' ? 6 : 2
      if (this.escape.length < need) continue
      const at = this.offset + i - need
      const decoded = need === 6 ? (/^\\u[0-9a-fA-F]{4}$/.test(this.escape) ? String.fromCharCode(parseInt(this.escape.slice(2), 16)) : undefined) : ESCAPES[this.escape[1]!]
      if (decoded === undefined) this.malformed(`invalid escape ${JSON.stringify(this.escape)} in a string`, at)
      this.countBytes(need - 1)
      this.escape = ''
      this.append(decoded)
      break
    }
    return i
  }

  /** Hands the streamed text to the sink; a trailing high surrogate waits for its pair. */
  private writeParts(last: boolean): void {
    let text = this.parts.join('')
    this.parts = []
    const tail = text.charCodeAt(text.length - 1)
    if (!last && tail >= 0xd800 && tail <= 0xdbff) {
      this.parts.push(text.slice(-1))
      text = text.slice(0, -1)
    }
    const stream = this.stream!
    if (text !== '') this.after(() => stream.write(text))
  }

  private endString(quoteAt: number): void {
    this.flushUtf8()
    const long = this.longHash ? new LongString(this.stringBytes, this.longHash.digest('hex')) : null
    this.longHash = null
    const text = this.target === 'longKey' ? `${Array.from(this.text).slice(0, SHOWN_KEY_CHARS).join('')}…` : this.text
    this.text = ''
    if (this.target === 'stream') {
      this.writeParts(true)
      const stream = this.stream!
      this.stream = null
      this.after(() => stream.end())
      this.state = AFTER_VALUE
      return
    }
    if (this.target === 'key' || this.target === 'longKey') {
      const top = this.stack.at(-1)!
      top.key = text
      if (top.role === 'envelope' && text !== 'bills' && text !== 'batchId') this.unknownEnvelopeKey(text, quoteAt)
      if (top.value !== null) this.charge((long ? text.length : this.stringBytes) + VALUE_COST, quoteAt)
      this.state = COLON
      return
    }
    this.assign(this.target === 'skip' ? null : long ?? text, quoteAt)
  }

  private scanLiteral(chunk: Buffer, from: number): number {
    let i = from
    while (i < chunk.length && isLiteralByte(chunk[i]!)) i++
    this.literal += chunk.toString('latin1', from, i)
    if (this.literal.length > MAX_LITERAL) this.invalid(`a number or literal is longer than ${MAX_LITERAL} characters`, this.literalStart)
    if (i < chunk.length) this.endLiteral(this.offset + i)
    return i
  }

  private endLiteral(at: number): void {
    const text = this.literal
    let value: unknown
    if (text === 'true') value = true
    else if (text === 'false') value = false
    else if (text === 'null') value = null
    else if (NUMBER.test(text)) value = { number: text } satisfies JsonNumber
    else this.malformed(`"${text.slice(0, 20)}" is not a JSON value`, this.literalStart)
    this.literal = ''
    this.assign(value, at)
  }

  /** Puts a finished scalar where it belongs. */
  private assign(value: unknown, at: number): void {
    const top = this.stack.at(-1)!
    this.state = AFTER_VALUE
    if (top.role === 'envelope' && top.key === 'batchId') {
      const id = value as string
      if (this.batchId !== undefined) this.invalid('the body has "batchId" twice', this.stringStart)
      if (id.trim() === '') {
        throw new AppError('BATCH_ID_INVALID', `"batchId" is ${id === '' ? 'empty' : 'blank'}: send an id of 1 to ${MAX_BATCH_ID} characters that is not only spaces, or leave batchId out; nothing was stored (at byte ${this.stringStart})`, 400, { offset: this.stringStart })
      }
      if (id.length > MAX_BATCH_ID) this.invalid(`"batchId" is longer than ${MAX_BATCH_ID} characters`, this.stringStart)
      if (!isStorableText(id)) this.invalid('"batchId" holds a NUL character or a lone UTF-16 surrogate', this.stringStart)
      this.batchId = id
    }
    if (top.value === null) return
    this.charge((typeof value === 'string' ? this.stringBytes : 0) + VALUE_COST, at)
    place(top, value)
  }

  private closeContainer(at: number): void {
    const frame = this.stack.pop()!
    const top = this.stack.at(-1)
    this.state = top ? AFTER_VALUE : DONE
    if (frame.role === 'envelope' && !this.sawBills) this.invalid('the body has no "bills" array', at)
    if (frame.role === 'bill') {
      const index = this.billCount++
      const streamed = this.billStreamed
      this.after(() => this.sink.billEnd(index, frame.value as Record<string, unknown>, streamed))
    } else if (top?.value) place(top, frame.value)
  }

  private charge(bytes: number, at: number): void {
    this.billBytes += bytes
    this.keptBytes += bytes
    if (this.billBytes > this.maxBill) this.invalid(`${this.billLabel()} is larger than ${this.maxBill} bytes without its attachment content`, at)
    if (this.keptBytes > this.maxKept) {
      throw new AppError('BATCH_TOO_LARGE', `the bills' fields (without their PDFs) pass ${this.maxKept} bytes at byte ${at}; nothing was stored: send fewer bills per batch`, 413, { limitBytes: this.maxKept, offset: at })
    }
  }

  private billLabel(): string {
    return this.mode === 'batch' ? `bills[${this.billCount}]` : 'the bill'
  }

  /** Calls the sink once what it was last given has settled; the feed loop awaits the result before reading on. */
  private after(call: () => void | Promise<void>): void {
    if (this.pending) this.pending = this.pending.then(call)
    else {
      const result = call()
      if (result instanceof Promise) this.pending = result
    }
  }

  private pathHint(): string {
    const path = this.stack.map((f) => (f.kind === 'array' ? `[${f.count - 1}]` : f.key === null ? '' : `.${f.key}`)).join('').replace(/^\./, '')
    return path ? ` (at ${path})` : ''
  }

  private unknownEnvelopeKey(key: string, at: number): void {
    if (this.strictEnvelope) {
      const shown = isStorableText(key) ? Array.from(key).slice(0, 64).join('') : '(a key with invalid characters)'
      throw new AppError('UNKNOWN_FIELD', `"${shown}" is not a field of the batch envelope, which holds only "batchId" and "bills" (at byte ${at})`, 400, { field: shown, offset: at })
    }
    if (this.ignoredKeys.length < MAX_IGNORED_KEYS) this.ignoredKeys.push(key.slice(0, 64))
  }

  private malformed(message: string, at: number): never {
    throw new AppError('MALFORMED_JSON', `the body is not valid JSON: ${message} at byte ${at}`, 400, { offset: at })
  }

  private invalid(message: string, at: number): never {
    throw new AppError('INVALID_ENVELOPE', `${message} (at byte ${at})`, 400, { offset: at })
  }
}

function place(frame: Frame, value: unknown): void {
  if (frame.kind === 'array') (frame.value as unknown[]).push(value)
  // defineProperty, so that a "__proto__" key is data like any other, as JSON.parse keeps it
  else Object.defineProperty(frame.value, frame.key!, { value, enumerable: true, writable: true, configurable: true })
}

function isLiteralByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x2d || b === 0x2b || b === 0x2e
}

/** Index of the first byte below 0x20 or above 0x7f in [from, to), or -1: sixteen bytes at a time, as long runs are base64. */
function findUnusual(buf: Buffer, from: number, to: number): number {
  let i = from
  while (i < to && ((buf.byteOffset + i) & 3) !== 0) if (isUnusual(buf[i++]!)) return i - 1
  const words = (to - i) >>> 2
  if (words >= 16) {
    // Int32, not Uint32: V8 keeps small integers unboxed, so the loop stays in machine words.
    const v = new Int32Array(buf.buffer, buf.byteOffset + i, words)
    let k = 0
    // (w - 0x20202020) | w has no high bit set exactly when every byte of w is in 0x20..0x7f.
    for (; k + 3 < words; k += 4) {
      if (((((v[k]! - LOW) | 0) | v[k]! | ((v[k + 1]! - LOW) | 0) | v[k + 1]! | ((v[k + 2]! - LOW) | 0) | v[k + 2]! | ((v[k + 3]! - LOW) | 0) | v[k + 3]!) & HIGH) !== 0) break
    }
    i += k * 4
  }
  while (i < to) if (isUnusual(buf[i++]!)) return i - 1
  return -1
}

function isUnusual(byte: number): boolean {
  return byte < 0x20 || byte > 0x7f
}
