import type { FastifyInstance } from 'fastify'
import { clientOf, orgOf, type SandboxClient, type SandboxContext } from './context.ts'
import { BooksError, page } from './gatekeeper.ts'
import { FISCAL_YEAR_START_MONTH, type SandboxContact } from './state.ts'
import { currencyDecimals, EDITIONS } from './tax.ts'

// Zoho documents the contact name filters with a maximum length of 100 characters.
const NAME_FILTER_MAX = 100

type Query = Record<string, string | undefined>

/** Contacts (vendors), the chart of accounts, currencies and the organization, with Zoho's paging and filters. */
export async function referenceRoutes(app: FastifyInstance): Promise<void> {
  app.get('/contacts', async (request) => {
    const ctx = orgOf(request)
    const q = request.query as Query
    const contacts = [...ctx.state.contacts.values()].filter((c) => contactMatches(c, q))
    const { items, page_context } = page(contacts, q)
    return { code: 0, message: 'success', contacts: items.map(contactSummary), page_context }
  })

  app.get('/contacts/:id', async (request) => {
    const ctx = orgOf(request)
    const contact = ctx.state.contacts.get((request.params as { id: string }).id)
    if (!contact) throw new BooksError(404, 1002, 'Contact does not exist.')
    return { code: 0, message: 'success', contact: { ...contactSummary(contact), contact_persons: contact.email ? [{ email: contact.email, is_primary_contact: true }] : [] } }
  })

  // Zoho Books allows two contacts with one display name unless the organization turns that off (docs/zoho.md).
  app.post('/contacts', async (request, reply) => {
    const ctx = orgOf(request)
    const body = (request.body ?? {}) as { contact_name?: string; company_name?: string; contact_type?: string; currency_id?: string; contact_persons?: Array<{ email?: string }> }
    if (!body.contact_name?.trim()) throw new BooksError(400, 4, 'Please enter the contact name.')
    const currency = body.currency_id ? ctx.state.currencies.get(body.currency_id) : ctx.state.currencyByCode(ctx.state.organization.baseCurrency)
    if (!currency) throw new BooksError(400, 4, `Invalid value passed for currency_id: ${body.currency_id}`)
    const contact = ctx.state.addContact({ name: body.contact_name.trim(), currency: currency.currency_code, ...(body.contact_persons?.[0]?.email ? { email: body.contact_persons[0].email } : {}) })
    if (body.contact_type === 'customer') contact.contact_type = 'customer'
    ctx.state.counters.vendorsCreated++
    return reply.code(201).send({ code: 0, message: 'The contact has been added.', contact: contactSummary(contact) })
  })

  app.get('/chartofaccounts', async (request) => {
    const ctx = orgOf(request)
    const q = request.query as Query
    const filter = q.filter_by ?? 'AccountType.All'
    const accounts = [...ctx.state.accounts.values()].filter((a) => filter === 'AccountType.All' || filter === `AccountType.${a.account_type.replace(/\s+/g, '')}` ||
      (filter === 'AccountType.Active' && a.is_active) || (filter === 'AccountType.Inactive' && !a.is_active))
    const { items, page_context } = page(accounts, q)
    return { code: 0, message: 'success', chartofaccounts: items, page_context }
  })

  app.get('/settings/currencies', async (request) => ({ code: 0, message: 'success', currencies: [...orgOf(request).state.currencies.values()] }))

  // The organizations of the token's user (in this data centre), as Zoho lists every organization one belongs to.
  app.get('/organizations', async (request) => {
    const client = clientOf(request)
    return { code: 0, message: 'success', organizations: [...client.organizations.values()].map((org) => organization(org, client)) }
  })
  app.get('/organizations/:id', async (request) => {
    const client = clientOf(request)
    const ctx = client.organizations.get((request.params as { id: string }).id)
    if (!ctx) throw new BooksError(404, 6041, 'This organization does not exist.')
    return { code: 0, message: 'success', organization: organization(ctx, client) }
  })
}

function contactMatches(c: SandboxContact, q: Query): boolean {
  for (const key of ['contact_name', 'contact_name_startswith', 'contact_name_contains'] as const) {
    if ((q[key]?.length ?? 0) > NAME_FILTER_MAX) throw new BooksError(400, 2, `Invalid value passed for ${key}: at most ${NAME_FILTER_MAX} characters`)
  }
  const name = c.contact_name.toLowerCase()
  const status = q.filter_by === 'Status.Active' ? 'active' : q.filter_by === 'Status.Inactive' ? 'inactive' : undefined
  return (!q.contact_type || c.contact_type === q.contact_type) &&
    (!status || c.status === status) &&
    (!q.contact_name || name === q.contact_name.toLowerCase()) &&
    (!q.contact_name_startswith || name.startsWith(q.contact_name_startswith.toLowerCase())) &&
    (!q.contact_name_contains || name.includes(q.contact_name_contains.toLowerCase())) &&
    (!q.search_text || name.includes(q.search_text.toLowerCase()))
}

function contactSummary(c: SandboxContact) {
  return {
    contact_id: c.contact_id, contact_name: c.contact_name, company_name: c.company_name, contact_type: c.contact_type, status: c.status,
    currency_id: c.currency_id, currency_code: c.currency_code, email: c.email ?? '',
  }
}

// Organizations page (Books v3): address.country, currency, price_precision, tax_group_enabled. No edition
// field and no tax rounding setting are documented: `country_code` and `version` are the sandbox's, and the
// rounding setting is not returned at all (docs/zoho.md, "Taxes, editions and reporting tags").
function organization(ctx: SandboxContext, client: SandboxClient) {
  const org = ctx.state.organization
  const profile = EDITIONS[org.edition]
  const base = ctx.state.currencyByCode(org.baseCurrency)!
  return {
    organization_id: ctx.organizationId, name: ctx.name, currency_id: base.currency_id, currency_code: org.baseCurrency,
    price_precision: currencyDecimals(org.baseCurrency), time_zone: 'Etc/UTC', fiscal_year_start_month: FISCAL_YEAR_START_MONTH - 1, is_default_org: client.home === ctx,
    tax_group_enabled: ctx.state.taxGroups.size > 0, country: profile.country, country_code: profile.countryCode, version: org.edition,
    address: { street_address1: '', street_address2: '', city: '', state: org.edition === 'india' || org.edition === 'gcc' ? org.homeState : '', country: profile.country, zip: '' },
  }
}
