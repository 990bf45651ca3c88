import { AppError } from '../errors.ts'

/** Receives one attachment's base64 text, JSON escapes already resolved, in pieces as they arrive. */
export interface StringSink {
  write(text: string): void | Promise<void>
  end(): void | Promise<void>
}

export interface BatchSink {
  billStart(index: number): void
  attachmentStart(index: number): StringSink
  /** bill: every field but attachment.contentBase64; JSON numbers arrive as { number: '<source text>' } */
  billEnd(index: number, bill: Record<string, unknown>): Promise<void>
}

export interface ScanOptions {
  mode: 'batch' | 'single'
  /** cap on any string that is kept (every string but contentBase64) */
  maxStringBytes?: number
  maxDepth?: number
}

export interface ScanResult {
  batchId?: string
  billCount: number
  bytes: number
}

/** A JSON number kept as its exact source text, so amounts never pass through a float. */
export interface JsonNumber {
  number: string
}

type Role = 'envelope' | 'bills' | 'bill' | 'attachment' | 'plain' | 'skip'

interface Frame {
  kind: 'object' | 'array'
  role: Role
  /** null where nothing is kept (the envelope, the bills array, skipped values) */
  value: Record<string, unknown> | unknown[] | null
  key: string | null
}

const State = { Value: 0, AfterValue: 1, KeyOrEnd: 2, Key: 3, Colon: 4, String: 5, Literal: 6, Done: 7 } as const
type State = (typeof State)[keyof typeof State]

const QUOTE = 0x22
const BACKSLASH = 0x5c
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/
const WS = new Set([0x20, 0x09, 0x0a, 0x0d])

/**
 * A streaming JSON scanner for vendor-bill batches. Every value is checked as JSON, bills are
 * materialised one at a time, and the one large value (attachment.contentBase64) is never held: its
 * text goes to the sink in pieces. Long string runs are found with indexOf, not byte by byte.
 */
export async function scanBatch(source: AsyncIterable<Uint8Array>, sink: BatchSink, options: ScanOptions): Promise<ScanResult> {
  const scanner = new Scanner(sink, options)
  for await (const chunk of source) await scanner.feed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  return scanner.finish()
}

class Scanner {
  private readonly sink: BatchSink
  private readonly mode: 'batch' | 'single'
  private readonly maxString: number
  private readonly maxDepth: number
  private readonly stack: Frame[] = []
  private state: State = State.Value
  private offset = 0
  private batchId: string | undefined
  private billCount = 0
  private billIndex = -1
  private billStreamed = false
  private sawBills = false
  // string in progress
  private stringTarget: 'key' | 'value' | 'stream' | 'skip' = 'value'
  private stringParts: Buffer[] = []
  private stringBytes = 0
  private stringEscape = false
  private escapeTail: Buffer | null = null
  private stream: StringSink | null = null
  private literal = ''

  constructor(sink: BatchSink, options: ScanOptions) {
    this.sink = sink
    this.mode = options.mode
    this.maxString = options.maxStringBytes ?? 64 * 1024
    this.maxDepth = options.maxDepth ?? 32
  }

  async feed(chunk: Buffer): Promise<void> {
    let i = 0
    while (i < chunk.length) {
      if (this.state === State.String) {
        i = await this.scanString(chunk, i)
        continue
      }
      if (this.state === State.Literal) {
        const end = literalEnd(chunk, i)
        this.literal += chunk.toString('latin1', i, end)
        if (this.literal.length > 64) this.fail('a number or literal is too long', i)
        i = end
        if (end < chunk.length) await this.endLiteral(i)
        continue
      }
      const byte = chunk[i]!
      if (WS.has(byte)) {
        i++
        continue
      }
      await this.token(byte, this.offset + i)
      i++
    }
    this.offset += chunk.length
  }

