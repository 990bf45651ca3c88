import { fixFor } from '../../delivery/alerts.ts'
import type { FailedFilter, FailedRow } from '../../repositories/failed.ts'
import type { OrganizationBacklog } from '../../repositories/backlog.ts'
import type { OrganizationOverview, Overview } from '../../repositories/overview.ts'
import { versionDiff, type listVersions, type TransactionView } from '../../repositories/transactions.ts'

type BillVersion = Awaited<ReturnType<typeof listVersions>>[number]
import { html, raw, type Html } from './html.ts'
import type { OrganizationViews } from './organizations.ts'

const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`

function ago(date: Date | null): string {
  if (!date) return '—'
  const s = Math.round((Date.now() - date.getTime()) / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${Math.round(s / 3600)} h`
}

/** Deliveries per hour over the last 24 h as inline SVG bars. */
function hourlyChart(hourly: Overview['hourly']): Html {
  const now = new Date()
  now.setUTCMinutes(0, 0, 0)
  const hours = Array.from({ length: 24 }, (_, i) => new Date(now.getTime() - (23 - i) * 3_600_000))
  const byHour = new Map(hourly.map((h) => [h.hour.getTime(), h.n]))
  const values = hours.map((h) => byHour.get(h.getTime()) ?? 0)
  const max = Math.max(1, ...values)
  const bars = values.map((v, i) => {
    const height = Math.round((v / max) * 120)
    return html`<rect class="bar" x="${i * 25 + 30}" y="${130 - height}" width="20" height="${height}"><title>${hours[i]!.toISOString().slice(11, 16)} UTC: ${v} delivered</title></rect>
      ${i % 3 === 0 ? html`<text class="axis" x="${i * 25 + 30}" y="145">${hours[i]!.toISOString().slice(11, 13)}h</text>` : ''}`
  })
  return html`<svg role="img" aria-label="Deliveries per hour, last 24 hours; most in one hour: ${max}" width="640" height="150" viewBox="0 0 640 150">
    <text class="axis" x="0" y="12">${max}</text><text class="axis" x="0" y="130">0</text>${bars}</svg>`
}

export function overviewPage(o: Overview, backlog: OrganizationBacklog[] = []): Html {
  const statuses = ['queued', 'processing', 'delivered', 'failed', 'resolved', 'cancelled']
  const several = o.organizations.length > 1
  return html`
  ${several ? organizationsTable(o.organizations, backlog) : ''}
  ${backlog.map(backlogSection)}
  <section aria-label="bills by status" class="cards">
    ${statuses.map((s) => html`<div class="card ${s}"><span>${s}</span><b>${(o.statusCounts[s] ?? 0).toLocaleString('en-US')}</b></div>`)}
    <div class="card"><span>waiting for delivery</span><b>${o.queued.toLocaleString('en-US')}</b><span class="muted">oldest ${ago(o.oldestQueuedAt)}</span></div>
    <div class="card failed"><span>dead letters</span><b>${o.deadLetters}</b></div>
  </section>
  <h2>Deliveries per hour (24 h)</h2>${hourlyChart(o.hourly)}
  <h2>Failed now, by reason</h2>
  ${o.reasons.length === 0 ? html`<p class="muted">No bill is failed now.</p>` : html`<table><thead><tr><th>Last error</th><th class="num">Bills</th><th>What to do</th><th></th></tr></thead><tbody>
    ${o.reasons.map((r) => html`<tr><td>${r.code}</td><td class="num">${r.n}</td><td class="msg">${fixFor(r.code)}</td><td><a href="/admin/failed?errorCode=${encodeURIComponent(r.code)}">see failed bills</a></td></tr>`)}</tbody></table>`}
  ${o.organizations.map((org) => zohoSection(org, several))}`
}

const organizationLabel = (o: { name: string; organizationId: string }) => html`${o.name} <span class="muted">(organization <code>${o.organizationId}</code>)</span>`

