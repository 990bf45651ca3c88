import type { FastifyInstance } from 'fastify'
import { orgOf, type SandboxContext } from './context.ts'
import { BooksError, page } from './gatekeeper.ts'
import type { SandboxTag, SandboxTax, SandboxTaxGroup } from './state.ts'

type Query = Record<string, string | undefined>

/** Taxes, tax groups and reporting tags, as Books v3 lists them (docs/zoho.md, "Taxes, editions and reporting tags"). */
export async function settingsRoutes(app: FastifyInstance): Promise<void> {
  // Taxes page: the list holds taxes and tax groups (tax_type tax_group), paged like every list.
  app.get('/settings/taxes', async (request) => {
    const ctx = orgOf(request)
    const q = request.query as Query
    const all = [...[...ctx.state.taxes.values()].map((t) => taxJson(ctx, t)), ...[...ctx.state.taxGroups.values()].map((g) => groupAsTax(ctx, g))]
    const { items, page_context } = page(all, q)
    return { code: 0, message: 'success', taxes: items, page_context }
  })

  app.get('/settings/taxes/:id', async (request) => {
    const ctx = orgOf(request)
    const tax = ctx.state.taxes.get((request.params as { id: string }).id)
    if (!tax) throw new BooksError(404, 1002, 'The tax does not exist.')
    return { code: 0, message: 'success', tax: taxJson(ctx, tax) }
  })

  app.get('/settings/taxgroups', async (request) => {
    const ctx = orgOf(request)
    const { items, page_context } = page([...ctx.state.taxGroups.values()].map((g) => groupJson(ctx, g)), request.query as Query)
    return { code: 0, message: 'success', tax_groups: items, page_context }
  })

  app.get('/settings/taxgroups/:id', async (request) => {
    const ctx = orgOf(request)
    const group = ctx.state.taxGroups.get((request.params as { id: string }).id)
    if (!group) throw new BooksError(404, 1002, 'The tax group does not exist.')
    return { code: 0, message: 'success', tax_group: groupJson(ctx, group) }
  })

  app.get('/reportingtags', async (request) => {
    const ctx = orgOf(request)
    const { items, page_context } = page([...ctx.state.tags.values()].map(tagJson), request.query as Query)
    return { code: 0, message: 'success', reporting_tags: items, page_context }
  })

  app.get('/reportingtags/:id', async (request) => {
    const ctx = orgOf(request)
    const tag = findTag(ctx, (request.params as { id: string }).id)
    return { code: 0, message: 'success', reporting_tag: { ...tagJson(tag), tag_options: tag.options } }
  })

  app.get('/reportingtags/:id/options', async (request) => {
    const ctx = orgOf(request)
    const tag = findTag(ctx, (request.params as { id: string }).id)
    return { code: 0, message: 'success', tag_id: tag.tag_id, tag_name: tag.tag_name, tag_options: tag.options }
  })
}

function findTag(ctx: SandboxContext, id: string): SandboxTag {
  const tag = ctx.state.tags.get(id)
  if (!tag) throw new BooksError(404, 1002, 'The reporting tag does not exist.')
  return tag
}

function tagJson(tag: SandboxTag) {
  return { tag_id: tag.tag_id, tag_name: tag.tag_name, is_mandatory: tag.is_mandatory, status: tag.status, is_active: tag.status === 'active' }
}

function countryCode(ctx: SandboxContext): string {
  return { us: 'US', uk: 'UK', india: 'IN', gcc: 'AE' }[ctx.state.organization.edition]
}

function taxJson(ctx: SandboxContext, t: SandboxTax) {
  return {
    tax_id: t.tax_id, tax_name: t.tax_name, tax_percentage: t.tax_percentage, tax_type: t.tax_type, tax_specific_type: t.tax_specific_type,
    is_value_added: ctx.state.organization.edition !== 'us', country_code: countryCode(ctx), status: t.status, is_inactive: t.status !== 'active',
  }
}

function groupPercentage(ctx: SandboxContext, g: SandboxTaxGroup): number {
  return g.taxes.reduce((s, id) => s + ctx.state.taxes.get(id)!.tax_percentage, 0)
}

function groupAsTax(ctx: SandboxContext, g: SandboxTaxGroup) {
  return {
    tax_id: g.tax_group_id, tax_name: g.tax_group_name, tax_percentage: groupPercentage(ctx, g), tax_type: 'tax_group', tax_specific_type: '',
    is_value_added: ctx.state.organization.edition !== 'us', country_code: countryCode(ctx), status: g.status, is_inactive: g.status !== 'active',
  }
}

function groupJson(ctx: SandboxContext, g: SandboxTaxGroup) {
  return {
    tax_group_id: g.tax_group_id, tax_group_name: g.tax_group_name, tax_group_percentage: groupPercentage(ctx, g), status: g.status,
    taxes: g.taxes.map((id) => taxJson(ctx, ctx.state.taxes.get(id)!)),
  }
}