  async finish(): Promise<ScanResult> {
    if (this.state === State.Literal) await this.endLiteral(0)
    if (this.state !== State.Done) {
      if (this.offset === 0) this.fail('the request body is empty: send a JSON object', 0, true)
      this.fail('the JSON ends before the document is complete', 0, true)
    }
    return { ...(this.batchId !== undefined ? { batchId: this.batchId } : {}), billCount: this.billCount, bytes: this.offset }
  }

  private async token(byte: number, at: number): Promise<void> {
    switch (this.state) {
      case State.Done:
        return this.fail('unexpected data after the end of the JSON document', at, true)
      case State.Colon:
        if (byte !== 0x3a) return this.fail('expected ":" after an object key', at, true)
        this.state = State.Value
        return
      case State.KeyOrEnd:
        if (byte === 0x7d) return this.closeContainer('object', at)
        if (byte !== QUOTE) return this.fail('expected a quoted object key or "}"', at, true)
        return this.openString('key')
      case State.Key:
        if (byte !== QUOTE) return this.fail('expected a quoted object key', at, true)
        return this.openString('key')
      case State.AfterValue: {
        const top = this.stack.at(-1)!
        if (byte === 0x2c) {
          this.state = top.kind === 'object' ? State.Key : State.Value
          return
        }
        if (byte === 0x7d && top.kind === 'object') return this.closeContainer('object', at)
        if (byte === 0x5d && top.kind === 'array') return this.closeContainer('array', at)
        return this.fail(`expected "," or "${top.kind === 'object' ? '}' : ']'}"`, at, true)
      }
      case State.Value:
        if (byte === 0x5d && this.stack.at(-1)?.kind === 'array' && this.isEmptyArray()) return this.closeContainer('array', at)
        return this.openValue(byte, at)
    }
  }

  private isEmptyArray(): boolean {
    const top = this.stack.at(-1)!
    return top.key === null && (top.value === null ? (top as Frame & { count?: number }).count === undefined : (top.value as unknown[]).length === 0)
  }

