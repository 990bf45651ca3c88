import { createHash, randomBytes } from 'node:crypto'
import type pg from 'pg'

export interface AdminSession {
  id: string
  keyId: string
  /** the key's name, which the audit trail records as the operator */
  keyName: string
}

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest()
const TOKEN = /^[A-Za-z0-9_-]{43}$/

/** Server-side dashboard sessions: created at login with a fixed lifetime, revoked at logout. */
export function createAdminSessions(pool: pg.Pool, lifetimeHours: number) {
  return {
    /** The cookie token of a new session for the key; only its hash is stored. */
    async create(keyId: string): Promise<{ token: string; maxAgeSeconds: number }> {
      const token = randomBytes(32).toString('base64url')
      const maxAgeSeconds = Math.round(lifetimeHours * 3600)
      await pool.query(`INSERT INTO admin_sessions (token_hash, key_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`, [hash(token), keyId, maxAgeSeconds])
      return { token, maxAgeSeconds }
    },

    /** The live session behind a token: not expired, not revoked, its key unrevoked and still admin. */
    async find(token: string): Promise<AdminSession | null> {
      if (!TOKEN.test(token)) return null
      const { rows } = await pool.query<{ id: string; key_id: string; name: string }>(
        `SELECT s.id, s.key_id, k.name FROM admin_sessions s JOIN api_keys k ON k.id = s.key_id
          WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND k.revoked_at IS NULL AND 'admin' = ANY (k.scopes)`,
        [hash(token)],
      )
      return rows[0] ? { id: rows[0].id, keyId: rows[0].key_id, keyName: rows[0].name } : null
    },

    async revoke(id: string): Promise<void> {
      await pool.query('UPDATE admin_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id])
    },
  }
}

export type AdminSessions = ReturnType<typeof createAdminSessions>

/** A random secret made once per install and kept in the database, so every container shares it. */
export async function installSecret(pool: pg.Pool, name: string): Promise<Buffer> {
  await pool.query('INSERT INTO install_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32)])
  const { rows } = await pool.query<{ value: Buffer }>('SELECT value FROM install_secrets WHERE name = $1', [name])
  return rows[0]!.value
}