/** With several organizations, one row each: what waits, what failed, a pause, today's requests and the ETA. */
function organizationsTable(organizations: OrganizationOverview[], backlog: OrganizationBacklog[]): Html {
  const at = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
  return html`<section aria-label="organizations"><h2>Zoho organizations</h2>
  <table><thead><tr><th>Organization</th><th class="num">Bills waiting</th><th class="num">Failed</th><th>Paused until</th><th class="num">Requests today</th><th>Backlog in Zoho</th></tr></thead><tbody>
  ${organizations.map((o) => {
    const b = backlog.find((x) => x.organizationId === o.organizationId)
    const eta = !b ? '—' : b.eta.basis === 'empty' ? 'nothing waits' : b.eta.at ? at(b.eta.at) : 'more than a year'
    return html`<tr data-organization="${o.organizationId}"><td>${organizationLabel(o)}</td><td class="num">${o.waiting.toLocaleString('en-US')}</td>
      <td class="num">${o.failed > 0 ? html`<a href="/admin/failed?organization=${encodeURIComponent(o.organizationId)}">${o.failed.toLocaleString('en-US')}</a>` : '0'}</td>
      <td>${o.bucket?.blockedUntil ? at(o.bucket.blockedUntil) : '—'}</td>
      <td class="num">${(o.bucket?.dayCount ?? 0).toLocaleString('en-US')} of ${o.dailyLimit.toLocaleString('en-US')}</td><td>${eta}</td></tr>`
  })}</tbody></table></section>`
}

/** An organization's token, rate bucket and daily requests. */
function zohoSection(o: OrganizationOverview, several: boolean): Html {
  return html`<h2>Zoho${several ? html` — ${organizationLabel(o)}` : ''}</h2>
  <table><tbody>
    <tr><th>Access token</th><td>${o.token ? `expires in ${Math.max(0, Math.round((o.token.expiresAt.getTime() - Date.now()) / 1000))} s (refreshed ${ago(o.token.refreshedAt)} ago, ${o.token.refreshes} refreshes)` : 'none cached yet'}</td></tr>
    <tr><th>Rate bucket</th><td>${o.bucket ? `${o.bucket.permits.toFixed(2)} permits left, refilling ${o.bucket.perMinute.toFixed(0)} per minute; ${o.bucket.blockedUntil ? `paused until ${o.bucket.blockedUntil.toISOString()}` : 'not paused'}; ${o.bucket.rateLimited} 429s so far` : 'no request made yet'}</td></tr>
    <tr><th>Today's requests</th><td>${o.bucket ? `${o.bucket.dayCount} of ${o.bucket.dailyLimit}, counted again from ${o.bucket.dailyResetAt.toISOString()}` : `0 of ${o.dailyLimit}`}</td></tr>${o.bucket?.concurrencyCap ? html`
    <tr><th>Concurrency</th><td>narrowed to ${o.bucket.concurrencyCap} after Zoho's concurrency limit</td></tr>` : ''}
  </tbody></table>`
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 120) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} days ${hours % 24} h`
}

function etaText(b: OrganizationBacklog): Html {
  const { eta } = b
  if (eta.basis === 'empty') return html`<b>Nothing is waiting</b>: every bill accepted is in Zoho (or failed).`
  if (!eta.at || eta.seconds === null) return html`<b>More than a year</b> at ${b.dailyLimit.toLocaleString('en-US')} requests a day: raise the plan's daily quota.`
  const day = eta.resets === 0 ? 'today' : eta.resets === 1 ? 'tomorrow' : `in ${eta.resets} quota days`
  const why = eta.limitedBy === 'quota'
    ? html`today's quota runs out first: the rest waits for the reset at ${b.dailyResetAt.toISOString().slice(11, 16)} UTC and goes on at ${b.dailyLimit.toLocaleString('en-US')} requests a day`
    : html`at the pace now, within the quota`
  const basis = eta.basis === 'budget'
    ? html`; nothing was delivered in the last 10 minutes, so reckoned at the bucket's ${b.budgetPerMinute.toFixed(0)} requests a minute${b.pausedUntil ? html` once the pause ends (${b.pausedUntil.toISOString().slice(0, 16).replace('T', ' ')} UTC)` : ''}`
    : ''
  return html`<b>${eta.at.toISOString().slice(0, 16).replace('T', ' ')} UTC</b> (${day}, in ${duration(eta.seconds)}): ${why}${basis}.`
}

