import { activityOrganization, BULK_IDS_SHOWN, type ActivityBill, type ActivityFilter, type ActivityNames, type ActivityRow } from '../../repositories/activity.ts'
import type { MappingKind, MappingRow } from '../../repositories/mappings.ts'
import type { RejectedFilter, RejectedRow } from '../../repositories/rejected.ts'
import { SEARCH_KEYS, type RejectedMatch, type SearchKey, type SearchRow } from '../../repositories/search.ts'
import { html, type Html } from './html.ts'
import type { OrganizationViews } from './organizations.ts'

const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`
const when = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ')
const notice = (text?: string) => (text ? html`<p class="notice" role="status">${text}</p>` : '')
export const query = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1]))).toString()

const KEY_LABEL: Record<SearchKey, string> = { billNumber: 'Bill number', externalId: 'NetSuite id', zohoBillId: 'Zoho bill id', vendor: 'Vendor name' }

function searchTable(rows: SearchRow[], organizations?: OrganizationViews): Html {
  const several = organizations?.several === true
  return html`<table><thead><tr><th>Created</th><th>Bill</th>${several ? html`<th>Organization</th>` : ''}<th>Vendor</th><th class="num">Amount</th><th>Status</th><th>Zoho bill</th></tr></thead><tbody>
  ${rows.map((r) => html`<tr><td>${when(r.createdAt)}</td><td><a href="/admin/transactions/${r.id}">${r.billNumber}</a><br><span class="muted">${r.externalId}</span></td>
    ${several ? html`<td>${organizations!.name(r.organizationId)}</td>` : ''}<td>${r.vendorName}</td><td class="num">${r.amount} ${r.currency}</td><td>${r.status}${r.errorCode ? html`<br><span class="error">${r.errorCode}</span>` : ''}</td><td>${r.zohoBillId ?? '—'}</td></tr>`)}
  </tbody></table>`
}

function rejectedTable(rows: RejectedMatch[]): Html {
  return html`<table><thead><tr><th>Received</th><th>Bill</th><th>Vendor</th><th>Batch</th><th class="num">Item</th><th>Code</th><th>Why</th></tr></thead><tbody>
  ${rows.map((r) => html`<tr><td>${when(r.createdAt)}</td><td>${r.billNumber ?? '—'}<br><span class="muted">${r.externalId ?? ''}</span></td><td>${r.vendorName ?? '—'}</td>
    <td><a href="/admin/batches/${r.batchRowId}#rejected">${r.batchId}</a></td><td class="num">${r.index}</td><td><b>${r.code}</b>${r.field ? html`<br><span class="muted">${r.field}</span>` : ''}</td><td class="msg">${r.message}</td></tr>`)}
  </tbody></table>`
}

export function searchPage(term: string, results: Partial<Record<SearchKey, { rows: SearchRow[]; next: string | null }>>, by?: SearchKey,
  rejected?: { rows: RejectedMatch[]; more: boolean }, organizations?: { views: OrganizationViews; selected?: string }): Html {
  const organization = organizations?.selected
  const found = SEARCH_KEYS.filter((k) => (results[k]?.rows.length ?? 0) > 0)
  const rejectedFound = (rejected?.rows.length ?? 0) > 0
  return html`<form class="filters" method="get" action="/admin/search"><label>Bill number, NetSuite id, Zoho bill id or vendor (start of it, any case)
    <input type="search" name="q" value="${term}" size="40" required></label>
    <label>In <select name="by"><option value="">all four, and rejected items</option>${SEARCH_KEYS.map((k) => html`<option value="${k}"${by === k ? html` selected` : ''}>${KEY_LABEL[k]}</option>`)}</select></label>
    ${organizations?.views.select(organization) ?? ''}
    <button type="submit">Search</button></form>
  ${term === '' ? html`<p class="muted">Type the start of a bill number, a NetSuite id, a vendor name, or a whole Zoho bill id.</p>`
    : found.length === 0 && !rejectedFound ? html`<p>No bill matches “${term}”${by ? '' : ', and no item rejected at ingest'}.</p>`
    : found.map((k) => html`<h2>${KEY_LABEL[k]} <span class="muted">(${results[k]!.rows.length}${results[k]!.next ? '+' : ''})</span></h2>${searchTable(results[k]!.rows, organizations?.views)}
      <p><a href="/admin/search.csv?${query({ q: term, by: k, organization })}">Export CSV</a>
      ${results[k]!.next ? html` · <a href="/admin/search?${query({ q: term, by: k, organization, cursor: results[k]!.next! })}" rel="next">More ${KEY_LABEL[k].toLowerCase()} matches →</a>` : ''}</p>`)}
  ${rejectedFound ? html`<section id="rejected" aria-label="rejected at ingest"><h2>Rejected at ingest <span class="muted">(${rejected!.rows.length}${rejected!.more ? '+' : ''})</span></h2>
    <p class="muted">NetSuite sent these, billbridge refused them: they are not bills here until NetSuite sends them again corrected. By bill number, NetSuite id or vendor name.</p>
    ${rejectedTable(rejected!.rows)}${rejected!.more ? html`<p class="muted">Only the newest ${rejected!.rows.length} are listed: type more of the term, or filter the <a href="/admin/rejected">Rejected</a> page.</p>` : ''}</section>` : ''}`
}

export function rejectedPage(filter: RejectedFilter, rows: RejectedRow[], next: string | null): Html {
  const q = query({ ...filter })
  return html`<p>Bills NetSuite sent that billbridge refused at ingest: tell NetSuite's administrator which to correct and send again.</p>
  <form class="filters" method="get" action="/admin/rejected" aria-label="filters">
    <label>Code <input name="code" value="${filter.code ?? ''}" placeholder="e.g. AMOUNT_INVALID"></label>
    <label>From <input type="date" name="from" value="${filter.from ?? ''}"></label>
    <label>To <input type="date" name="to" value="${filter.to ?? ''}"></label>
    <button type="submit">Filter</button> <a href="/admin/rejected">Clear</a> <a href="/admin/rejected.csv${q ? `?${q}` : ''}">Export CSV</a></form>
  <table><thead><tr><th>Received</th><th>Batch</th><th class="num">Item</th><th>NetSuite id</th><th>Code</th><th>Field</th><th>Message</th></tr></thead><tbody>
  ${rows.length === 0 ? html`<tr><td colspan="7">No rejected bills match.</td></tr>` : rows.map((r) => html`<tr><td>${when(r.createdAt)}</td>
    <td><a href="/admin/batches/${r.batchRowId}">${r.batchId}</a></td><td class="num">${r.index}</td><td>${r.externalId ?? '—'}</td>
    <td><b>${r.code}</b></td><td>${r.field ?? ''}</td><td>${r.message}</td></tr>`)}
  </tbody></table>${next ? html`<p><a href="/admin/rejected?${q ? `${q}&` : ''}cursor=${next}" rel="next">Older →</a></p>` : ''}`
}

export interface BatchItemView {
  index: number
  externalId?: string
  transactionId?: string
  status: string
  error?: { code: string; field?: string; message: string }
}

export function batchPage(batch: { batchId: string; createdAt: string; accepted: number; rejected: number }, items: BatchItemView[]): Html {
  const rejected = items.filter((i) => i.status === 'rejected')
  const row = (i: BatchItemView) => html`<tr><td class="num">${i.index}</td><td>${i.transactionId ? html`<a href="/admin/transactions/${i.transactionId}">${i.externalId ?? i.transactionId}</a>` : i.externalId ?? '—'}</td>
    <td>${i.status}</td><td>${i.error ? html`<b>${i.error.code}</b>` : ''}</td><td>${i.error?.field ?? ''}</td><td>${i.error?.message ?? ''}</td></tr>`
  const table = (list: BatchItemView[]) => html`<table><thead><tr><th class="num">Item</th><th>NetSuite id</th><th>Status</th><th>Code</th><th>Field</th><th>Message</th></tr></thead><tbody>${list.map(row)}</tbody></table>`
  return html`<p>Received ${batch.createdAt.slice(0, 16).replace('T', ' ')} · ${batch.accepted} accepted · ${batch.rejected} rejected</p>
  ${rejected.length ? html`<h2 id="rejected">Rejected (${rejected.length})</h2>${table(rejected)}` : ''}
  <h2>Every item (${items.length})</h2>${table(items)}`
}

const ORIGIN: Record<string, string> = { operator: 'set by an operator', lookup: 'matched automatically', auto: 'matched automatically', created: 'created automatically' }

/** What each kind is called on the NetSuite side and on the Zoho side. */
const NAMES: Record<MappingKind, { netsuite: string; zoho: string }> = {
  account: { netsuite: 'account', zoho: 'account' }, vendor: { netsuite: 'vendor', zoho: 'vendor' }, tax: { netsuite: 'tax code', zoho: 'tax' },
  department: { netsuite: 'department', zoho: 'tag option' }, class: { netsuite: 'class', zoho: 'tag option' }, location: { netsuite: 'location', zoho: 'tag option' },
}
const TABS: Array<[MappingKind, string]> = [['account', 'Accounts'], ['vendor', 'Vendors'], ['tax', 'Taxes'], ['department', 'Tags: department'], ['class', 'class'], ['location', 'location']]

/** The Zoho organization a mappings page works on, and every configured one when there are several to choose from. */
export interface OrganizationChoice {
  current: { id: string; name: string }
  /** empty when only one organization is configured: then the pages neither name nor offer one */
  all: Array<{ id: string; name: string }>
}

/** The organization as a link parameter, when there is a choice. */
const orgQuery = (organization: OrganizationChoice) => (organization.all.length > 0 ? organization.current.id : undefined)
const orgField = (organization: OrganizationChoice) => (organization.all.length > 0 ? html`<input type="hidden" name="organization" value="${organization.current.id}">` : '')

function organizationSelect(organization: OrganizationChoice): Html | string {
  if (organization.all.length === 0) return ''
  return html`<label>Zoho organization <select name="organization">${organization.all.map((o) => html`<option value="${o.id}"${o.id === organization.current.id ? html` selected` : ''}>${o.name} (${o.id})</option>`)}</select></label>`
}

function mappingTabs(kind: MappingKind, organization: OrganizationChoice): Html {
  return html`<p>${TABS.map(([k, label], i) => html`${i === 0 ? '' : ' · '}${k === kind ? html`<b>${label}</b>` : html`<a href="/admin/mappings?${query({ kind: k, organization: orgQuery(organization) })}">${label}</a>`}`)}</p>`
}

export function mappingsPage(kind: MappingKind, rows: MappingRow[], prefix: string, offset: number, more: boolean, organization: OrganizationChoice, text?: string, tagName?: string): Html {
  const names = NAMES[kind]
  const isTag = names.zoho === 'tag option'
  const org = orgQuery(organization)
  return html`${notice(text)}
  ${organization.all.length > 0 ? html`<p>Mappings of the Zoho organization <b>${organization.current.name}</b> <code>${organization.current.id}</code>: each organization has its own chart of accounts, vendors, taxes and tags, and its own mappings.</p>` : ''}
  ${mappingTabs(kind, organization)}
  ${kind === 'tax' ? html`<p class="muted">NetSuite tax codes seen on bills. A code maps automatically to the one active Zoho tax of the same rate and kind (zero-rated, exempt and out of scope are never matched to each other); otherwise pick it here.</p>` : ''}
  ${isTag ? html`<p class="muted">${tagName ? html`NetSuite ${kind} values seen on bills, and the option of the Zoho reporting tag “${tagName}” (ZOHO_TAGS) each goes to: by full name, then by the last part of a name like “Sales : EMEA”, unless an operator picked one.` : html`ZOHO_TAGS maps no Zoho reporting tag to ${kind}: its values are not sent to Zoho.`}</p>` : ''}
  <form class="filters" method="get" action="/admin/mappings"><input type="hidden" name="kind" value="${kind}">
    ${organizationSelect(organization)}<label>Name starts with <input name="q" value="${prefix}"></label><button type="submit">Filter</button></form>
  <table><thead><tr><th>NetSuite ${names.netsuite}</th><th>Zoho ${names.zoho}</th><th class="num">Bills</th><th class="num">Failed now</th><th></th></tr></thead><tbody>
  ${rows.length === 0 ? html`<tr><td colspan="5">None seen yet.</td></tr>` : rows.map((r) => html`<tr>
    <td>${r.label}${r.vendorExternalId ? html` <span class="muted">${r.vendorExternalId}</span>` : ''}</td>
    <td>${r.zohoId ? html`${r.zohoName ?? ''} <code>${r.zohoId}</code> <span class="tag ${r.origin ?? ''}">${ORIGIN[r.origin ?? ''] ?? r.origin}</span>` : html`<span class="tag unmapped">unmapped</span>`}</td>
    <td class="num">${r.bills}</td><td class="num">${r.failed > 0 ? html`<span class="error">${r.failed}</span>` : '0'}</td>
    <td><a href="/admin/mappings/${kind}?${query({ key: r.key, organization: org })}" aria-label="map ${r.label}">${r.zohoId ? 'Change' : 'Map'}</a></td></tr>`)}
  </tbody></table>
  ${more ? html`<p><a href="/admin/mappings?${query({ kind, organization: org, q: prefix || undefined, offset: String(offset + rows.length) })}" rel="next">More →</a></p>` : ''}`
}

export interface Candidate {
  id: string
  name: string
  detail?: string
  email?: string | null
}

const sameEmail = (a?: string | null, b?: string | null) => Boolean(a && b && a.trim().toLowerCase() === b.trim().toLowerCase())

function candidateLabel(c: Candidate, checked: boolean, ambiguous?: { netsuiteEmail: string | null }): Html {
  const radio = html`<input type="radio" name="zohoId" value="${c.id}" required${checked ? html` checked` : ''}>`
  if (!ambiguous) return html`<label style="flex-direction:row;gap:.4rem">${radio} ${c.name} <code>${c.id}</code> <span class="muted">${c.detail ?? ''}</span></label>`
  return html`<label style="flex-direction:row;gap:.4rem;flex-wrap:wrap">${radio} ${c.name} <code>${c.id}</code>
    <span>Zoho email: <b>${c.email ?? 'none'}</b></span> <span class="muted">NetSuite vendor's email: ${ambiguous.netsuiteEmail ?? 'none on its bills'}</span>
    ${sameEmail(c.email, ambiguous.netsuiteEmail) ? html`<span class="tag operator">same email</span>` : ''} <span class="muted">${c.detail ?? ''}</span></label>`
}

function chartLine(kind: MappingKind, find: string, shown: number, chart?: { count: number; matching: number }): Html | string {
  if (kind !== 'account' || !chart) return ''
  const of = find ? html`${chart.matching} accounts whose name or code contains “${find}”` : html`${chart.matching} active accounts in the cached chart`
  return shown < chart.matching
    ? html`<p role="status"><b>Showing ${shown} of ${of}.</b> Type part of the name or code above to find the others.</p>`
    : html`<p class="muted" role="status">All ${of}.</p>`
}

export function mappingEditPage(options: {
  kind: MappingKind; row: MappingRow; find: string; candidates: Candidate[]; csrf: string; failedReasons: string[]; organization: OrganizationChoice
  chart?: { fetchedAt: Date | null; count: number; canRefresh: boolean; matching: number }; zohoError?: string; text?: string
  /** the bills failed VENDOR_AMBIGUOUS: the candidates are the contacts the error named */
  ambiguous?: { netsuiteEmail: string | null }
}): Html {
  const { kind, row, find, candidates, csrf, ambiguous, organization } = options
  const names = NAMES[kind]
  return html`${notice(options.text)}
  <table><tbody>
    ${organization.all.length > 0 ? html`<tr><th>Zoho organization</th><td>${organization.current.name} <code>${organization.current.id}</code></td></tr>` : ''}
    <tr><th>NetSuite ${names.netsuite}</th><td>${row.label}${row.vendorExternalId ? html` <span class="muted">${row.vendorExternalId}</span>` : ''}</td></tr>
    <tr><th>Zoho ${names.zoho} now</th><td>${row.zohoId ? html`${row.zohoName ?? ''} <code>${row.zohoId}</code> (${ORIGIN[row.origin ?? ''] ?? row.origin})` : html`<span class="tag unmapped">unmapped</span>`}</td></tr>
    <tr><th>Bills</th><td>${row.bills} seen, <b>${row.failed}</b> failed now${options.failedReasons.length ? html` (<span class="error">${options.failedReasons.join(', ')}</span>)` : ''}</td></tr>
  </tbody></table>
  ${options.zohoError ? html`<p class="error" role="alert">${options.zohoError}</p>` : ''}
  <h2>Pick the Zoho ${names.zoho}</h2>
  <form class="filters" method="get" action="/admin/mappings/${kind}"><input type="hidden" name="key" value="${row.key}">${orgField(organization)}
    <label>${kind === 'account' ? 'Part of the account name or code' : kind === 'vendor' ? 'Vendor name starts with' : 'Part of the name'} <input type="search" name="find" value="${find}"></label>
    <button type="submit">Find</button></form>
  ${kind === 'account' && options.chart ? html`<form method="post" action="/admin/mappings/account/refresh" class="filters">${csrfField(csrf)}<input type="hidden" name="key" value="${row.key}">${orgField(organization)}
    <span class="muted">Cached chart of accounts: ${options.chart.count} accounts, read ${options.chart.fetchedAt ? options.chart.fetchedAt.toISOString().slice(0, 16).replace('T', ' ') : 'never'}.</span>
    ${options.chart.canRefresh ? html`<button type="submit">Read it again from Zoho</button>` : html`<span class="muted">(this process cannot reach Zoho)</span>`}</form>` : ''}
  ${chartLine(kind, find, candidates.length, options.chart)}
  ${ambiguous ? html`<p>Zoho has several active vendors named “${row.label}”, and the bills failed <b>VENDOR_AMBIGUOUS</b>. These are the Zoho contacts the error names:
    compare each one's email with the NetSuite vendor's, pick the one this vendor's bills belong to (or search by name above).</p>`
    : kind === 'vendor' && !find ? html`<p class="muted">Type the start of the vendor's name in Zoho: the list is read from Zoho as you ask (one request, within the rate budget).</p>` : ''}
  <form method="post" action="/admin/mappings/${kind}">${csrfField(csrf)}<input type="hidden" name="key" value="${row.key}">${orgField(organization)}
    ${candidates.length === 0 ? (find || kind !== 'vendor' ? html`<p>No Zoho ${names.zoho} matches${kind !== 'account' && kind !== 'vendor' ? ' (the list is read from Zoho when a bill first needs it)' : ''}.</p>` : '') : html`<fieldset><legend>Zoho ${names.zoho}s</legend>
      ${candidates.map((c) => candidateLabel(c, c.id === row.zohoId, ambiguous))}
    </fieldset>
    ${row.failed > 0 ? html`<p><label style="flex-direction:row;gap:.4rem"><input type="checkbox" name="retry" value="1" checked> and retry the ${row.failed} bill${row.failed === 1 ? '' : 's'} that failed for this</label></p>` : ''}
    <p><button type="submit">Save mapping</button></p>`}
  </form>`
}

const ACTIONS = ['login', 'logout', 'retry', 'retry_bulk', 'resolve', 'map_account', 'map_vendor', 'map_tax', 'map_tag', 'key_created', 'key_revoked']

function billLink(bill: ActivityBill | undefined, id: string): Html {
  return bill
    ? html`<a href="/admin/transactions/${id}" title="transaction ${id}">${bill.billNumber}</a> <span class="muted">${bill.vendorName}</span>`
    : html`<a href="/admin/transactions/${id}" title="transaction ${id}">a bill no longer stored</a>`
}

function zohoAccount(id: unknown, names: ActivityNames): Html {
  if (typeof id !== 'string') return html`unmapped`
  const name = names.zohoAccounts.get(id)
  return name ? html`<span title="Zoho account ${id}">${name}</span>` : html`Zoho account <code>${id}</code>`
}

const filterText = (filter: Record<string, unknown>) => Object.entries(filter).map(([k, v]) => `${k} ${String(v)}`).join(', ')

function subject(r: ActivityRow, names: ActivityNames): Html | string {
  if (!r.subject) return ''
  if (/^[0-9a-f-]{36}$/.test(r.subject)) return billLink(names.bills.get(r.subject), r.subject)
  if (r.action === 'map_account') return html`NetSuite account ${r.subject}`
  if (r.action === 'map_vendor') return html`NetSuite vendor ${r.subject}`
  if (r.action === 'map_tax') return html`NetSuite tax code ${r.subject}`
  if (r.action === 'map_tag') return html`NetSuite ${r.subject}`
  return r.subject
}

function describe(r: ActivityRow, names: ActivityNames): Html | string {
  const d = r.detail
  if (r.action === 'map_account') return html`${zohoAccount(d.old, names)} → ${zohoAccount(d.new, names)}`
  if (r.action === 'map_vendor') return html`${typeof d.old === 'string' ? html`Zoho vendor <code>${d.old}</code>` : 'unmapped'} → Zoho vendor <code>${String(d.new)}</code>`
  if (r.action === 'map_tax') return html`${typeof d.old === 'string' ? html`Zoho tax <code>${d.old}</code>` : 'unmapped'} → Zoho tax <code>${String(d.new)}</code>`
  if (r.action === 'map_tag') return html`${typeof d.old === 'string' ? html`tag option <code>${d.old}</code>` : 'unmapped'} → tag option <code>${String(d.new)}</code>`
  if (r.action === 'retry_bulk' || r.action === 'retry') {
    const ids = (Array.isArray(d.ids) ? d.ids : []).filter((id): id is string => typeof id === 'string')
    const count = Number(d.count ?? ids.length)
    const shown = ids.slice(0, BULK_IDS_SHOWN)
    return html`${count} bill${count === 1 ? '' : 's'}${d.filter && typeof d.filter === 'object' ? ` matching ${filterText(d.filter as Record<string, unknown>)}` : ''}${shown.length ? html`: ${shown.map((id, i) => html`${i ? ', ' : ''}${billLink(names.bills.get(id), id)}`)}${count > shown.length ? ` and ${count - shown.length} more` : ''}` : ''}`
  }
  if (r.action === 'resolve') return `note: ${String(d.note ?? '')}`
  if (r.action === 'key_created') return `scopes ${(d.scopes as string[] | undefined)?.join(',') ?? ''}`
  return ''
}

const organizationCell = (organizationId: string | null, organizations: OrganizationViews) => (organizationId ? organizations.name(organizationId) : '')

export function activityPage(filter: ActivityFilter, rows: ActivityRow[], next: string | null, names: ActivityNames, organizations?: OrganizationViews): Html {
  const q = query({ ...filter })
  const several = organizations?.several === true
  return html`<form class="filters" method="get" action="/admin/activity" aria-label="filters">
    <label>Who (key name) <input name="actor" value="${filter.actor ?? ''}"></label>
    <label>Action <select name="action"><option value="">any</option>${ACTIONS.map((a) => html`<option${filter.action === a ? html` selected` : ''}>${a}</option>`)}</select></label>
    <label>From <input type="date" name="from" value="${filter.from ?? ''}"></label>
    <label>To <input type="date" name="to" value="${filter.to ?? ''}"></label>
    ${organizations?.select(filter.organization) ?? ''}
    <button type="submit">Filter</button> <a href="/admin/activity">Clear</a></form>
  <table><thead><tr><th>When (UTC)</th><th>Who</th><th>Action</th><th>On</th>${several ? html`<th>Organization</th>` : ''}<th>What</th><th>From</th></tr></thead><tbody>
  ${rows.length === 0 ? html`<tr><td colspan="${several ? 7 : 6}">No operator actions match.</td></tr>` : rows.map((r) => html`<tr><td>${r.at.toISOString().slice(0, 19).replace('T', ' ')}</td>
    <td>${r.actor}</td><td>${r.action}</td><td>${subject(r, names)}</td>${several ? html`<td>${organizationCell(activityOrganization(r, names), organizations!)}</td>` : ''}
    <td class="msg">${describe(r, names)}</td><td>${r.address ?? ''}</td></tr>`)}
  </tbody></table>${next ? html`<p><a href="/admin/activity?${q ? `${q}&` : ''}cursor=${next}" rel="next">Older →</a></p>` : ''}`
}