  private async openValue(byte: number, at: number): Promise<void> {
    const role = this.childRole()
    if (byte === 0x7b || byte === 0x5b) {
      const kind = byte === 0x7b ? 'object' : 'array'
      this.checkShape(role, kind, at)
      if (this.stack.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`, at)
      const keep = role === 'bill' || role === 'attachment' || role === 'plain'
      const frame: Frame = { kind, role, value: keep ? (kind === 'object' ? {} : []) : null, key: null }
      this.markChild()
      this.stack.push(frame)
      if (role === 'bill') {
        this.billIndex = this.billCount++
        this.billStreamed = false
        this.sink.billStart(this.billIndex)
      }
      this.state = kind === 'object' ? State.KeyOrEnd : State.Value
      return
    }
    const valueStart = byte === QUOTE || byte === 0x2d || (byte >= 0x30 && byte <= 0x39) || byte === 0x74 || byte === 0x66 || byte === 0x6e
    if (!valueStart) this.fail('expected a JSON value', at, true)
    this.checkShape(role, byte === QUOTE ? 'string' : 'scalar', at)
    this.markChild()
    if (byte === QUOTE) {
      const parent = this.stack.at(-1)
      const streamed = role === 'plain' && parent?.role === 'attachment' && parent.key === 'contentBase64'
      if (streamed) {
        if (this.billStreamed) this.fail('a bill has attachment.contentBase64 twice', at)
        this.billStreamed = true
        this.stream = this.sink.attachmentStart(this.billIndex)
        return this.openString('stream')
      }
      return this.openString(role === 'skip' || role === 'bills' ? 'skip' : 'value')
    }
    this.state = State.Literal
    this.literal = String.fromCharCode(byte)
  }

  /** Counts array elements of unkept arrays so an empty one can still close. */
  private markChild(): void {
    const top = this.stack.at(-1) as (Frame & { count?: number }) | undefined
    if (top && top.kind === 'array' && top.value === null) top.count = (top.count ?? 0) + 1
  }

  /** The role of the value about to start, from where it sits. */
  private childRole(): Role {
    const top = this.stack.at(-1)
    if (!top) return this.mode === 'batch' ? 'envelope' : 'bill'
    if (top.role === 'envelope') return top.key === 'bills' ? 'bills' : top.key === 'batchId' ? 'plain' : 'skip'
    if (top.role === 'bills') return 'bill'
    if (top.role === 'bill' && top.key === 'attachment') return 'attachment'
    if (top.role === 'skip') return 'skip'
    return 'plain'
  }

  private checkShape(role: Role, kind: 'object' | 'array' | 'string' | 'scalar', at: number): void {
    if (role === 'envelope' && kind !== 'object') this.fail('the body must be a JSON object: { "batchId": ..., "bills": [ ... ] }', at)
    if (role === 'bills' && kind !== 'array') this.fail('"bills" must be an array of bill objects', at)
    if (role === 'bill' && kind !== 'object') this.fail(this.mode === 'batch' ? `bills[${this.billCount}] must be a JSON object` : 'the body must be one bill as a JSON object', at)
    const top = this.stack.at(-1)
    if (top?.role === 'envelope' && top.key === 'batchId' && kind !== 'string') this.fail('"batchId" must be a string', at)
  }

  private openString(target: 'key' | 'value' | 'stream' | 'skip'): void {
    this.state = State.String
    this.stringTarget = target
    this.stringParts = []
    this.stringBytes = 0
    this.stringEscape = false
    this.escapeTail = null
  }

  /** Consumes string content from i; returns where scanning continues. */
  private async scanString(chunk: Buffer, start: number): Promise<number> {
    if (this.stringTarget === 'stream') return this.scanStreamed(chunk, start)
    let i = start
    while (i < chunk.length) {
      if (this.stringEscape) {
        this.stringEscape = false
        i++
        continue
      }
      const quote = chunk.indexOf(QUOTE, i)
      const slash = chunk.indexOf(BACKSLASH, i)
      if (slash !== -1 && (quote === -1 || slash < quote)) {
        this.stringEscape = true
        i = slash + 1
        continue
      }
      if (quote === -1) {
        this.keep(chunk, start, chunk.length)
        return chunk.length
      }
      this.keep(chunk, start, quote)
      await this.endString(this.offset + quote)
      return quote + 1
    }
    this.keep(chunk, start, chunk.length)
    return chunk.length
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    if (to <= from || this.stringTarget === 'skip') return
    this.stringBytes += to - from
    if (this.stringBytes > this.maxString) this.fail(`a string value is longer than ${this.maxString} bytes${this.pathHint()}`, this.offset + from)
    this.stringParts.push(Buffer.from(chunk.subarray(from, to)))
  }

  private async endString(at: number): Promise<void> {
    const target = this.stringTarget
    let text = ''
    if (target !== 'skip') {
      const raw = Buffer.concat(this.stringParts).toString('utf8')
      try {
        text = JSON.parse(`"${raw}"`) as string
      } catch {
        this.fail('a string contains a control character or an invalid escape', at, true)
      }
    }
    this.stringParts = []
    if (target === 'key') {
      this.stack.at(-1)!.key = text
      this.state = State.Colon
      return
    }
    this.assign(text)
  }

  /** contentBase64: plain runs go out as they are; escapes (\/, \n, \u0041 …) are resolved first. */
  private async scanStreamed(chunk: Buffer, start: number): Promise<number> {
    let i = start
    while (i < chunk.length) {
      if (this.escapeTail) {
        const need = this.escapeTail[1] === 0x75 ? 6 : 2
        const take = Math.min(need - this.escapeTail.length, chunk.length - i)
        this.escapeTail = Buffer.concat([this.escapeTail, chunk.subarray(i, i + take)])
        i += take
        if (this.escapeTail.length === 1 && i < chunk.length) continue
        if (this.escapeTail.length < (this.escapeTail[1] === 0x75 ? 6 : 2)) continue
        let text: string
        try {
          text = JSON.parse(`"${this.escapeTail.toString('latin1')}"`) as string
        } catch {
          return this.fail('invalid escape in attachment.contentBase64', this.offset + i, true)
        }
        this.escapeTail = null
        await this.stream!.write(text)
        continue
      }
      const quote = chunk.indexOf(QUOTE, i)
      const slash = chunk.indexOf(BACKSLASH, i)
      const stop = slash !== -1 && (quote === -1 || slash < quote) ? slash : quote
      const end = stop === -1 ? chunk.length : stop
      if (end > i) await this.stream!.write(chunk.toString('latin1', i, end))
      if (stop === -1) return chunk.length
      if (stop === slash) {
        this.escapeTail = Buffer.from(chunk.subarray(slash, slash + 1))
        i = slash + 1
        continue
      }
      const sink = this.stream!
      this.stream = null
      await sink.end()
      this.state = State.AfterValue
      return quote + 1
    }
    return chunk.length
  }

  private async endLiteral(at: number): Promise<void> {
    const text = this.literal
    let value: unknown
    if (text === 'true') value = true
    else if (text === 'false') value = false
    else if (text === 'null') value = null
    else if (NUMBER.test(text)) value = { number: text } satisfies JsonNumber
    else return this.fail(`"${text}" is not a JSON value`, this.offset + at, true)
    this.literal = ''
    this.assign(value)
  }

  /** Puts a finished scalar where it belongs and moves on. */
  private assign(value: unknown): void {
    const top = this.stack.at(-1)
    this.state = State.AfterValue
    if (!top) {
      this.state = State.Done
      return
    }
    if (top.role === 'envelope' && top.key === 'batchId') {
      if (typeof value !== 'string') this.fail('"batchId" must be a string', this.offset)
      if ((value as string).length > 200) this.fail('"batchId" is longer than 200 characters', this.offset)
      this.batchId = value as string
    }
    if (top.value === null) return
    if (top.kind === 'array') (top.value as unknown[]).push(value)
    else (top.value as Record<string, unknown>)[top.key!] = value
  }

  private async closeContainer(kind: 'object' | 'array', at: number): Promise<void> {
    const frame = this.stack.pop()!
    if (frame.kind !== kind) this.fail('mismatched brackets', at, true)
    if (frame.role === 'envelope' && !this.sawBills) this.fail('the body has no "bills" array', at)
    if (frame.role === 'bills') this.sawBills = true
    if (frame.role === 'bill') {
      await this.sink.billEnd(this.billIndex, frame.value as Record<string, unknown>)
      this.assignFrame(null)
      return
    }
    this.assignFrame(frame.value)
  }

  private assignFrame(value: unknown): void {
    const top = this.stack.at(-1)
    this.state = top ? State.AfterValue : State.Done
    if (!top || top.value === null) return
    if (top.kind === 'array') (top.value as unknown[]).push(value)
    else (top.value as Record<string, unknown>)[top.key!] = value
  }

  private pathHint(): string {
    const keys = this.stack.map((f) => f.key).filter((k): k is string => Boolean(k))
    return keys.length ? ` (at ${keys.join('.')})` : ''
  }

  private fail(message: string, at: number, syntax = false): never {
    if (syntax) throw new AppError('MALFORMED_JSON', `the body is not valid JSON: ${message} at byte ${at}`, 400, { offset: at })
    throw new AppError('INVALID_ENVELOPE', message, 400, { offset: at })
  }
}

function literalEnd(chunk: Buffer, from: number): number {
  let i = from
  while (i < chunk.length) {
    const b = chunk[i]!
    const isLiteral = (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x2d || b === 0x2b || b === 0x2e
    if (!isLiteral) break
    i++
  }
  return i
}
