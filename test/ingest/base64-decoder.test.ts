import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createBase64Decoder } from '../../src/ingest/base64-decoder.ts'

function decodeInPieces(text: string, cuts: number[] | number): Buffer {
  const decoder = createBase64Decoder()
  const parts: Buffer[] = []
  if (typeof cuts === 'number') for (let i = 0; i < text.length; i += cuts) parts.push(decoder.push(text.slice(i, i + cuts)))
  else {
    let at = 0
    for (const cut of [...cuts, text.length]) {
      parts.push(decoder.push(text.slice(at, cut)))
      at = cut
    }
  }
  parts.push(decoder.end())
  return Buffer.concat(parts)
}

t.test('decodes any split of valid base64, with and without padding, wrapped or not', async (t) => {
  for (const length of [0, 1, 2, 3, 4, 5, 57, 100, 1000]) {
    const bytes = randomBytes(length)
    const text = bytes.toString('base64')
    for (const size of [1, 2, 3, 5, 7, 64]) t.same(decodeInPieces(text, size), bytes, `length ${length}, pieces of ${size}`)
    for (let cut = 0; cut <= Math.min(text.length, 40); cut++) {
      if (!decodeInPieces(text, [cut]).equals(bytes)) return t.fail(`length ${length}, split at ${cut}`)
    }
    t.same(decodeInPieces(text.replace(/(.{76})/g, '$1\r\n'), 13), bytes, `length ${length}, wrapped at 76 columns with CRLF`)
    t.same(decodeInPieces(` ${text.replace(/(.{4})/g, '$1 \t\n')} `, 5), bytes, `length ${length}, spaces and tabs between groups`)
  }
})

t.test('each piece gives back what it can: only a partial group of 4 waits', async (t) => {
  const decoder = createBase64Decoder()
  t.equal(decoder.push('QUJ').length, 0)
  t.same(decoder.push('DRE'), Buffer.from('ABC'))
  t.same(decoder.push('VGV'), Buffer.from('DEF'))
  t.same(decoder.push('A='), Buffer.alloc(0))
  t.same(decoder.push('\n= '), Buffer.alloc(0))
  t.same(decoder.end(), Buffer.from('T'))
})

t.test('a large input decodes the same in 64 KiB pieces at any alignment', async (t) => {
  const bytes = randomBytes(3 * 1024 * 1024 + 2)
  const text = bytes.toString('base64')
  for (const size of [65536, 65537, 65539]) t.ok(decodeInPieces(text, size).equals(bytes), `pieces of ${size}`)
})

t.test('rejects what Buffer.from would silently accept, naming the character and where it is', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['JVBERi0x!!!!', /unexpected character "!" \(U\+0021\) at character 8/],
    ['JVBE\u0000i0x', /unexpected character U\+0000 at character 4/],
    ['JVBE-i0x', /"-" at character 4 belongs to base64url; send standard base64/],
    ['JVBERi0_', /"_" at character 7 belongs to base64url/],
    ['JVBEŁi0x', /unexpected character "Ł" \(U\+0141\) at character 4/],
    ['JVBEéi0x', /unexpected character "é" \(U\+00E9\) at character 4/],
    ['JV=ERi0x', /"=" padding followed by more data at character 3/],
    ['JVBERg==AAAA', /"=" padding followed by more data at character 8/],
    ['JVBERg==\n=', /too much "=" padding/],
    ['JVBERi0x===', /too much "=" padding/],
    ['JVBERi0xA', /length is not a multiple of 4 \(1 characters after/],
    ['JVBERi0xAAA', /length is not a multiple of 4 \(3 characters after/],
    ['JVBERi0xAA=', /"=" padding does not complete a group of 4/],
    ['JVBERi0x=', /"=" padding does not complete a group of 4/],
    ['=', /"=" padding does not complete a group of 4/],
  ]
  for (const [text, message] of cases) {
    for (const size of [1, 3, 100]) {
      t.throws(() => decodeInPieces(text, size), { code: 'ATTACHMENT_BASE64_INVALID', statusCode: 422, message }, `${JSON.stringify(text)} in pieces of ${size}`)
    }
  }
  t.throws(() => decodeInPieces('QUJD\r\nQU!D', 100), { message: /"!" \(U\+0021\) at character 8/ }, 'positions count the line breaks too')
  t.throws(() => decodeInPieces('QUJDQU#D', [6, 7]), { message: /^attachment\.contentBase64 is not valid base64: unexpected character "#"/ }, 'the message names the field')
})
