import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { ApiKeyRepository } from './auth/api-keys.ts'
import type { AuthFailureLimiter } from './auth/auth-failures.ts'
import type { BlobStore } from './blob/types.ts'
import type { Config } from './config.ts'
import type { Db } from './db/pool.ts'
import type { Logger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import type { FailedRepository } from './repositories/failed.ts'
import type { TransactionRepository } from './repositories/transactions.ts'
import type { OrganizationConfig } from './zoho/organizations.ts'
import type { ZohoStack } from './zoho/stack.ts'

export interface Lifecycle {
  draining: boolean
}

/** The runtime's parts an app is built from; app.ts and every route module import these types from here. */
export interface AppDeps {
  config: Config
  logger: Logger
  pool: pg.Pool
  db: Db
  blobs: BlobStore
  boss: PgBoss
  lifecycle: Lifecycle
  metrics: Metrics
  /** every Zoho organization bills go to (in sandbox mode, the sandbox's one) */
  organizations: OrganizationConfig[]
  /** false when this process cannot reach Zoho (sandbox mode, API role: the sandbox runs in the workers) */
  zohoReachable: boolean
}

/** What route plugins get: the runtime's parts plus the repositories built over its database. */
export interface RouteDeps extends AppDeps {
  keys: ApiKeyRepository
  transactions: TransactionRepository
  failed: FailedRepository
  authFailures: AuthFailureLimiter
  /** an organization's Zoho stack for operator tools (the default organization's when none is named), built on first use; null when this process cannot reach Zoho or knows no such organization */
  zoho: (organizationId?: string) => ZohoStack | null
}
