import t from 'tap'
import { formatAlert } from '../../src/delivery/alerts.ts'

const notices = [
  { transactionId: 'a', code: 'ACCOUNT_UNMAPPED', message: 'no active Zoho account matches "7777 consulting fees"' },
  { transactionId: 'b', code: 'ACCOUNT_UNMAPPED', message: 'no active Zoho account matches "7777 consulting fees"' },
  { transactionId: 'c', code: 'VENDOR_AMBIGUOUS', message: 'several vendors named Acme' },
]

t.test('ALERT_FORMAT=slack: a text naming each code, its count, the fix and a link to the failed list filtered to it', async (t) => {
  const { text } = formatAlert(notices, 'slack', 'https://billbridge.example.com/') as { text: string }
  t.match(text, /^billbridge: 3 bills failed delivery to Zoho Books/)
  t.match(text, /\*ACCOUNT_UNMAPPED\* × 2: map the NetSuite account to a Zoho account on the Mappings page, and retry from there\. <https:\/\/billbridge\.example\.com\/admin\/failed\?errorCode=ACCOUNT_UNMAPPED\|See the failed bills>/)
  t.match(text, /\*VENDOR_AMBIGUOUS\* × 1: .*Mappings page/)
  t.same(Object.keys(formatAlert(notices, 'slack')), ['text'], 'only the field an incoming webhook reads')
})

t.test('ALERT_FORMAT=json: the counts by code with their fixes and links, and the failures', async (t) => {
  const body = formatAlert([...notices, { transactionId: 'q', code: 'SOMETHING_NEW', message: 'x', count: 4 }], 'json') as any
  t.equal(body.count, 7)
  t.same(body.byCode, { ACCOUNT_UNMAPPED: 2, VENDOR_AMBIGUOUS: 1, SOMETHING_NEW: 4 })
  t.same(body.codes[0], { code: 'SOMETHING_NEW', count: 4, fix: 'open the failed bills to read the message, then retry or mark resolved', link: '/admin/failed?errorCode=SOMETHING_NEW' })
  t.equal(body.failures.length, 4)
})

t.test('reconciliation differences are counted as differences, not as failed deliveries, and link to their page', async (t) => {
  const found = { transactionId: 'run', code: 'RECONCILIATION_DIFFERENCES', message: 'reconciliation with Zoho found 3 new difference(s)', count: 3 }
  const alone = formatAlert([found], 'slack', 'https://billbridge.example.com') as { text: string }
  t.match(alone.text, /^billbridge: 3 new differences between Zoho Books and what billbridge delivered\n/)
  t.notMatch(alone.text, /failed delivery/)
  t.match(alone.text, /<https:\/\/billbridge\.example\.com\/admin\/reconciliation\|See the differences>/)
  const mixed = formatAlert([...notices, found], 'json') as { text: string; count: number }
  t.equal(mixed.text, 'billbridge: 3 bills failed delivery to Zoho Books; 3 new differences between Zoho Books and what billbridge delivered')
})
