import type pg from 'pg'
import { request } from 'undici'
import type { Logger } from '../logger.ts'
import type { OrganizationConfig } from '../zoho/organizations.ts'

export interface FailureNotice {
  transactionId: string
  billNumber?: string
  code: string
  message: string
  /** bills this notice stands for, when more than one (a daily quota notice) */
  count?: number
  /** the Zoho organization it is about; for a bill, read from the bill when not given */
  organizationId?: string
}

/** How an alert names organizations: the entry's name, else its label (src/zoho/organizations.ts). */
export type AlertOrganization = Pick<OrganizationConfig, 'organizationId' | 'label' | 'name'>

export interface Alerter {
  notify(notice: FailureNotice): Promise<void>
  close(): Promise<void>
}

const INTERVAL_MS = 60_000

export type AlertFormat = 'json' | 'slack'

/** What an operator does about each code; the alert says it next to the count, and docs/api.md in its table of delivery codes. */
const FIXES: Record<string, string> = {
  ACCOUNT_UNMAPPED: 'map the NetSuite account to a Zoho account on the Mappings page, and retry from there',
  VENDOR_AMBIGUOUS: 'Zoho has several vendors of that name: pick one on the Mappings page (Vendors), and retry from there',
  VENDOR_NOT_FOUND: 'create the vendor in Zoho or map it on the Mappings page (Vendors), then retry',
  // A NetSuite vendor maps to one Zoho vendor for all its bills, and a Zoho vendor has one currency.
  CURRENCY_MISMATCH: "the bill's currency is not its Zoho vendor's, and billbridge maps a NetSuite vendor to one Zoho vendor for all its bills: " +
    "if the bill's currency is wrong, correct it in NetSuite and send the bill again; if the vendor really bills in this currency too, " +
    'enter the bill in Zoho Books by hand under a Zoho vendor in that currency and mark it resolved. ' +
    "Remap the vendor only if all its bills are in this currency: its bills in the other currency would fail",
  CURRENCY_NOT_ENABLED: 'enable the currency in Zoho Books (Settings → Currencies), then retry',
  BILL_NUMBER_TAKEN: 'another bill of this vendor has this number in Zoho this year: correct it in NetSuite or in Zoho, then retry or mark resolved',
  ZOHO_UNAUTHORIZED: 'the Zoho refresh token was revoked or lacks scopes: issue a new one and restart billbridge',
  ZOHO_ORGANIZATION_UNKNOWN: "correct the organization's id, data centre or credentials (its ZOHO_ORGANIZATIONS entry, or ZOHO_ORGANIZATION_ID and ZOHO_DC), restart billbridge, then retry its failed bills",
  ZOHO_DAILY_LIMIT: "Zoho's daily request quota is spent: bills wait for the next UTC day on their own",
  RETRIES_EXHAUSTED: 'Zoho kept failing: check Zoho status, then retry',
  TAX_UNMAPPED: 'map the NetSuite tax code to a Zoho tax on the Mappings page (Taxes), and retry from there',
  TAG_UNMAPPED: 'map the NetSuite department, class or location to a reporting tag option on the Mappings page (Tags), and retry from there',
  TAG_REQUIRED: 'Zoho requires a reporting tag the bill lacks: fill the segment the message names in NetSuite and send the bill again, or add the tag to ZOHO_TAGS',
  ZOHO_TAXES_TOO_LONG: 'the organization lists more taxes than billbridge reads: deactivate unused taxes in Zoho Books, then retry',
  TAX_DIFFERS: "Zoho's tax differs from NetSuite's beyond the tolerance: check the tax code's mapping (Mappings page, Taxes) and the bill's tax in NetSuite, then retry or send the bill again",
  VENDOR_COUNTRY_REQUIRED: "set the vendor's country in NetSuite and send the bill again",
  VENDOR_TAX_ID_REQUIRED: "set the vendor's tax number (GSTIN, VAT number or TRN) in NetSuite and send the bill again",
  VENDOR_STATE_REQUIRED: "set the vendor's GSTIN in NetSuite and send the bill again, or enter the bill in Zoho Books by hand and mark it resolved",
  UPDATE_REFUSED: "Zoho keeps the version it last accepted (the bill page shows what differs): if the bill is paid, undo or reduce the payment in Zoho Books or correct the bill in NetSuite so its total is not below what was paid; if the period is locked, unlock it (Settings → Transaction Locking); if it is void, mark it open; then retry",
  VOID_REFUSED: 'NetSuite cancelled a bill Zoho has payments on: delete or refund the payments in Zoho Books, then retry (the void follows); or, if the bill stands, mark it resolved',
  RECONCILIATION_DIFFERENCES: "Zoho's books no longer agree with what billbridge delivered: open the Reconciliation page to deliver again, accept Zoho's version or mark reviewed",
  PLACE_OF_SUPPLY_REQUIRED: "set the organization's emirate in Zoho Books (Settings → Organization Profile), then retry",
}

