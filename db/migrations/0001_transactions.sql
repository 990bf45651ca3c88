-- Batches as NetSuite sent them, with the first answer kept for batchId replays.
CREATE TABLE batches (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source          text NOT NULL DEFAULT 'netsuite',
  client_batch_id text,
  bill_count      integer NOT NULL,
  accepted        integer NOT NULL,
  rejected        integer NOT NULL,
  response        jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT batches_client_batch_id_key UNIQUE (source, client_batch_id)
);
CREATE INDEX batches_created_at_idx ON batches (created_at DESC);

-- One row per vendor bill; the PDF lives in the blob store under blob_key.
CREATE TABLE transactions (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  batch_id           uuid REFERENCES batches (id),
  source             text NOT NULL DEFAULT 'netsuite',
  external_id        text NOT NULL,
  bill_number        text NOT NULL,
  vendor_external_id text,
  vendor_name        text NOT NULL,
  vendor             jsonb NOT NULL,
  bill               jsonb NOT NULL,
  amount             numeric(18, 2) NOT NULL,
  currency           char(3) NOT NULL,
  status             text NOT NULL DEFAULT 'received'
                     CHECK (status IN ('received', 'queued', 'processing', 'delivered', 'failed', 'resolved')),
  attempts           integer NOT NULL DEFAULT 0,
  last_error_code    text,
  last_error_message text,
  zoho_bill_id       text,
  zoho_attachment    boolean NOT NULL DEFAULT false,
  blob_key           text NOT NULL,
  file_name          text NOT NULL,
  sha256             char(64) NOT NULL,
  size_bytes         bigint NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  delivered_at       timestamptz,
  CONSTRAINT transactions_source_external_id_key UNIQUE (source, external_id)
);
CREATE INDEX transactions_status_created_idx ON transactions (status, created_at DESC);
CREATE INDEX transactions_pending_idx ON transactions (created_at) WHERE status IN ('queued', 'processing');
CREATE INDEX transactions_batch_idx ON transactions (batch_id);
CREATE INDEX transactions_bill_number_idx ON transactions (bill_number);
CREATE INDEX transactions_blob_key_idx ON transactions (blob_key);

-- Every delivery attempt, for the operator's timeline.
CREATE TABLE attempts (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id uuid NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL DEFAULT now(),
  outcome        text NOT NULL,
  http_status    integer,
  zoho_code      integer,
  error_code     text,
  message        text,
  duration_ms    integer NOT NULL
);
CREATE INDEX attempts_transaction_idx ON attempts (transaction_id, started_at);
