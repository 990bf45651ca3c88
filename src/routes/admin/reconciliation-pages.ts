import { DIFFERENCE_KINDS, type DifferenceKind } from '../../reconcile/compare.ts'
import type { DifferenceRow, RunSummary } from '../../repositories/reconciliation.ts'
import { html, type Html } from './html.ts'

const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`
const when = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '—')

const KIND_TEXT: Record<DifferenceKind, string> = {
  missing_in_zoho: 'Missing in Zoho (deleted there)',
  voided_in_zoho: 'Voided in Zoho',
  total_differs: 'Total differs',
  date_differs: 'Date differs',
  vendor_differs: 'Vendor differs',
  currency_differs: 'Currency differs',
  not_in_billbridge: "In Zoho with billbridge's marker, unknown to billbridge",
}

function actions(d: DifferenceRow, csrf: string): Html {
  const button = (action: string, label: string) => html`<form method="post" action="/admin/reconciliation/${d.id}/${action}" style="display:inline">${csrfField(csrf)}<button type="submit">${label}</button></form>`
  return html`${d.kind === 'missing_in_zoho' ? button('redeliver', 'Deliver again') : ''}
    ${d.kind === 'missing_in_zoho' || d.kind === 'not_in_billbridge' ? '' : button('accept', "Accept Zoho's version")}
    ${button('review', 'Mark reviewed')}`
}

/** Names of the configured organizations by id; the pages show an organization column only when there are several. */
export type OrganizationNames = ReadonlyMap<string, string>

function organizationCell(id: string | null, names: OrganizationNames): Html | string {
  if (names.size < 2) return ''
  if (id === null) return html`<td class="muted">—</td>`
  const name = names.get(id)
  return html`<td>${name ?? 'no longer configured'} <code>${id}</code></td>`
}
const organizationHead = (names: OrganizationNames) => (names.size < 2 ? '' : html`<th>Zoho organization</th>`)

function runLine(r: RunSummary, names: OrganizationNames): Html {
  return html`<tr>${organizationCell(r.organizationId, names)}<td>${when(r.startedAt)}</td><td>${r.trigger}</td><td>${r.state}${r.note ? html`<br><span class="muted">${r.note}</span>` : ''}</td>
    <td class="num">${r.requests}</td><td class="num">${r.billsRead}</td><td class="num">${r.newDifferences}</td><td>${when(r.finishedAt)}</td></tr>`
}

export function reconciliationPage(rows: DifferenceRow[], counts: Record<DifferenceKind, number>, runs: RunSummary[], csrf: string, names: OrganizationNames, notice?: string): Html {
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  return html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
  <p>billbridge reads its bills back from Zoho and lists here where Zoho's books no longer agree with what it delivered.
  A difference a later run no longer finds closes by itself.</p>
  ${names.size > 1 ? html`<p class="muted">Each Zoho organization is reconciled on its own: its bills, its differences, and its own share of its daily Zoho quota.</p>` : ''}
  <form method="post" action="/admin/reconciliation/run">${csrfField(csrf)}<button type="submit">Run a reconciliation now${names.size > 1 ? ' (every organization)' : ''}</button></form>
  <h2>Latest runs</h2>
  ${runs.length === 0 ? html`<p class="muted">No run yet.</p>` : html`<table><thead><tr>${organizationHead(names)}<th>Started</th><th>By</th><th>State</th><th class="num">Zoho requests</th><th class="num">Bills read</th><th class="num">New differences</th><th>Finished</th></tr></thead>
    <tbody>${runs.map((r) => runLine(r, names))}</tbody></table>`}
  <h2>Open differences (${total})</h2>
  ${total === 0 ? html`<p class="muted">None: the books agree.</p>` : DIFFERENCE_KINDS.filter((k) => counts[k] > 0).map((kind) => {
    const list = rows.filter((r) => r.kind === kind)
    return html`<section aria-label="${kind}"><h3 id="${kind}">${KIND_TEXT[kind]} <span class="muted">(${counts[kind]}${counts[kind] > list.length ? `, newest ${list.length} shown` : ''})</span></h3>
    <table><thead><tr>${organizationHead(names)}<th>Bill</th><th>Zoho bill</th><th>billbridge</th><th>Zoho</th><th>Found</th><th></th></tr></thead><tbody>
    ${list.map((d) => html`<tr>${organizationCell(d.organizationId, names)}<td>${d.transactionId ? html`<a href="/admin/transactions/${d.transactionId}">${d.billNumber ?? d.externalId}</a><br>` : ''}<span class="muted">${d.externalId ?? ''}</span></td>
      <td>${d.zohoBillId ?? '—'}</td><td>${d.billbridgeValue ?? '—'}</td><td>${d.zohoValue ?? '—'}</td><td>${when(d.foundAt)}</td><td>${actions(d, csrf)}</td></tr>`)}
    </tbody></table></section>`
  })}`
}