/** When the bills waiting will be in Zoho, for one organization. */
function backlogSection(b: OrganizationBacklog): Html {
  return html`<section aria-label="backlog of organization ${b.organizationId}">
  <h2>When will the backlog of ${b.organizationName} be in Zoho <span class="muted">(organization ${b.organizationId})</span></h2>
  <div class="cards">
    <div class="card"><span>bills waiting</span><b>${b.billsWaiting.toLocaleString('en-US')}</b><span class="muted">${b.queued} queued, ${b.processing} processing</span></div>
    <div class="card"><span>Zoho requests left today</span><b>${b.requestsLeftToday.toLocaleString('en-US')}</b><span class="muted">of ${b.dailyLimit.toLocaleString('en-US')}</span></div>
    <div class="card"><span>pace now</span><b>${b.pacePerMinute.toFixed(1)}</b><span class="muted">bills a minute (10 min)</span></div>
    <div class="card"><span>requests per bill</span><b>${b.requestsPerBill.toFixed(2)}</b><span class="muted">${b.requestsPerBillMeasured ? 'measured, last hour' : 'assumed (none delivered in the last hour)'}</span></div>
  </div>
  <p id="backlog-eta-${b.organizationId}">${etaText(b)}</p></section>`
}

export function filterQuery(filter: FailedFilter): string {
  return new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as Array<[string, string]>).toString()
}

export function failedPage(filter: FailedFilter, rows: FailedRow[], next: string | null, matching: number, csrf: string, notice: string | undefined, organizations: OrganizationViews): Html {
  const query = filterQuery(filter)
  const hidden = Object.entries(filter).filter(([, v]) => v).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)
  return html`
  ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
  <form class="filters" method="get" action="/admin/failed" aria-label="filters">
    <label>From <input type="date" name="from" value="${filter.from ?? ''}"></label>
    <label>To <input type="date" name="to" value="${filter.to ?? ''}"></label>
    <label>Vendor <input name="vendor" value="${filter.vendor ?? ''}" placeholder="exact name"></label>
    <label>Error code <input name="errorCode" value="${filter.errorCode ?? ''}" placeholder="e.g. ACCOUNT_UNMAPPED"></label>
    <label>Batch <input name="batch" value="${filter.batch ?? ''}" placeholder="batchId"></label>
    ${organizations.select(filter.organization)}
    <button type="submit">Filter</button> <a href="/admin/failed">Clear</a> <a href="/admin/failed.csv${query ? `?${query}` : ''}" download>Export CSV${query ? ' (this filter)' : ''}</a>
  </form>
  ${filter.errorCode ? html`<p><b>What to do:</b> ${fixFor(filter.errorCode)}.</p>` : ''}
  <form method="post" action="/admin/failed/retry" id="bulk">${csrfField(csrf)}${hidden}
    <p>${matching.toLocaleString('en-US')}${matching >= 10_000 ? '+' : ''} failed bill${matching === 1 ? '' : 's'} match${matching === 1 ? 'es' : ''}${query ? ' this filter' : ''}.
      <label style="display:inline"><input type="checkbox" name="all" value="1" id="select-all"> select all ${matching} matching${query ? ' this filter' : ''}</label>
      <button type="submit">Retry selected</button></p>
    <table><thead><tr><th><span class="muted">pick</span></th><th>Created</th><th>Bill</th>${organizations.several ? html`<th>Organization</th>` : ''}<th>Vendor</th><th class="num">Amount</th><th>Error</th><th class="num">Attempts</th></tr></thead><tbody>
    ${rows.length === 0 ? html`<tr><td colspan="${organizations.several ? 8 : 7}">No failed bills match.</td></tr>` : rows.map((r) => html`<tr>
      <td><input type="checkbox" name="id" value="${r.id}" aria-label="select ${r.billNumber}"></td>
      <td>${r.createdAt.toISOString().slice(0, 16).replace('T', ' ')}</td>
      <td><a href="/admin/transactions/${r.id}">${r.billNumber}</a><br><span class="muted">${r.externalId}</span></td>
      ${organizations.several ? html`<td>${organizations.name(r.organizationId)}</td>` : ''}
      <td>${r.vendorName}</td><td class="num">${r.amount} ${r.currency}</td>
      <td class="msg"><b>${r.errorCode}</b><br><span class="muted">${r.errorMessage ?? ''}</span></td><td class="num">${r.attempts}</td></tr>`)}
    </tbody></table>
  </form>
  ${next ? html`<p><a href="/admin/failed?${raw(query ? `${query}&` : '')}cursor=${next}" rel="next">Older →</a></p>` : ''}`
}

