import type pg from 'pg'
import { inTransaction } from '../db/pool.ts'
import type { BooksClient } from '../zoho/books-client.ts'
import { ZohoError } from '../zoho/errors.ts'
import { accountKey } from './chart.ts'
import { refreshReference } from './reference-cache.ts'

export type Segment = 'department' | 'class' | 'location'
export const SEGMENTS: readonly Segment[] = ['department', 'class', 'location']
/** ZOHO_TAGS: each NetSuite segment → the name of a Zoho reporting tag */
export type TagConfig = Partial<Record<Segment, string>>

export const TAGS_REFRESH_MS = 5 * 60_000

export interface CachedTag { tag_id: string; tag_name: string; is_mandatory: boolean; is_active: boolean }
export interface CachedOption { tag_id: string; tag_option_id: string; option_name: string; full_name: string; is_active: boolean }

/** "Sales : EMEA" and "sales:emea" alike: lower case, one space, " : " between levels. */
export function tagValueKey(value: string): string {
  return accountKey(value.split(':').map((s) => s.trim()).join(' : '))
}

function lastSegment(value: string): string {
  return value.split(':').pop()!.trim()
}

export type OptionMatch = { option: CachedOption } | { problem: string; candidates: CachedOption[] }

/** The active option for a NetSuite value: by full name, then by the last segment of a hierarchical name. */
export function matchOption(options: CachedOption[], value: string): OptionMatch {
  const active = options.filter((o) => o.is_active)
  const full = tagValueKey(value)
  const byFull = active.filter((o) => tagValueKey(o.full_name) === full || tagValueKey(o.option_name) === full)
  if (byFull.length === 1) return { option: byFull[0]! }
  const leaf = tagValueKey(lastSegment(value))
  const byLeaf = byFull.length > 1 ? byFull : active.filter((o) => tagValueKey(o.option_name) === leaf)
  if (byLeaf.length === 1) return { option: byLeaf[0]! }
  if (byLeaf.length > 1) return { problem: `${byLeaf.length} options are named "${lastSegment(value)}"`, candidates: byLeaf }
  return { problem: 'no active option has that name', candidates: [] }
}

/** "department=Department,class=Cost centre,location=Region" → the tag name per segment; unknown segments throw. */
export function parseTagConfig(text: string): TagConfig {
  const config: TagConfig = {}
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=')
    const segment = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()
    const name = eq < 0 ? '' : part.slice(eq + 1).trim()
    if (!SEGMENTS.includes(segment as Segment)) throw new Error(`"${segment}" is not a NetSuite segment: use department, class or location (e.g. department=Department,class=Cost centre)`)
    if (!name) throw new Error(`${segment} names no Zoho reporting tag (write ${segment}=<tag name>)`)
    if (config[segment as Segment]) throw new Error(`${segment} is given twice`)
    config[segment as Segment] = name
  }
  return config
}

export interface ZohoTag { tag_id: string; tag_name: string; is_mandatory?: boolean; is_tag_mandatory?: boolean; status?: string; is_active?: boolean }
export interface ZohoOption { tag_option_id: string; tag_option_name: string; parent_tag_option_id?: string; status?: string; is_active?: boolean }

const isActive = (x: { status?: string; is_active?: boolean }) => x.is_active !== false && (x.status === undefined || x.status === 'active')

/** Zoho's reporting tags list as cached rows: mandatory by is_mandatory or is_tag_mandatory (docs/zoho.md). */
export function tagsFromZoho(list: ZohoTag[]): CachedTag[] {
  return list.map((t) => ({ tag_id: t.tag_id, tag_name: t.tag_name, is_mandatory: t.is_mandatory === true || t.is_tag_mandatory === true, is_active: isActive(t) }))
}

/** A tag's options as cached rows, each with its full name from the root ("Sales : EMEA"). */
export function optionsFromZoho(tagId: string, raw: ZohoOption[]): CachedOption[] {
  const byId = new Map(raw.map((o) => [o.tag_option_id, o]))
  const fullName = (o: ZohoOption): string => {
    const names = [o.tag_option_name.trim()]
    for (let p = byId.get(o.parent_tag_option_id ?? ''), hops = 0; p && hops < 20; p = byId.get(p.parent_tag_option_id ?? ''), hops++) names.unshift(p.tag_option_name.trim())
    return names.join(' : ')
  }
  return raw.map((o) => ({ tag_id: tagId, tag_option_id: o.tag_option_id, option_name: o.tag_option_name.trim(), full_name: fullName(o), is_active: isActive(o) }))
}

/**
 * NetSuite department, class and location → Zoho reporting tag options, per ZOHO_TAGS. Tags and the options
 * of the configured tags are cached in zoho_tags and zoho_tag_options; an operator's choice is in tag_map.
 */
