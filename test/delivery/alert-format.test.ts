import t from 'tap'
import { createAlerter, formatAlert } from '../../src/delivery/alerts.ts'
import { startAlertReceiver } from '../helpers/alerts.ts'
import { createTestDatabase, silentLogger } from '../helpers/db.ts'

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

const organizations = [{ organizationId: '60012345678', label: '[0] ("Acme US")', name: 'Acme US' }, { organizationId: '70098765432', label: '[1]' }]
const us = (id: string) => ({ transactionId: id, code: 'ACCOUNT_UNMAPPED', message: 'no account', organizationId: '60012345678' })
const uk = (id: string) => ({ transactionId: id, code: 'ACCOUNT_UNMAPPED', message: 'no account', organizationId: '70098765432' })

t.test('an alert names the organization of its bills, by name and id, in the text, the lines, the links and the JSON', async (t) => {
  const one = formatAlert([us('a'), us('b')], 'slack', 'https://billbridge.example.com', organizations) as { text: string }
  t.match(one.text, /^billbridge: 2 bills failed delivery to Zoho Books in Acme US \(Zoho organization 60012345678\)\n/)
  t.match(one.text, /\*ACCOUNT_UNMAPPED\* × 2 in Acme US \(Zoho organization 60012345678\): map the NetSuite account .*<https:\/\/billbridge\.example\.com\/admin\/failed\?errorCode=ACCOUNT_UNMAPPED&organization=60012345678\|See the failed bills>/)

  const both = formatAlert([us('a'), uk('b'), uk('c')], 'json', undefined, organizations) as any
  t.equal(both.text, 'billbridge: 3 bills failed delivery to Zoho Books: 1 in Acme US (Zoho organization 60012345678), 2 in [1] (Zoho organization 70098765432)')
  t.same(both.codes, [
    { code: 'ACCOUNT_UNMAPPED', count: 2, fix: both.codes[0].fix, link: '/admin/failed?errorCode=ACCOUNT_UNMAPPED&organization=70098765432', organizationId: '70098765432', organizationName: '[1]' },
    { code: 'ACCOUNT_UNMAPPED', count: 1, fix: both.codes[0].fix, link: '/admin/failed?errorCode=ACCOUNT_UNMAPPED&organization=60012345678', organizationId: '60012345678', organizationName: 'Acme US' },
  ], 'a count per organization and code')
  t.same(both.byCode, { ACCOUNT_UNMAPPED: 3 })
  t.same(both.organizations, [{ organizationId: '60012345678', organizationName: 'Acme US', count: 1 }, { organizationId: '70098765432', organizationName: '[1]', count: 2 }])
  t.match(both.failures[0], { transactionId: 'a', organizationId: '60012345678', organizationName: 'Acme US' })

  const gone = formatAlert([{ ...us('a'), organizationId: '5' }], 'json', undefined, organizations) as any
  t.match(gone.text, /in an organization no longer configured \(Zoho organization 5\)$/)
  t.equal(gone.failures[0].organizationName, null)
})

t.test('the alerter reads the organization of each failed bill when the notice does not give it', async (t) => {
  const { pool } = await createTestDatabase(t)
  const receiver = await startAlertReceiver(t)
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO transactions (external_id, bill_number, vendor_name, vendor, bill, amount, currency, status, blob_key, file_name, sha256, size_bytes, organization_id)
     VALUES ('N1', 'B-1', 'Acme', '{"name":"Acme"}', '{}', 10, 'USD', 'failed', 'k/1', 'b.pdf', repeat('0', 64), 1, '70098765432') RETURNING id`)
  const alerter = createAlerter({ pool, url: receiver.url, logger: silentLogger, intervalMs: 1000, organizations })
  await alerter.notify({ transactionId: rows[0]!.id, billNumber: 'B-1', code: 'VENDOR_NOT_FOUND', message: 'no vendor' })
  await alerter.close()
  t.equal(receiver.alerts.length, 1)
  t.match(receiver.alerts[0], { text: 'billbridge: 1 bill failed delivery to Zoho Books in [1] (Zoho organization 70098765432)', failures: [{ organizationId: '70098765432', organizationName: '[1]' }] })
})

t.test('reconciliation differences in one organization: counted as differences, named by organization', async (t) => {
  const found = { transactionId: '7', code: 'RECONCILIATION_DIFFERENCES', message: 'found 2 new difference(s)', count: 2, organizationId: '70098765432' }
  const slack = formatAlert([found], 'slack', 'https://billbridge.example.com', organizations) as { text: string }
  t.match(slack.text, /^billbridge: 2 new differences between Zoho Books and what billbridge delivered\n/)
  t.match(slack.text, /\*RECONCILIATION_DIFFERENCES\* × 2 in \[1\] \(Zoho organization 70098765432\): .*<https:\/\/billbridge\.example\.com\/admin\/reconciliation\|See the differences>/)
})
