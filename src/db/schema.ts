import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type Json = ColumnType<unknown, string, string>

export type TransactionStatus = 'received' | 'queued' | 'processing' | 'delivered' | 'failed' | 'resolved' | 'cancelled'

export interface BatchesTable {
  id: Generated<string>
  source: Generated<string>
  client_batch_id: string | null
  bill_count: number
  accepted: number
  rejected: number
  response: Json | null
  created_at: Timestamp
  /** SHA-256 of the batch's canonical content; null for batches stored before migration 0021 */
  fingerprint: string | null
  /** the API key that first sent the batchId; null before migration 0021 */
  api_key_id: string | null
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
  /** the Zoho vendor the bill was resolved to (migration 0022; NULL before) */
  zoho_vendor_id: string | null
  zoho_vendor_name: string | null
  blob_key: string
  file_name: string
  sha256: string
  size_bytes: ColumnType<string, number | string, number | string>
  created_at: Timestamp
  updated_at: Timestamp
  delivered_at: Date | null
  /** versions (migration 0031) */
  last_modified: Date | null
  content_hash: string | null
  version: Generated<number>
  zoho_version: number | null
  cancel_requested: Generated<boolean>
  attempted_version: number | null
  /** the Zoho organization the bill goes to, fixed when accepted (migration 0034) */
  organization_id: string | null
}

/** Every version of a bill (migration 0031). */
export interface BillVersionsTable {
  transaction_id: string
  version: number
  batch_id: string | null
  content_hash: string | null
  last_modified: Date | null
  cancelled: Generated<boolean>
  content: Json | null
  blob_key: string | null
  sha256: string | null
  received_at: Timestamp
  sent_payload: Json | null
  sent_at: Date | null
  zoho_outcome: string | null
  zoho_message: string | null
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
  bill_versions: BillVersionsTable
  api_keys: ApiKeysTable
  operator_audit: OperatorAuditTable
  rejected_items: RejectedItemsTable
  mapping_usage: MappingUsageTable
  account_map: AccountMapTable
  vendor_map: VendorMapTable
  zoho_accounts: ZohoAccountsTable
  zoho_reference_state: { organization_id: string; list: string; fetched_at: Date; item_count: number }
  tax_map: { organization_id: string; tax_code: string; zoho_tax_id: string; origin: string; created_at: Timestamp }
  tag_map: { organization_id: string; segment: string; value: string; tag_id: string; tag_option_id: string; origin: string; created_at: Timestamp }
  zoho_taxes: { organization_id: string; tax_id: string; tax_name: string; percentage: string; is_group: boolean; kind: string; specific_type: string | null; is_active: boolean }
  zoho_tags: { organization_id: string; tag_id: string; tag_name: string; is_mandatory: boolean; is_active: boolean }
  zoho_tag_options: { organization_id: string; tag_id: string; tag_option_id: string; option_name: string; full_name: string; is_active: boolean }
  zoho_organization: { organization_id: string; edition: string; country: string | null; country_code: string; state: string | null; currency_code: string; fetched_at: Date }
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

export interface OperatorAuditTable {
  id: Generated<string>
  at: Timestamp
  actor: string
  action: string
  subject: string | null
  detail: Json
  address: string | null
}

export interface RejectedItemsTable {
  batch_id: string
  item_index: number
  external_id: string | null
  code: string
  field: string | null
  message: string
  bill_number: string | null
  vendor_name: string | null
  created_at: Date
}

export interface MappingUsageTable {
  /** '' for bills not yet given an organization */
  organization_id: string
  kind: 'account' | 'vendor' | 'tax' | 'department' | 'class' | 'location'
  key: string
  label: string
  vendor_external_id: string | null
  bills: ColumnType<string, string | number, string | number>
  failed: ColumnType<string, string | number, string | number>
}

export interface AccountMapTable {
  organization_id: string
  account: string
  zoho_account_id: string
  origin: string
  created_at: Timestamp
}

export interface VendorMapTable {
  organization_id: string
  vendor_key: string
  zoho_vendor_id: string
  origin: string
  /** how the row was made: 'auto_unique_name' | 'auto_email' | 'created' | 'operator' (NULL: an id: key from before 0022) */
  source: string | null
  currency_code: string | null
  /** the NetSuite vendor name (or what the operator typed) */
  vendor_name: string | null
  /** the contact's name in Zoho, once read */
  zoho_vendor_name: string | null
  created_at: Timestamp
}

export interface ZohoAccountsTable {
  organization_id: string
  account_id: string
  account_name: string
  account_code: string | null
  account_type: string | null
  is_active: boolean
}
