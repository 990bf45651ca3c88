import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createBase64Decoder } from '../../src/ingest/base64-decoder.ts'

function decodeInPieces(text: string, size: number): Buffer {
  const decoder = createBase64Decoder()
  const parts: Buffer[] = []
  for (let i = 0; i < text.length; i += size) parts.push(decoder.push(text.slice(i, i + size)))
  parts.push(decoder.end())
  return Buffer.concat(parts)
}

t.test('decodes any split of valid base64, with and without padding and line breaks', async (t) => {
  for (const length of [0, 1, 2, 3, 4, 5, 57, 100, 1000]) {
    const bytes = randomBytes(length)
    const text = bytes.toString('base64')
    for (const size of [1, 2, 3, 5, 7, 64]) {
      t.same(decodeInPieces(text, size), bytes, `length ${length}, pieces of ${size}`)
    }
    const wrapped = text.replace(/(.{76})/g, '$1\r\n')
    t.same(decodeInPieces(wrapped, 13), bytes, `length ${length}, wrapped at 76 columns`)
  }
})

t.test('rejects what Buffer.from would silently accept', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['JVBERi0x!!!!', /unexpected character "!"/],
    ['JVBE-i0x', /base64url/],
    ['JVBE_i0x', /base64url/],
    ['JV=ERi0x', /padding/],
    ['JVBERi0xA', /multiple of 4/],
    ['JVBERi0xAA=', /padding/],
    ['JVBERg==AAAA', /padding/],
    ['JVBERi0x===', /padding/],
  ]
  for (const [text, message] of cases) {
    t.throws(() => decodeInPieces(text, 3), { code: 'ATTACHMENT_BASE64_INVALID', message }, text)
  }
})
