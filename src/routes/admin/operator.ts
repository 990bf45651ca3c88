import { sql } from 'kysely'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { createChart } from '../../delivery/chart.ts'
import { saveMapping } from '../../delivery/mapping.ts'
import { retryTransactions } from '../../delivery/retry.ts'
import type { RouteDeps } from '../../deps.ts'
import { AppError } from '../../errors.ts'
import { createActivityRepository, type ActivityFilter } from '../../repositories/activity.ts'
import type { FailedFilter, FailedRow } from '../../repositories/failed.ts'
import { matchOption } from '../../delivery/tags.ts'
import { createMappingRepository, isTagKind, type MappingKind, type MappingRow } from '../../repositories/mappings.ts'
import { createRejectedRepository, type RejectedFilter, type RejectedRow } from '../../repositories/rejected.ts'
import { createSearchRepository, isSearchKey, SEARCH_KEYS, type SearchKey, type SearchRow } from '../../repositories/search.ts'
import { ZohoError } from '../../zoho/errors.ts'
import { defaultOrganization, type OrganizationConfig } from '../../zoho/organizations.ts'
import type { ZohoStack } from '../../zoho/stack.ts'
import { sendCsv } from './csv.ts'
import { ORGANIZATION_COLUMNS, organizationFields, organizationViews } from './organizations.ts'
import type { Html } from './html.ts'
import { noticeQuery, noticeText } from './notices.ts'
import { activityPage, batchPage, mappingEditPage, mappingsPage, rejectedPage, searchPage, type BatchItemView, type Candidate, type OrganizationChoice } from './operator-pages.ts'

export interface AdminGuards {
  guarded: RouteShorthandOptions
  guardedPost: RouteShorthandOptions
  page: (reply: FastifyReply, title: string, body: Html, csrf?: string) => FastifyReply
  /** a CSRF token bound to the request's session */
  csrf: (request: FastifyRequest, reply: FastifyReply) => string
  organizationId: string
  cleanFilter: (filter: FailedFilter) => FailedFilter
}

const EXPORT_PAGE = 1000
const KINDS: MappingKind[] = ['account', 'vendor', 'tax', 'department', 'class', 'location']

const str = (max: number) => ({ type: 'string', maxLength: max }) as const
/** Query strings: the known keys only, each bounded. */
const querySchema = (props: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties: props })
const rejectedQuery = { code: str(100), from: str(10), to: str(10), cursor: str(500) }
const organizationQuery = { type: 'string', pattern: '^[0-9]{0,30}$' } as const
const failedQuery = { from: str(10), to: str(10), vendor: str(200), errorCode: str(100), batch: str(200), organization: organizationQuery }

function kindOf(value: string): MappingKind {
  if (!KINDS.includes(value as MappingKind)) throw new AppError('NOT_FOUND', `no mappings of kind ${value}`, 404)
  return value as MappingKind
}

const ORGANIZATION_ID = { type: 'string', pattern: '^[0-9]{1,32}$' } as const
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The organization a mappings page works on: the one the page names (its select, or a link from a bill of
 * that organization), else the default one. Mappings are per organization: an account mapped for one never
 * applies to another's bills.
 */
function organizationOf(organizations: readonly OrganizationConfig[], id: string | undefined): OrganizationConfig {
  if (!id) return defaultOrganization(organizations)
  const found = organizations.find((o) => o.organizationId === id)
  if (!found) throw new AppError('FILTER_INVALID', `no Zoho organization ${id} is configured here; the organizations are ${organizations.map((o) => `${o.organizationId} (${o.name ?? o.label})`).join(', ')}`, 400)
  return found
}

/** What the pages show of the organization in use, and the others to choose from (none when only one is configured). */
function organizationChoice(organizations: readonly OrganizationConfig[], current: OrganizationConfig): OrganizationChoice {
  const named = (o: OrganizationConfig) => ({ id: o.organizationId, name: o.name ?? o.label })
  return { current: named(current), all: organizations.length > 1 ? organizations.map(named) : [] }
}

function cleanRejected(q: RejectedFilter): RejectedFilter {
  return Object.fromEntries(Object.entries({ code: q.code, from: q.from, to: q.to }).map(([k, v]) => [k, v?.trim()]).filter(([, v]) => v)) as RejectedFilter
}

