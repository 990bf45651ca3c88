import { organizationRef } from '../../repositories/transactions.ts'
import type { OrganizationConfig } from '../../zoho/organizations.ts'
import { html, type Html } from './html.ts'

/**
 * How the dashboard's lists show the Zoho organizations: a filter and a column, both only when more than one
 * organization is configured (with one, every bill is that organization's).
 */
export interface OrganizationViews {
  /** more than one organization is configured */
  several: boolean
  /** the filter's select, listing the configured organizations (with one: none, or the filter given kept hidden) */
  select(selected: string | undefined): Html | ''
  /** a bill's organization: its name and id */
  name(organizationId: string | null): Html
}

/** The columns every CSV export of bills ends with: the bill's Zoho organization, by id and by name. */
export const ORGANIZATION_COLUMNS = ['organization', 'organization_name']

/** A bill's fields under ORGANIZATION_COLUMNS (the name empty when the organization is no longer configured). */
export function organizationFields(organizations: readonly OrganizationConfig[], organizationId: string | null): [string, string] {
  const ref = organizationRef(organizations, organizationId)
  return [ref.id, ref.name ?? '']
}

export function organizationViews(organizations: readonly OrganizationConfig[]): OrganizationViews {
  const several = organizations.length > 1
  const name = (organizationId: string | null) => {
    const ref = organizationRef(organizations, organizationId)
    return ref.name === null ? html`<code>${ref.id}</code> <span class="muted">(no longer configured)</span>` : html`${ref.name} <span class="muted"><code>${ref.id}</code></span>`
  }
  return {
    several,
    name,
    select(selected) {
      if (!several) return selected ? html`<input type="hidden" name="organization" value="${selected}">` : ''
      // A filter on an organization no longer configured (from a link) stays visible and chosen.
      const unknown = selected && !organizations.some((o) => o.organizationId === selected) ? selected : undefined
      return html`<label>Organization <select name="organization"><option value="">any</option>
        ${organizations.map((o) => html`<option value="${o.organizationId}"${o.organizationId === selected ? html` selected` : ''}>${o.name ?? o.label} (${o.organizationId})</option>`)}
        ${unknown ? html`<option value="${unknown}" selected>${unknown} (no longer configured)</option>` : ''}</select></label>`
    },
  }
}
