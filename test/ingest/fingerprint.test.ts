import t from 'tap'
import { BatchFingerprint, canonicalJson } from '../../src/ingest/fingerprint.ts'
import { LongString } from '../../src/ingest/json-scan.ts'

function digest(bills: Array<[Record<string, unknown>, string | null]>): string {
  const fingerprint = new BatchFingerprint()
  for (const [bill, content] of bills) fingerprint.addBill(bill, content)
  return fingerprint.digest()
}

const bill = { externalId: 'NS-1', vendor: { name: 'Acme', externalId: 'V-1' }, lines: [{ account: 'a', amount: { number: '1.5' } }] }

t.test('key order does not matter at any level; values, bill order and attachments do', async (t) => {
  const base = digest([[bill, 'aa'], [{ externalId: 'NS-2' }, null]])
  const reordered = { lines: [{ amount: { number: '1.5' }, account: 'a' }], vendor: { externalId: 'V-1', name: 'Acme' }, externalId: 'NS-1' }
  t.equal(digest([[reordered, 'aa'], [{ externalId: 'NS-2' }, null]]), base, 'keys in another order')
  t.not(digest([[{ externalId: 'NS-2' }, null], [bill, 'aa']]), base, 'bills in another order')
  t.not(digest([[bill, 'ab'], [{ externalId: 'NS-2' }, null]]), base, 'another attachment')
  t.not(digest([[{ ...bill, memo: 'x' }, 'aa'], [{ externalId: 'NS-2' }, null]]), base, 'one more field')
  t.not(digest([[{ ...bill, lines: [{ account: 'a', amount: '1.5' }] }, 'aa'], [{ externalId: 'NS-2' }, null]]), base, 'a number and a string differ')
  t.not(digest([[bill, 'aa']]), base, 'a bill fewer')
})

t.test('a long string counts by its hash, distinct from any JSON value', async (t) => {
  t.equal(canonicalJson({ memo: new LongString(70_000, 'ab12') }), '{"memo":~ab12}')
  t.not(canonicalJson({ memo: new LongString(70_000, 'ab12') }), canonicalJson({ memo: new LongString(70_000, 'ab13') }))
  t.equal(canonicalJson({ b: [1, null, true], a: '\ud800"' }), '{"a":"\\ud800\\"","b":[1,null,true]}', 'lone surrogates and quotes are escaped, never lost')
})