/** The operator's pages: search, rejected items, a batch's items, mappings with retry, activity, CSV exports. */
export function operatorPages(app: FastifyInstance, deps: RouteDeps, guards: AdminGuards): void {
  const { guarded, guardedPost, page, organizationId } = guards
  const csrfOf = guards.csrf
  const search = createSearchRepository(deps.db)
  const rejected = createRejectedRepository(deps.db)
  const activity = createActivityRepository(deps.db, organizationId)
  const organizations = organizationViews(deps.organizations)

  app.get<{ Querystring: { q?: string; by?: string; cursor?: string; organization?: string } }>('/admin/search', { ...guarded, schema: { hide: true, querystring: querySchema({ q: str(200), by: str(20), cursor: str(500), organization: organizationQuery }) } }, async (request, reply) => {
    const term = (request.query.q ?? '').trim()
    const by = isSearchKey(request.query.by) ? request.query.by : undefined
    const organization = request.query.organization || undefined
    const [results, rejectedMatches] = term === '' ? [{}, undefined]
      : by ? [{ [by]: await search.byKey(by, term, request.query.cursor, 50, organization) }, undefined]
      : await Promise.all([search.all(term, 20, organization), search.rejected(term)])
    return page(reply, 'Search', searchPage(term, results, by, rejectedMatches, { views: organizations, ...(organization ? { selected: organization } : {}) }), csrfOf(request, reply))
  })

  app.get<{ Querystring: { q?: string; by?: string; organization?: string } }>('/admin/search.csv', { ...guarded, schema: { hide: true, querystring: querySchema({ q: str(200), by: str(20), organization: organizationQuery }) } }, async (request, reply) => {
    const term = (request.query.q ?? '').trim()
    if (!term) throw new AppError('FILTER_INVALID', 'give a search term to export', 400)
    const keys: SearchKey[] = isSearchKey(request.query.by) ? [request.query.by] : [...SEARCH_KEYS]
    // Each key is its own keyset sequence; the cursor carries which key it is in.
    return sendCsv<SearchRow & { key: SearchKey }>(reply, 'billbridge-search.csv',
      ['matched_by', 'id', 'bill_number', 'netsuite_id', 'vendor', 'amount', 'currency', 'status', 'error_code', 'zoho_bill_id', 'created_at', 'zoho_vendor_id', 'zoho_vendor_name', ...ORGANIZATION_COLUMNS],
      (r) => [r.key, r.id, r.billNumber, r.externalId, r.vendorName, r.amount, r.currency, r.status, r.errorCode, r.zohoBillId, r.createdAt, r.zohoVendorId, r.zohoVendorName, ...organizationFields(deps.organizations, r.organizationId)],
      async (cursor) => {
        const [index, inner] = cursor ? [Number(cursor.slice(0, 1)), cursor.slice(2) || undefined] : [0, undefined]
        const key = keys[index]!
        const result = await search.byKey(key, term, inner, EXPORT_PAGE, request.query.organization || undefined)
        const next = result.next ? `${index}:${result.next}` : index + 1 < keys.length ? `${index + 1}:` : null
        return { rows: result.rows.map((r) => ({ ...r, key })), next }
      })
  })

  app.get<{ Querystring: FailedFilter }>('/admin/failed.csv', { ...guarded, schema: { hide: true, querystring: querySchema(failedQuery) } }, async (request, reply) => {
    const filter = guards.cleanFilter(request.query)
    return sendCsv<FailedRow>(reply, 'billbridge-failed.csv',
      ['id', 'bill_number', 'netsuite_id', 'vendor', 'amount', 'currency', 'error_code', 'error_message', 'attempts', 'created_at', 'zoho_vendor_id', 'zoho_vendor_name', ...ORGANIZATION_COLUMNS],
      (r) => [r.id, r.billNumber, r.externalId, r.vendorName, r.amount, r.currency, r.errorCode, r.errorMessage, r.attempts, r.createdAt, r.zohoVendorId, r.zohoVendorName, ...organizationFields(deps.organizations, r.organizationId)],
      (cursor) => deps.failed.page(filter, cursor, EXPORT_PAGE))
  })

  app.get<{ Querystring: RejectedFilter & { cursor?: string } }>('/admin/rejected', { ...guarded, schema: { hide: true, querystring: querySchema(rejectedQuery) } }, async (request, reply) => {
    const filter = cleanRejected(request.query)
    const { rows, next } = await rejected.page(filter, request.query.cursor)
    return page(reply, 'Rejected bills', rejectedPage(filter, rows, next), csrfOf(request, reply))
  })

  app.get<{ Querystring: RejectedFilter }>('/admin/rejected.csv', { ...guarded, schema: { hide: true, querystring: querySchema(rejectedQuery) } }, async (request, reply) => {
    const filter = cleanRejected(request.query)
    return sendCsv<RejectedRow>(reply, 'billbridge-rejected.csv', ['received_at', 'batch', 'item', 'netsuite_id', 'code', 'field', 'message'],
      (r) => [r.createdAt, r.batchId, r.index, r.externalId, r.code, r.field, r.message], (cursor) => rejected.page(filter, cursor, EXPORT_PAGE))
  })

  app.get<{ Params: { id: string } }>('/admin/batches/:id', guarded, async (request, reply) => {
    const batch = await deps.transactions.findBatch(request.params.id)
    if (!batch) throw new AppError('BATCH_NOT_FOUND', `no batch ${request.params.id}`, 404)
    return page(reply, `Batch ${batch.batchId}`, batchPage(batch, batch.items as BatchItemView[]), csrfOf(request, reply))
  })

  /** The organization a mappings request works on, with its repository, its Zoho stack and its reporting tags. */
  async function mappingContext(organization: string | undefined, bill?: string) {
    let id = organization
    if (!id && bill && UUID.test(bill)) {
      // A link from a failed bill: the bill's own organization.
      const found = await deps.db.selectFrom('transactions').select(sql<string | null>`organization_id`.as('organizationId')).where('id', '=', bill).executeTakeFirst()
      id = found?.organizationId ?? undefined
    }
    const org = organizationOf(deps.organizations, id)
    return {
      org,
      choice: organizationChoice(deps.organizations, org),
      mappings: createMappingRepository(deps.db, org.organizationId),
      zoho: () => deps.zoho(org.organizationId),
      /** The reporting tag the organization's ZOHO_TAGS names for a segment. */
      tagNameOf: (kind: MappingKind): string | undefined => (isTagKind(kind) ? org.limits.tags[kind] : undefined),
    }
  }
  type MappingContext = Awaited<ReturnType<typeof mappingContext>>
  /** The organization in a page's links and redirects, when there is a choice of several. */
  const orgParam = (ctx: MappingContext) => (ctx.choice.all.length > 0 ? `organization=${ctx.org.organizationId}&` : '')

  app.get<{ Querystring: { kind?: string; q?: string; offset?: string; organization?: string; notice?: string; n?: string } }>('/admin/mappings',
    { ...guarded, schema: { hide: true, querystring: querySchema({ kind: str(10), q: str(200), offset: { type: 'integer', minimum: 0, maximum: 100_000 }, organization: ORGANIZATION_ID, notice: str(40), n: str(10) }) } }, async (request, reply) => {
      const kind = kindOf(request.query.kind ?? 'account')
      const ctx = await mappingContext(request.query.organization)
      const offset = Number(request.query.offset ?? 0)
      const prefix = (request.query.q ?? '').trim()
      const rows = await withTagMatches(ctx, kind, await ctx.mappings.list(kind, { prefix, offset, limit: 101 }))
      return page(reply, 'Mappings', mappingsPage(kind, rows.slice(0, 100), prefix, offset, rows.length > 100, ctx.choice, noticeText(request.query.notice, request.query.n), ctx.tagNameOf(kind)), csrfOf(request, reply))
    })

  app.get<{ Params: { kind: string }; Querystring: { key?: string; find?: string; organization?: string; bill?: string; notice?: string; n?: string } }>('/admin/mappings/:kind',
    { ...guarded, schema: { hide: true, querystring: querySchema({ key: str(500), find: str(100), organization: ORGANIZATION_ID, bill: str(36), notice: str(40), n: str(10) }) } }, async (request, reply) => {
      const kind = kindOf(request.params.kind)
      const ctx = await mappingContext(request.query.organization, request.query.bill)
      const { mappings } = ctx
      const found = await mappings.find(kind, request.query.key ?? '')
      if (!found) throw new AppError('MAPPING_NOT_FOUND', `billbridge has seen no ${kind} "${request.query.key ?? ''}" on bills of ${ctx.choice.current.name}`, 404)
      const row = (await withTagMatches(ctx, kind, [found]))[0]!
      const find = (request.query.find ?? '').trim()
      let candidates: Candidate[] = []
      let zohoError: string | undefined
      let chart
      const failed = row.failed > 0 ? await mappings.failedSummary(kind, row.key) : { codes: [], ambiguousIds: [], vendorEmail: null }
      const ambiguous = kind === 'vendor' && !find && failed.ambiguousIds.length > 0
      if (kind === 'account') {
        const found = await mappings.chart(find)
        candidates = found.rows.map((a) => ({ id: a.account_id, name: a.account_name, detail: [a.account_code, a.account_type].filter(Boolean).join(' · ') }))
        const state = await mappings.chartState()
        chart = { fetchedAt: state?.fetched_at ?? null, count: state?.item_count ?? 0, canRefresh: ctx.zoho() !== null, matching: found.total }
      } else if (kind === 'tax') {
        const term = find.toLowerCase()
        candidates = (await mappings.taxes()).filter((x) => !term || x.tax_name.toLowerCase().includes(term)).map((x) => ({
          id: x.tax_id, name: x.tax_name, detail: [`${x.percentage}%`, x.kind === 'unknown' ? 'kind not told by Zoho' : x.kind.replace(/_/g, ' '), x.is_group ? 'tax group' : ''].filter(Boolean).join(' · '),
        }))
      } else if (isTagKind(kind)) {
        const tagName = ctx.tagNameOf(kind)
        if (tagName) candidates = (await mappings.tagOptions(tagName, find)).map((o) => ({ id: o.tag_option_id, name: o.full_name }))
        else zohoError = `ZOHO_TAGS maps no Zoho reporting tag to ${kind}${ctx.choice.all.length > 0 ? ` for ${ctx.choice.current.name}` : ''}: add ${kind}=<tag name> to ZOHO_TAGS and restart billbridge`
      } else if (find || ambiguous) {
        try {
          // The contacts the error names, read through the same vendor search as the picker: one request.
          const found = await zohoVendors(ctx.zoho(), find || row.label)
          candidates = ambiguous ? failed.ambiguousIds.map((id) => found.find((c) => c.id === id) ?? { id, name: '(not among the active Zoho vendors of this name now)' }) : found
        } catch (err) {
          if (!(err instanceof ZohoError)) throw err
          zohoError = `Zoho did not answer the vendor list (${err.code}): ${err.message}`
          if (ambiguous) candidates = failed.ambiguousIds.map((id) => ({ id, name: '(name not read from Zoho)' }))
        }
      }
      const text = noticeText(request.query.notice, request.query.n)
      return page(reply, `Map ${kind} “${row.label}”`, mappingEditPage({
        kind, row, find, candidates, csrf: csrfOf(request, reply), failedReasons: failed.codes, organization: ctx.choice, ...(chart ? { chart } : {}),
        ...(ambiguous ? { ambiguous: { netsuiteEmail: failed.vendorEmail } } : {}), ...(zohoError ? { zohoError } : {}), ...(text ? { text } : {}),
      }), csrfOf(request, reply))
    })

  const saveBody = {
    type: 'object', additionalProperties: false, required: ['_csrf', 'key', 'zohoId'],
    properties: { _csrf: str(200), key: str(500), zohoId: { type: 'string', pattern: '^[0-9]{1,32}$' }, organization: ORGANIZATION_ID, retry: { type: 'string', enum: ['1'] } },
  }
  app.post<{ Params: { kind: string }; Body: { key: string; zohoId: string; organization?: string; retry?: string } }>('/admin/mappings/:kind', { ...guardedPost, schema: { hide: true, body: saveBody } }, async (request, reply) => {
    const kind = kindOf(request.params.kind)
    const ctx = await mappingContext(request.body.organization)
    const row = await ctx.mappings.find(kind, request.body.key)
    if (!row) throw new AppError('MAPPING_NOT_FOUND', `billbridge has seen no ${kind} "${request.body.key}" on bills of ${ctx.choice.current.name}`, 404)
    const who = { actor: request.adminKeyName!, address: request.ip }
    const organizationId = ctx.org.organizationId
    // A vendor is mapped by its NetSuite id when bills carry one, as `map vendor` would be given it.
    await saveMapping(deps.pool, organizationId, isTagKind(kind)
      ? { kind: 'tag', segment: kind, netsuite: row.label, zohoId: request.body.zohoId }
      : { kind, netsuite: kind === 'vendor' ? row.vendorExternalId ?? row.label : row.label, zohoId: request.body.zohoId }, who)
    const back = `/admin/mappings?kind=${kind}&${orgParam(ctx)}`
    if (request.body.retry !== '1') return reply.redirect(`${back}${noticeQuery('mapped')}`, 303)
    const ids = await ctx.mappings.failedIds(kind, row.key)
    const { retried } = await retryTransactions(deps.pool, deps.boss, ids, { ...who, bulk: true, filter: { [kind]: row.label, organization: organizationId } })
    return reply.redirect(`${back}${noticeQuery('mapped-requeued', retried.length)}`, 303)
  })

  /** Segment values with no operator mapping: the option delivery would match by name (from the cached options), shown as automatic. */
  async function withTagMatches(ctx: MappingContext, kind: MappingKind, rows: MappingRow[]): Promise<MappingRow[]> {
    const tagName = ctx.tagNameOf(kind)
    if (!tagName || rows.every((r) => r.zohoId)) return rows
    const options = (await ctx.mappings.tagOptions(tagName)).map((o) => ({ ...o, is_active: true }))
    return rows.map((r) => {
      if (r.zohoId) return r
      const match = matchOption(options, r.label)
      return 'option' in match ? { ...r, zohoId: match.option.tag_option_id, zohoName: match.option.full_name, origin: 'lookup' } : r
    })
  }

  app.post<{ Body: { key?: string; organization?: string } }>('/admin/mappings/account/refresh', {
    ...guardedPost, schema: { hide: true, body: { type: 'object', additionalProperties: false, required: ['_csrf'], properties: { _csrf: str(200), key: str(500), organization: ORGANIZATION_ID } } },
  }, async (request, reply) => {
    const ctx = await mappingContext(request.body.organization)
    const organizationId = ctx.org.organizationId
    const stack = ctx.zoho()
    if (!stack) throw new AppError('ZOHO_UNREACHABLE', 'this process has no Zoho connection to read the chart with (ROLE=api with the sandbox)', 409)
    // The same read delivery does, through the same token and rate bucket.
    const count = await createChart({ pool: deps.pool, books: stack.books, organizationId }).readChart()
    await deps.pool.query(
      `INSERT INTO zoho_reference_state (organization_id, list, fetched_at, item_count) VALUES ($1, 'accounts', now(), $2)
       ON CONFLICT (organization_id, list) DO UPDATE SET fetched_at = now(), item_count = EXCLUDED.item_count`, [organizationId, count])
    const back = request.body.key ? `/admin/mappings/account?key=${encodeURIComponent(request.body.key)}&` : '/admin/mappings?kind=account&'
    return reply.redirect(`${back}${orgParam(ctx)}${noticeQuery('chart-refreshed', count)}`, 303)
  })

  app.get<{ Querystring: ActivityFilter & { cursor?: string } }>('/admin/activity', {
    ...guarded, schema: { hide: true, querystring: querySchema({ actor: str(100), action: str(40), from: str(10), to: str(10), cursor: str(500), organization: organizationQuery }) },
  }, async (request, reply) => {
    const { cursor, ...rest } = request.query
    const filter = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v?.trim()]).filter(([, v]) => v)) as ActivityFilter
    const { rows, next } = await activity.page(filter, cursor)
    return page(reply, 'Activity', activityPage(filter, rows, next, await activity.names(rows), organizations), csrfOf(request, reply))
  })
}

/** Active Zoho vendors whose name starts with the term: one page read on demand, through the organization's rate bucket. */
async function zohoVendors(stack: ZohoStack | null, term: string): Promise<Candidate[]> {
  if (!stack) throw new ZohoError('permanent', 'ZOHO_UNREACHABLE', 'this process has no Zoho connection (ROLE=api with the sandbox)')
  const answer = await stack.books.call<{ contacts?: Array<{ contact_id: string; contact_name: string; email?: string; currency_code?: string; company_name?: string }> }>({
    method: 'GET', path: '/contacts', endpoint: 'GET /contacts',
    query: { contact_type: 'vendor', contact_name_startswith: term.slice(0, 100), filter_by: 'Status.Active', per_page: '50' },
  })
  return (answer.contacts ?? []).map((c) => ({ id: c.contact_id, name: c.contact_name, email: c.email || null, detail: [c.company_name, c.email, c.currency_code].filter(Boolean).join(' · ') }))
}