/** The versions NetSuite sent, and what differs between the one Zoho holds and the newest. */
function versionsSection(versions: BillVersion[]): Html | string {
  if (versions.length <= 1) return ''
  const held = versions.find((v) => v.zohoHolds)
  const newest = [...versions].reverse().find((v) => !v.cancelled)
  const diff = held && newest && held !== newest ? versionDiff(held, newest) : []
  return html`<h2>Versions</h2><table><thead><tr><th class="num">#</th><th>NetSuite lastModified</th><th>Received</th><th>Sent to Zoho</th><th>Zoho's answer</th><th>Content hash</th></tr></thead><tbody>
    ${versions.map((v) => html`<tr><td class="num">${v.number}</td><td>${v.lastModified ?? '—'}</td><td>${v.receivedAt.slice(0, 19).replace('T', ' ')}</td><td>${v.sentAt?.slice(0, 19).replace('T', ' ') ?? '—'}</td>
      <td>${v.cancelled ? 'cancel: ' : ''}${v.zohoOutcome ?? '—'}${v.zohoHolds ? html` <b>(Zoho holds this version)</b>` : ''}${v.zohoMessage ? html` <span class="muted">${v.zohoMessage}</span>` : ''}</td><td><code>${v.hash?.slice(0, 12) ?? '—'}</code></td></tr>`)}</tbody></table>
  ${diff.length > 0 ? html`<h3>What differs between the version Zoho holds (${held!.number}) and the newest (${newest!.number})</h3>
    <table><thead><tr><th>Field</th><th>In Zoho (version ${held!.number})</th><th>Newest (version ${newest!.number})</th></tr></thead><tbody>
    ${diff.map((d) => html`<tr><td><code>${d.field}</code></td><td>${d.held}</td><td>${d.newest}</td></tr>`)}</tbody></table>` : ''}`
}

export function detailPage(t: TransactionView & { attemptLog: Array<Record<string, unknown>> }, bill: Record<string, unknown>, csrf: string, notice?: string, zohoLink?: string | null, versions: BillVersion[] = []): Html {
  const lines = (bill.lines as Array<{ account: string; amount: string; description?: string }> | undefined) ?? []
  return html`
  ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
  <table><tbody>
    <tr><th>Status</th><td><b>${t.status}</b>${t.lastError ? html` — <span class="error">${t.lastError.code}: ${t.lastError.message}</span>` : ''}</td></tr>
    <tr><th>Bill number</th><td>${t.billNumber}</td></tr><tr><th>NetSuite id</th><td>${t.externalId}</td></tr>
    <tr><th>NetSuite vendor</th><td>${t.vendor.name} <span class="muted">${t.vendor.externalId ?? ''}${t.vendor.email ? ` · ${t.vendor.email}` : ''}</span></td></tr>
    <tr><th>Date / due</th><td>${bill.date} / ${bill.dueDate ?? '—'}</td></tr>
    <tr><th>Amount</th><td>${t.amount} ${t.currency}</td></tr>
    <tr><th>Reference / memo</th><td>${bill.referenceNumber ?? '—'} / ${bill.memo ?? '—'}</td></tr>
    <tr><th>Organization</th><td>${t.organization.name ?? html`<span class="muted">(no longer configured)</span>`} <code>${t.organization.id}</code></td></tr>
    <tr><th>Zoho bill id</th><td>${zohoLink ? html`<a href="${zohoLink}" rel="noopener noreferrer" target="_blank">${t.zohoBillId} — open in Zoho Books</a>` : t.zohoBillId ?? '—'}</td></tr>
    <tr><th>Zoho vendor</th><td>${t.zohoVendor ? html`${t.zohoVendor.name ?? html`<span class="muted">(name not given by Zoho)</span>`} <code>${t.zohoVendor.id}</code>` : html`<span class="muted">${t.status === 'delivered' ? 'not recorded (delivered before billbridge recorded it)' : 'not resolved yet'}</span>`}</td></tr>
    <tr><th>Batch</th><td>${t.batchId ? html`<a href="/admin/batches/${t.batchId}">${t.batchId}</a>` : '—'}</td></tr>
  </tbody></table>
  <h2>Lines</h2><table><thead><tr><th>Account</th><th>Description</th><th class="num">Amount</th></tr></thead><tbody>
    ${lines.map((l) => html`<tr><td>${l.account}</td><td>${l.description ?? ''}</td><td class="num">${l.amount}</td></tr>`)}</tbody></table>
  <h2>PDF</h2><p>${t.attachment.fileName} (${t.attachment.sizeBytes.toLocaleString('en-US')} bytes, SHA-256 <code>${t.attachment.sha256.slice(0, 16)}…</code>)
    <a href="/admin/transactions/${t.id}/pdf?download=1">Download</a></p>
  <iframe title="PDF of ${t.billNumber}" src="/admin/transactions/${t.id}/pdf" width="100%" height="420"></iframe>
  ${versionsSection(versions)}
  <h2>Attempts</h2>
  ${t.attemptLog.length === 0 ? html`<p class="muted">No attempts yet.</p>` : html`<table><thead><tr><th>When</th><th>Outcome</th><th>HTTP</th><th>Zoho code</th><th>Error</th><th class="num">ms</th></tr></thead><tbody>
    ${t.attemptLog.map((a) => html`<tr><td>${String(a.startedAt).slice(0, 19).replace('T', ' ')}</td><td>${a.outcome}</td><td>${a.httpStatus ?? ''}</td><td>${a.zohoCode ?? ''}</td><td>${a.errorCode ?? ''} <span class="muted">${a.message ?? ''}</span></td><td class="num">${a.durationMs}</td></tr>`)}</tbody></table>`}
  ${t.status === 'failed' ? html`<p>
    <form method="post" action="/admin/transactions/${t.id}/retry" style="display:inline">${csrfField(csrf)}<button type="submit">Retry delivery</button></form>
    </p>
    <form method="post" action="/admin/transactions/${t.id}/resolve" class="filters">${csrfField(csrf)}
      <label>How was it settled? (required) <input name="note" required maxlength="2000" size="60" placeholder="e.g. entered by hand in Zoho as BILL-123"></label>
      <button type="submit">Mark resolved</button></form>` : ''}`
}

