import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Json = ColumnType<unknown, string, string>

export type TransactionStatus = 'received' | 'queued' | 'processing' | 'delivered' | 'failed' | 'resolved'

export interface BatchesTable {
  id: Generated<string>
  source: Generated<string>
  client_batch_id: string | null
  bill_count: number
  accepted: number
  rejected: number
  response: Json | null
  created_at: Timestamp
}

export interface TransactionsTable {
  id: Generated<string>
  batch_id: string | null
  source: Generated<string>
  external_id: string
  bill_number: string
  vendor_external_id: string | null
  vendor_name: string
  vendor: Json
  bill: Json
  amount: ColumnType<string, string, string>
  currency: string
  status: ColumnType<TransactionStatus, TransactionStatus | undefined, TransactionStatus>
  attempts: Generated<number>
  last_error_code: string | null
  last_error_message: string | null
  zoho_bill_id: string | null
  zoho_attachment: Generated<boolean>
  blob_key: string
  file_name: string
  sha256: string
  size_bytes: ColumnType<string, number | string, number | string>
  created_at: Timestamp
  updated_at: Timestamp
  delivered_at: Date | null
}

export interface AttemptsTable {
  id: Generated<string>
  transaction_id: string
  started_at: Date
  finished_at: Timestamp
  outcome: string
  http_status: number | null
  zoho_code: number | null
  error_code: string | null
  message: string | null
  duration_ms: number
}

export interface Database {
  batches: BatchesTable
  transactions: TransactionsTable
  attempts: AttemptsTable
  api_keys: ApiKeysTable
}

export type Scope = 'ingest' | 'read' | 'admin'

export interface ApiKeysTable {
  id: Generated<string>
  name: string
  key_prefix: string
  key_hash: Buffer
  scopes: Scope[]
  created_at: Timestamp
  last_used_at: Date | null
  revoked_at: Date | null
}
