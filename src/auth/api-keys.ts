import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db } from '../db/pool.ts'
import type { Scope } from '../db/schema.ts'
import { AppError } from '../errors.ts'

export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin']
const KEY_PREFIX = 'bb_'
const NAME = /^[A-Za-z0-9._-]{1,64}$/
// last_used_at is a hint for operators, not an audit log: write it at most once a minute per key.
const LAST_USED_RESOLUTION_MS = 60_000

export interface ApiKeyIdentity {
  id: string
  name: string
  scopes: Scope[]
}

export interface ApiKeySummary extends ApiKeyIdentity {
  prefix: string
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest()
}

export function parseScopes(text: string): Scope[] {
  const scopes = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))]
  const unknown = scopes.filter((s) => !SCOPES.includes(s as Scope))
  if (scopes.length === 0 || unknown.length > 0) {
    throw new AppError('SCOPES_INVALID', `scopes must be a comma-separated list of ${SCOPES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`, 400)
  }
  return scopes as Scope[]
}

export function createApiKeyRepository(db: Db) {
  return {
    /** Returns the new key in clear; only its hash is stored. */
    async create(name: string, scopes: Scope[]): Promise<{ key: string; identity: ApiKeyIdentity }> {
      if (!NAME.test(name)) throw new AppError('KEY_NAME_INVALID', 'key name must be 1-64 characters of letters, digits, dot, dash or underscore', 400)
      const key = KEY_PREFIX + randomBytes(32).toString('base64url')
      try {
        const row = await db
          .insertInto('api_keys')
          .values({ name, key_prefix: key.slice(0, 10), key_hash: hashKey(key), scopes })
          .returning(['id', 'name', 'scopes'])
          .executeTakeFirstOrThrow()
        return { key, identity: row }
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new AppError('KEY_NAME_TAKEN', `an API key named "${name}" already exists`, 409)
        throw err
      }
    },

    async list(): Promise<ApiKeySummary[]> {
      const rows = await db.selectFrom('api_keys').select(['id', 'name', 'scopes', 'key_prefix', 'created_at', 'last_used_at', 'revoked_at']).orderBy('created_at').execute()
      return rows.map((r) => ({ id: r.id, name: r.name, scopes: r.scopes, prefix: r.key_prefix, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at }))
    },

    async revoke(name: string): Promise<boolean> {
      const result = await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },

    /** The key's identity, or null when it is unknown or revoked. */
    async authenticate(key: string): Promise<ApiKeyIdentity | null> {
      if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null
      const hash = hashKey(key)
      const row = await db.selectFrom('api_keys').select(['id', 'name', 'scopes', 'key_hash', 'last_used_at']).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst()
      // The lookup is by hash; the final comparison is constant-time all the same.
      if (!row || !timingSafeEqual(row.key_hash, hash)) return null
      if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
        await db.updateTable('api_keys').set({ last_used_at: new Date() }).where('id', '=', row.id).execute()
      }
      return { id: row.id, name: row.name, scopes: row.scopes }
    },
  }
}

export type ApiKeyRepository = ReturnType<typeof createApiKeyRepository>