export interface BatchRow {
  id: string
  batchId: string
  createdAt: Date
  accepted: number
  rejected: number
  waiting: number
  delivered: number
  failed: number
  resolved: number
  /** accepted items counted under another batch: duplicates of known bills, or bills sent again later */
  elsewhere: number
}

const count = (n: number, link?: string) => (n > 0 && link ? html`<a href="${link}">${n}</a>` : String(n))

export function batchesPage(rows: BatchRow[], next: string | null): Html {
  return html`<p class="muted">Each batch's bills: rejected at ingest, or accepted and now waiting, delivered, failed or resolved (marked settled by an operator);
    "elsewhere" are accepted bills billbridge already had (duplicates) or that a later batch sent again, counted under that batch.
    Total = rejected + accepted, and accepted = waiting + delivered + failed + resolved + elsewhere.</p>
  <table><thead><tr><th>Received</th><th>Batch</th><th class="num">Total</th><th class="num">Rejected</th><th class="num">Accepted</th><th class="num">Waiting</th><th class="num">Delivered</th><th class="num">Failed</th><th class="num">Resolved</th><th class="num">Elsewhere</th></tr></thead><tbody>
  ${rows.length === 0 ? html`<tr><td colspan="10">No batches yet.</td></tr>` : rows.map((b) => html`<tr><td>${b.createdAt.toISOString().slice(0, 16).replace('T', ' ')}</td><td><a href="/admin/batches/${b.id}">${b.batchId}</a></td>
    <td class="num">${b.accepted + b.rejected}</td><td class="num">${count(b.rejected, `/admin/batches/${b.id}#rejected`)}</td><td class="num">${b.accepted}</td>
    <td class="num">${b.waiting}</td><td class="num">${b.delivered}</td><td class="num">${count(b.failed, `/admin/failed?batch=${encodeURIComponent(b.batchId)}`)}</td>
    <td class="num">${b.resolved}</td><td class="num">${b.elsewhere}</td></tr>`)}
  </tbody></table>${next ? html`<p><a href="/admin/batches?cursor=${next}" rel="next">Older →</a></p>` : ''}`
}

export function loginPage(csrf: string, error?: string): Html {
  return html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
  <form method="post" action="/admin/login">${csrfField(csrf)}<label>API key with the admin scope <input type="password" name="apiKey" autocomplete="off" required autofocus size="60"></label>
  <p><button type="submit">Log in</button></p></form>
  <p class="muted">Create one with <code>npm run cli -- keys create --name you --scopes admin</code>.</p>`
}