export function fixFor(code: string): string {
  return FIXES[code] ?? 'open the failed bills to read the message, then retry or mark resolved'
}

const RECONCILIATION = 'RECONCILIATION_DIFFERENCES'

/**
 * The webhook body: billbridge's JSON, or Slack's incoming-webhook `text`; each code with its count, fix and
 * a link, per Zoho organization when the notices name one (by its name and id).
 */
export function formatAlert(batch: FailureNotice[], format: AlertFormat, dashboardUrl?: string, organizations: readonly AlertOrganization[] = []) {
  const nameOf = (id: string) => {
    const found = organizations.find((o) => o.organizationId === id)
    return found ? found.name ?? found.label : null
  }
  const named = (id: string) => `${nameOf(id) ?? 'an organization no longer configured'} (Zoho organization ${id})`
  const byCode = new Map<string, number>()
  // Counts by organization ('' for none) and code, in the order first seen.
  const groups = new Map<string, { organizationId: string | undefined; code: string; count: number }>()
  for (const n of batch) {
    byCode.set(n.code, (byCode.get(n.code) ?? 0) + (n.count ?? 1))
    const key = `${n.organizationId ?? ''}\n${n.code}`
    const group = groups.get(key) ?? { organizationId: n.organizationId, code: n.code, count: 0 }
    group.count += n.count ?? 1
    groups.set(key, group)
  }
  const total = [...byCode.values()].reduce((a, b) => a + b, 0)
  const base = dashboardUrl ? dashboardUrl.replace(/\/$/, '') : ''
  const link = (code: string, organizationId: string | undefined) => code === RECONCILIATION ? `${base}/admin/reconciliation`
    : `${base}/admin/failed?errorCode=${encodeURIComponent(code)}${organizationId ? `&organization=${encodeURIComponent(organizationId)}` : ''}`
  const codes = [...groups.values()].sort((a, b) => b.count - a.count).map(({ organizationId, code, count }) => ({
    code, count, fix: fixFor(code), link: link(code, organizationId), ...(organizationId ? { organizationId, organizationName: nameOf(organizationId) } : {}),
  }))
  // Reconciliation differences are not failed deliveries: the headline counts each for what it is.
  const differences = byCode.get(RECONCILIATION) ?? 0
  const failed = total - differences
  const failedIn = new Map<string, number>()
  for (const g of groups.values()) if (g.code !== RECONCILIATION && g.organizationId) failedIn.set(g.organizationId, (failedIn.get(g.organizationId) ?? 0) + g.count)
  // "in <organization>" when every failure is of one; else how many in each.
  const [only] = failedIn.size === 1 ? [...failedIn] : []
  const where = failedIn.size === 0 ? '' : only && only[1] === failed ? ` in ${named(only[0])}` : `: ${[...failedIn].map(([id, n]) => `${n} in ${named(id)}`).join(', ')}`
  const parts = [
    ...(failed > 0 ? [`${failed} bill${failed === 1 ? '' : 's'} failed delivery to Zoho Books${where}`] : []),
    ...(differences > 0 ? [`${differences} new difference${differences === 1 ? '' : 's'} between Zoho Books and what billbridge delivered`] : []),
  ]
  const headline = `billbridge: ${parts.join('; ')}`
  if (format === 'slack') {
    // Slack's mrkdwn: <url|label>; the link is relative when DASHBOARD_URL is not set, so Slack shows it as text.
    const lines = codes.map((c) => `• *${c.code}* × ${c.count}${c.organizationId ? ` in ${named(c.organizationId)}` : ''}: ${c.fix}. ${dashboardUrl ? `<${c.link}|${c.code === RECONCILIATION ? 'See the differences' : 'See the failed bills'}>` : c.link}`)
    return { text: [headline, ...lines].join('\n') }
  }
  const failures = batch.slice(0, 50).map((n) => (n.organizationId ? { ...n, organizationName: nameOf(n.organizationId) } : n))
  const byOrganization = [...new Set(batch.map((n) => n.organizationId).filter((id): id is string => Boolean(id)))]
    .map((organizationId) => ({ organizationId, organizationName: nameOf(organizationId), count: batch.filter((n) => n.organizationId === organizationId).reduce((a, n) => a + (n.count ?? 1), 0) }))
  return { text: headline, count: total, byCode: Object.fromEntries(byCode), codes, organizations: byOrganization, failures }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Notices about a bill that do not say its organization get the bill's: one query for the whole batch. */
async function withOrganizations(pool: pg.Pool, batch: FailureNotice[]): Promise<FailureNotice[]> {
  const ids = [...new Set(batch.filter((n) => !n.organizationId && UUID.test(n.transactionId)).map((n) => n.transactionId))]
  if (ids.length === 0) return batch
  const { rows } = await pool.query<{ id: string; organization_id: string | null }>('SELECT id, organization_id FROM transactions WHERE id = ANY($1::uuid[])', [ids])
  const of = new Map(rows.filter((r) => r.organization_id).map((r) => [r.id, r.organization_id!]))
  return batch.map((n) => (!n.organizationId && of.has(n.transactionId) ? { ...n, organizationId: of.get(n.transactionId)! } : n))
}

/**
 * Failure alerts to ALERT_WEBHOOK_URL as one JSON POST that summarises what failed, at most once a minute
 * across every process: the right to send is claimed on the alert_state row.
 */
export function createAlerter(options: { pool: pg.Pool; url?: string; logger: Logger; intervalMs?: number; format?: AlertFormat; dashboardUrl?: string; organizations?: readonly AlertOrganization[] }): Alerter {
  const interval = options.intervalMs ?? INTERVAL_MS
  let pending: FailureNotice[] = []
  let timer: NodeJS.Timeout | null = null

  async function claim(): Promise<boolean> {
    const { rowCount } = await options.pool.query(
      `UPDATE alert_state SET last_sent_at = clock_timestamp() WHERE id = 1 AND last_sent_at <= clock_timestamp() - make_interval(secs => $1)`, [interval / 1000])
    return rowCount === 1
  }

  async function flush(): Promise<void> {
    timer = null
    if (pending.length === 0 || !options.url) return
    if (!(await claim().catch(() => false))) {
      schedule(Math.min(interval, 10_000))
      return
    }
    const taken = pending
    pending = []
    const batch = await withOrganizations(options.pool, taken).catch((err: unknown) => {
      options.logger.warn({ err }, 'could not read the organizations of the failed bills for the alert')
      return taken
    })
    const body = formatAlert(batch, options.format ?? 'json', options.dashboardUrl, options.organizations)
    try {
      const res = await request(options.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      await res.body.dump()
      if (res.statusCode >= 300) options.logger.warn({ status: res.statusCode }, 'alert webhook refused the alert')
    } catch (err) {
      options.logger.warn({ err }, 'alert webhook unreachable')
    }
  }

  function schedule(ms: number): void {
    if (!timer) timer = setTimeout(() => void flush(), ms)
  }

  return {
    async notify(notice) {
      if (!options.url) return
      pending.push(notice)
      schedule(0)
    },
    async close() {
      if (timer) clearTimeout(timer)
      timer = null
      await flush()
    },
  }
}
