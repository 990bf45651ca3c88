-- Versions and cancellations. A bill sent again under its externalId with other content and a newer
-- NetSuite lastModified is a new version: every version is kept here with its content hash, what was sent
-- to Zoho for it and when, and Zoho's answer. transactions holds the newest version's content (the one a
-- job delivers) and which version Zoho holds. A bill NetSuite cancelled ends in the status 'cancelled'.
ALTER TABLE transactions DROP CONSTRAINT transactions_status_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_status_check
  CHECK (status IN ('received', 'queued', 'processing', 'delivered', 'failed', 'resolved', 'cancelled'));
-- The status rollup (0004/0005) counts only statuses it has a row for.
INSERT INTO status_counts (status, n) VALUES ('cancelled', 0) ON CONFLICT (status) DO NOTHING;

ALTER TABLE transactions
  -- NetSuite's last-modified time of the newest version (null: sent without one)
  ADD COLUMN last_modified    timestamptz,
  -- SHA-256 of the newest version's content, PDF included (null: stored before versions were kept)
  ADD COLUMN content_hash     text,
  -- the newest version's number, and the one Zoho holds (null: none in Zoho yet)
  ADD COLUMN version          integer NOT NULL DEFAULT 1,
  ADD COLUMN zoho_version     integer,
  -- NetSuite cancelled the bill: it is voided in Zoho, or never sent
  ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false,
  -- the version the last attempt took up: a bill that failed on an older one is taken again by its job
  ADD COLUMN attempted_version integer;

UPDATE transactions SET attempted_version = version WHERE attempts > 0;

-- Bills already in Zoho hold their one version.
UPDATE transactions SET zoho_version = 1 WHERE zoho_bill_id IS NOT NULL;

CREATE TABLE bill_versions (
  transaction_id uuid NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
  version        integer NOT NULL,
  batch_id       uuid,
  content_hash   text,
  last_modified  timestamptz,
  cancelled      boolean NOT NULL DEFAULT false,
  -- the version's content as stored on transactions (bill number, vendor, bill, amount, currency, file), null for a cancel
  content        jsonb,
  -- the version's PDF; a superseded version's PDF is deleted from the store once a newer one replaces it
  blob_key       text,
  sha256         text,
  received_at    timestamptz NOT NULL DEFAULT now(),
  -- the last payload sent to Zoho for this version, and when
  sent_payload   jsonb,
  sent_at        timestamptz,
  -- Zoho's answer: created, updated, refused, voided, void_refused, never_sent
  zoho_outcome   text,
  zoho_message   text,
  PRIMARY KEY (transaction_id, version)
);

-- Every bill stored so far is its version 1.
INSERT INTO bill_versions (transaction_id, version, batch_id, content, blob_key, sha256, received_at, zoho_outcome)
SELECT id, 1, batch_id,
       jsonb_build_object('external_id', external_id, 'bill_number', bill_number, 'vendor_external_id', vendor_external_id, 'vendor_name', vendor_name,
                          'vendor', vendor, 'bill', bill, 'amount', amount, 'currency', currency, 'file_name', file_name, 'size_bytes', size_bytes),
       blob_key, sha256, created_at, CASE WHEN zoho_bill_id IS NOT NULL THEN 'created' END
  FROM transactions;