export function createTags(options: { pool: pg.Pool; books: BooksClient; organizationId: string; tags: TagConfig; refreshMs?: number }) {
  const { pool, books, organizationId: org, tags: config } = options
  const wantedNames = new Set(Object.values(config).map((n) => n.trim().toLowerCase()))

  /** The tag list, and the options of the tags ZOHO_TAGS names (one request each): 1 + at most 3 requests. */
  async function readTags(signal?: AbortSignal): Promise<number> {
    const list = await books.callPages<ZohoTag>({ method: 'GET', path: '/reportingtags', endpoint: 'GET /reportingtags' }, 'reporting_tags', signal)
    const tags = tagsFromZoho(list.items)
    const opts: CachedOption[] = []
    for (const tag of tags.filter((t) => wantedNames.has(t.tag_name.trim().toLowerCase()))) opts.push(...await readOptions(tag.tag_id, signal))
    await inTransaction(pool, async (client) => {
      await client.query('DELETE FROM zoho_tags WHERE organization_id = $1', [org])
      await client.query('DELETE FROM zoho_tag_options WHERE organization_id = $1', [org])
      await client.query(
        `INSERT INTO zoho_tags (organization_id, tag_id, tag_name, is_mandatory, is_active) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::boolean[], $5::boolean[]) ON CONFLICT DO NOTHING`,
        [org, tags.map((t) => t.tag_id), tags.map((t) => t.tag_name), tags.map((t) => t.is_mandatory), tags.map((t) => t.is_active)])
      await insertOptions(client, opts)
    })
    return tags.length
  }

  /** One tag's options (one request), each with its full name from the root ("Sales : EMEA"). */
  async function readOptions(tagId: string, signal?: AbortSignal): Promise<CachedOption[]> {
    const res = await books.call<{ tag_options?: ZohoOption[] }>({ method: 'GET', path: `/reportingtags/${tagId}/options`, endpoint: 'GET /reportingtags/{id}/options' }, signal)
    return optionsFromZoho(tagId, res.tag_options ?? [])
  }

  /** Re-reads the options of one cached tag (one request), replacing its cached options. */
  async function rereadOptions(tagId: string, signal?: AbortSignal): Promise<number> {
    const opts = await readOptions(tagId, signal)
    await inTransaction(pool, async (client) => {
      await client.query('DELETE FROM zoho_tag_options WHERE organization_id = $1 AND tag_id = $2', [org, tagId])
      await insertOptions(client, opts)
    })
    return opts.length
  }

  async function insertOptions(client: pg.PoolClient, opts: CachedOption[]): Promise<void> {
    await client.query(
      `INSERT INTO zoho_tag_options (organization_id, tag_id, tag_option_id, option_name, full_name, is_active)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[]) ON CONFLICT DO NOTHING`,
      [org, opts.map((o) => o.tag_id), opts.map((o) => o.tag_option_id), opts.map((o) => o.option_name), opts.map((o) => o.full_name), opts.map((o) => o.is_active)])
  }

  async function refreshTags(signal?: AbortSignal): Promise<boolean> {
    memo = null
    return refreshReference(pool, org, 'tags', options.refreshMs ?? TAGS_REFRESH_MS, () => readTags(signal), signal)
  }

  // The lists as last read from the database, for a minute: a bill's lines then cost no query each. A miss
  // drops it and reads the database again (another process may have refreshed the lists meanwhile).
  let memo: { until: number; lists: { tags: CachedTag[]; options: CachedOption[] } } | null = null
  const MEMO_MS = 60_000

  async function cached(): Promise<{ tags: CachedTag[]; options: CachedOption[] }> {
    if (memo && memo.until > Date.now()) return memo.lists
    const lists = await readCached()
    memo = { until: Date.now() + MEMO_MS, lists }
    return lists
  }

  async function readCached(): Promise<{ tags: CachedTag[]; options: CachedOption[] }> {
    const [tags, opts] = await Promise.all([
      pool.query<CachedTag>('SELECT tag_id, tag_name, is_mandatory, is_active FROM zoho_tags WHERE organization_id = $1 ORDER BY tag_name', [org]),
      pool.query<CachedOption>('SELECT tag_id, tag_option_id, option_name, full_name, is_active FROM zoho_tag_options WHERE organization_id = $1 ORDER BY full_name', [org]),
    ])
    return { tags: tags.rows, options: opts.rows }
  }

  /** The configured tag of a segment in the cached list (active, by name, case-insensitive). */
  function tagOf(tags: CachedTag[], segment: Segment): CachedTag | undefined {
    const name = config[segment]?.trim().toLowerCase()
    return name ? tags.find((t) => t.is_active && t.tag_name.trim().toLowerCase() === name) : undefined
  }

  type Attempt = { ok: Array<{ tag_id: string; tag_option_id: string }> } | { code: 'TAG_UNMAPPED' | 'TAG_REQUIRED'; message: string }

  async function attempt(values: Partial<Record<Segment, string>>): Promise<Attempt> {
    const { tags, options: opts } = await cached()
    const given = SEGMENTS.filter((s) => values[s]?.trim())
    const operator = given.length === 0 ? [] : (await pool.query<{ segment: Segment; value: string; tag_id: string; tag_option_id: string }>(
      'SELECT segment, value, tag_id, tag_option_id FROM tag_map WHERE organization_id = $1 AND (segment, value) IN (SELECT * FROM unnest($2::text[], $3::text[]))',
      [org, given, given.map((s) => accountKey(values[s]!))])).rows
    const out: Array<{ tag_id: string; tag_option_id: string }> = []
    for (const segment of SEGMENTS) {
      const tagName = config[segment]
      const value = values[segment]?.trim()
      if (!tagName || !value) continue
      const tag = tagOf(tags, segment)
      if (!tag) return { code: 'TAG_UNMAPPED', message: `ZOHO_TAGS maps ${segment} to the reporting tag "${tagName}", which Zoho does not list as active: correct ZOHO_TAGS or create the tag in Zoho Books (Settings → Reporting Tags), then retry` }
      const mine = opts.filter((o) => o.tag_id === tag.tag_id)
      const chosen = operator.find((m) => m.segment === segment)
      if (chosen) {
        const option = mine.find((o) => o.tag_option_id === chosen.tag_option_id && o.is_active)
        if (!option) return { code: 'TAG_UNMAPPED', message: `${segment} "${value}" is mapped to tag option ${chosen.tag_option_id}, which is not an active option of "${tag.tag_name}" now: ${fix(segment, value)}` }
        out.push({ tag_id: tag.tag_id, tag_option_id: option.tag_option_id })
        continue
      }
      const match = matchOption(mine, value)
      if (!('option' in match)) {
        const named = match.candidates.length > 0 ? ` (${match.candidates.slice(0, 10).map((o) => `${o.tag_option_id} "${o.full_name}"`).join(', ')})` : ''
        return { code: 'TAG_UNMAPPED', message: `${segment} "${value}" matches no option of the Zoho reporting tag "${tag.tag_name}": ${match.problem}${named}. ${fix(segment, value)}` }
      }
      out.push({ tag_id: tag.tag_id, tag_option_id: match.option.tag_option_id })
    }
    for (const tag of tags.filter((t) => t.is_active && t.is_mandatory)) {
      if (out.some((o) => o.tag_id === tag.tag_id)) continue
      const segment = SEGMENTS.find((s) => tagOf(tags, s)?.tag_id === tag.tag_id)
      return {
        code: 'TAG_REQUIRED',
        message: segment
          ? `Zoho requires the reporting tag "${tag.tag_name}" on every line, and this bill has no ${segment}: fill the ${segment} on the bill or its lines in NetSuite and send it again`
          : `Zoho requires the reporting tag "${tag.tag_name}" on every line, and ZOHO_TAGS maps no NetSuite segment to it: add it to ZOHO_TAGS (e.g. department=${tag.tag_name}), restart billbridge, then retry`,
      }
    }
    return { ok: out }
  }

  function fix(segment: Segment, value: string): string {
    return `Map it on the dashboard's Mappings page (Tags) or with \`npm run cli -- map tag ${segment} "${value}" <tag option id>\`, then retry`
  }

  async function everRead(): Promise<boolean> {
    const { rowCount } = await pool.query(`SELECT 1 FROM zoho_reference_state WHERE organization_id = $1 AND list = 'tags'`, [org])
    return (rowCount ?? 0) > 0
  }

  /** A line's segments → its tags, per ZOHO_TAGS; every mandatory tag of the organization must be among them. */
  async function resolveTags(values: Partial<Record<Segment, string>>, signal?: AbortSignal): Promise<Array<{ tag_id: string; tag_option_id: string }>> {
    if (!memo && !await everRead()) await refreshTags(signal)
    let result = await attempt(values)
    // TAG_REQUIRED is about the bill, not the cache; a missing tag or option may be new in Zoho.
    if ('code' in result && result.code === 'TAG_UNMAPPED') {
      memo = null
      await refreshTags(signal)
      result = await attempt(values)
    }
    if ('code' in result) throw new ZohoError('permanent', result.code, result.message)
    return result.ok
  }

  return { resolveTags, readTags, rereadOptions, refreshTags, cached, tagOf, config }
}
