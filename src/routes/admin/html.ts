/** HTML with every interpolated value escaped; nest trusted fragments with raw(). */
export class Html {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return this.value
  }
}

export function raw(value: string): Html {
  return new Html(value)
}

export function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!
  })
  return new Html(out)
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escape(value)
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1c2430;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff;text-decoration:none;padding:.2rem .4rem;border-radius:4px}header a:focus,header a:hover{background:#2f5687;outline:2px solid #fff}
header .brand{font-weight:700;margin-right:auto}
main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.35rem .5rem;border-bottom:1px solid #e2e5ea;text-align:left;vertical-align:top}
th{background:#eef1f5}td.num,th.num{text-align:right}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin-bottom:1rem}.card{background:#fff;border:1px solid #e2e5ea;border-radius:6px;padding:.6rem .9rem;min-width:8rem}
.card b{display:block;font-size:1.5rem}.failed b{color:#b3261e}.delivered b{color:#1b6e3a}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:.6rem 0}label{display:flex;flex-direction:column;font-size:.85rem}
input,select,button{font:inherit;padding:.25rem .4rem}button{cursor:pointer}
button:focus,input:focus,a:focus{outline:3px solid #f0b400;outline-offset:1px}
.error{color:#b3261e}.muted{color:#5b6573}.notice{background:#e7f3ea;border:1px solid #9cc8a8;padding:.5rem;border-radius:4px}
.bar{fill:#2f6db5}.tag{display:inline-block;padding:0 .35rem;border-radius:3px;font-size:.8rem;background:#eef1f5}.tag.unmapped{background:#fbe3e1;color:#8a1c14}.tag.operator{background:#e3ecfb}
.axis{font-size:10px;fill:#5b6573}
.msg{overflow-wrap:anywhere;min-width:16rem}
`

export function layout(title: string, body: Html, options: { csrf?: string; refreshSeconds?: number } = {}): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${title} · billbridge</title><style>${raw(STYLE)}</style></head><body>
<header><span class="brand">billbridge</span>${options.csrf === undefined ? '' : html`<nav aria-label="main"><a href="/admin">Overview</a> <a href="/admin/failed">Failed</a> <a href="/admin/batches">Batches</a> <a href="/admin/rejected">Rejected</a> <a href="/admin/mappings">Mappings</a> <a href="/admin/activity">Activity</a> <a href="/admin/reconciliation">Reconciliation</a></nav>
<form method="get" action="/admin/search" role="search"><input type="search" name="q" aria-label="Search bills" placeholder="bill no., NetSuite id, Zoho id, vendor" size="34"> <button type="submit">Search</button></form>
<form method="post" action="/admin/logout"><input type="hidden" name="_csrf" value="${options.csrf}"><button type="submit">Log out</button></form>`}</header>
<main><h1>${title}</h1>${body}</main></body></html>`.value
}
