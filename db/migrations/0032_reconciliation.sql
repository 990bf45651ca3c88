-- Reconciliation: billbridge reads its bills back from Zoho and records where the books disagree.
-- A run pages through Zoho's bill list for the delivered bills' dates; a run stopped by its daily share of
-- the Zoho quota (or by deliveries waiting) is resumed by the next one from next_page.
CREATE TABLE reconciliation_runs (
  id bigserial PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused', 'done')),
  range_start date,
  range_end date,
  next_page integer NOT NULL DEFAULT 1,
  listing_done boolean NOT NULL DEFAULT false,
  requests integer NOT NULL DEFAULT 0,
  bills_read integer NOT NULL DEFAULT 0,
  new_differences integer NOT NULL DEFAULT 0,
  trigger text NOT NULL DEFAULT 'schedule',
  note text
);
CREATE INDEX reconciliation_runs_open_idx ON reconciliation_runs (id) WHERE state <> 'done';

-- The Zoho bills a run has read (listed or fetched by id), so that a resumed run knows what is left.
CREATE TABLE reconciliation_seen (
  run_id bigint NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
  zoho_bill_id text NOT NULL,
  PRIMARY KEY (run_id, zoho_bill_id)
);

-- Requests reconciliation spent per organization on the current UTC day (its RECONCILE_MAX_DAILY_SHARE).
CREATE TABLE reconciliation_budget (
  organization_id text PRIMARY KEY,
  day date NOT NULL,
  requests integer NOT NULL
);

CREATE TABLE reconciliation_findings (
  id bigserial PRIMARY KEY,
  transaction_id uuid REFERENCES transactions (id) ON DELETE CASCADE,
  external_id text,
  zoho_bill_id text,
  kind text NOT NULL CHECK (kind IN ('missing_in_zoho', 'voided_in_zoho', 'total_differs', 'date_differs', 'vendor_differs', 'currency_differs', 'not_in_billbridge')),
  billbridge_value text,
  zoho_value text,
  found_at timestamptz NOT NULL DEFAULT now(),
  last_run_id bigint REFERENCES reconciliation_runs (id) ON DELETE SET NULL,
  resolved_at timestamptz,
  resolution text CHECK (resolution IN ('gone', 'accepted', 'reviewed', 'redelivered')),
  resolved_by text,
  CHECK ((resolved_at IS NULL) = (resolution IS NULL)),
  CHECK (transaction_id IS NOT NULL OR zoho_bill_id IS NOT NULL)
);
-- One open difference per bill and kind: a bill billbridge knows by its transaction, a stranger by its Zoho id.
CREATE UNIQUE INDEX reconciliation_findings_open_key ON reconciliation_findings (kind, (COALESCE(transaction_id::text, zoho_bill_id))) WHERE resolved_at IS NULL;
CREATE INDEX reconciliation_findings_settled_idx ON reconciliation_findings (kind, (COALESCE(transaction_id::text, zoho_bill_id))) WHERE resolution IN ('accepted', 'reviewed');
CREATE INDEX reconciliation_findings_open_kind_idx ON reconciliation_findings (kind, found_at DESC, id DESC) WHERE resolved_at IS NULL;

CREATE VIEW reconciliation_differences AS
  SELECT external_id, transaction_id, zoho_bill_id, kind, billbridge_value, zoho_value, found_at, resolved_at, resolution
    FROM reconciliation_findings;

DO $$
BEGIN
  GRANT SELECT ON reconciliation_differences TO billbridge_reporting;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'reconciliation_differences not granted to billbridge_reporting (no such role): run db/reporting-role.sql as a superuser';
END $$;
