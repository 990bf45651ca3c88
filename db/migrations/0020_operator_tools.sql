-- What the dashboard needs for operators to fix failures without a shell: an append-only audit trail,
-- rejected items as rows, the accounts and vendors billbridge has seen with their bill counts, and
-- indexes for searching bills by number, NetSuite id, Zoho bill id or vendor name.

CREATE TABLE operator_audit (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,
  action  text NOT NULL,
  subject text,
  detail  jsonb NOT NULL DEFAULT '{}',
  address text
);
CREATE INDEX operator_audit_at_idx ON operator_audit (at DESC, id DESC);
CREATE INDEX operator_audit_action_idx ON operator_audit (action, at DESC, id DESC);
CREATE INDEX operator_audit_actor_idx ON operator_audit (actor, at DESC, id DESC);

-- The trail is evidence for a finance team's controls: the service may add to it, never change it.
CREATE FUNCTION operator_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'operator_audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER operator_audit_no_update BEFORE UPDATE OR DELETE ON operator_audit FOR EACH ROW EXECUTE FUNCTION operator_audit_append_only();
CREATE TRIGGER operator_audit_no_truncate BEFORE TRUNCATE ON operator_audit FOR EACH STATEMENT EXECUTE FUNCTION operator_audit_append_only();

CREATE VIEW operator_actions AS
  SELECT id, at, actor AS key_name, action, subject, detail, address FROM operator_audit;

-- Every rejected item of every batch, so rejections can be listed across batches by code and date.
CREATE TABLE rejected_items (
  batch_id    uuid NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  item_index  integer NOT NULL,
  external_id text,
  code        text NOT NULL,
  field       text,
  message     text NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (batch_id, item_index)
);
CREATE INDEX rejected_items_created_idx ON rejected_items (created_at DESC, batch_id DESC, item_index DESC);
CREATE INDEX rejected_items_code_idx ON rejected_items (code, created_at DESC, batch_id DESC, item_index DESC);
INSERT INTO rejected_items (batch_id, item_index, external_id, code, field, message, created_at)
  SELECT b.id, (i->>'index')::int, i->>'externalId', i->'error'->>'code', i->'error'->>'field', coalesce(i->'error'->>'message', ''), b.created_at
    FROM batches b CROSS JOIN LATERAL jsonb_array_elements(b.response->'items') i
   WHERE b.rejected > 0 AND i->>'status' = 'rejected'
  ON CONFLICT DO NOTHING;

-- Accounts and vendors seen on bills, with how many bills carried them and how many of those are failed now;
-- kept in the same statement as the change, like the other rollups, so the mappings page never scans bills.
CREATE TABLE mapping_usage (
  kind               text NOT NULL CHECK (kind IN ('account', 'vendor')),
  key                text NOT NULL,
  label              text NOT NULL,
  vendor_external_id text,
  bills              bigint NOT NULL DEFAULT 0,
  failed             bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, key)
);
CREATE INDEX mapping_usage_order_idx ON mapping_usage (kind, failed DESC, key);

CREATE FUNCTION account_key(account text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT lower(regexp_replace(btrim(account), '\s+', ' ', 'g'))
$$;

-- Concurrent batches touch shared vendor and account rows: inserts take them in key order, so two batches never wait on each other in a cycle.
CREATE FUNCTION mapping_usage_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO mapping_usage AS u (kind, key, label, vendor_external_id, bills, failed)
      SELECT 'vendor', lower(btrim(vendor_name)), min(btrim(vendor_name)), max(vendor_external_id), count(*), count(*) FILTER (WHERE status = 'failed')
        FROM new_rows GROUP BY 2 ORDER BY 2
      ON CONFLICT (kind, key) DO UPDATE SET bills = u.bills + EXCLUDED.bills, failed = u.failed + EXCLUDED.failed,
        vendor_external_id = coalesce(EXCLUDED.vendor_external_id, u.vendor_external_id);
    INSERT INTO mapping_usage AS u (kind, key, label, bills, failed)
      SELECT 'account', a.key, min(a.label), count(*), count(*) FILTER (WHERE r.status = 'failed')
        FROM new_rows r CROSS JOIN LATERAL (SELECT DISTINCT ON (account_key(l->>'account')) account_key(l->>'account') AS key, btrim(l->>'account') AS label
                                              FROM jsonb_array_elements(r.bill->'lines') l WHERE l->>'account' IS NOT NULL) a
       GROUP BY 2 ORDER BY 2
      ON CONFLICT (kind, key) DO UPDATE SET bills = u.bills + EXCLUDED.bills, failed = u.failed + EXCLUDED.failed;
  ELSE
    WITH change AS (
      SELECT n.vendor_name, n.bill, CASE WHEN n.status = 'failed' THEN 1 ELSE -1 END AS d
        FROM new_rows n JOIN old_rows o USING (id) WHERE (n.status = 'failed') <> (o.status = 'failed')
    ), keys AS (
      SELECT 'vendor' AS kind, lower(btrim(vendor_name)) AS key, d FROM change
      UNION ALL
      SELECT 'account', a.key, c.d FROM change c CROSS JOIN LATERAL (SELECT DISTINCT account_key(l->>'account') AS key FROM jsonb_array_elements(c.bill->'lines') l WHERE l->>'account' IS NOT NULL) a
    )
    UPDATE mapping_usage u SET failed = greatest(0, u.failed + s.d)
      FROM (SELECT kind, key, sum(d) AS d FROM keys GROUP BY 1, 2) s WHERE u.kind = s.kind AND u.key = s.key AND s.d <> 0;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER transactions_mapping_usage_insert AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mapping_usage_rollup();
CREATE TRIGGER transactions_mapping_usage_update AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mapping_usage_rollup();

INSERT INTO mapping_usage (kind, key, label, vendor_external_id, bills, failed)
  SELECT 'vendor', lower(btrim(vendor_name)), min(btrim(vendor_name)), max(vendor_external_id), count(*), count(*) FILTER (WHERE status = 'failed')
    FROM transactions GROUP BY 2;
INSERT INTO mapping_usage (kind, key, label, bills, failed)
  SELECT 'account', a.key, min(a.label), count(*), count(*) FILTER (WHERE r.status = 'failed')
    FROM transactions r CROSS JOIN LATERAL (SELECT DISTINCT ON (account_key(l->>'account')) account_key(l->>'account') AS key, btrim(l->>'account') AS label
                                             FROM jsonb_array_elements(r.bill->'lines') l WHERE l->>'account' IS NOT NULL) a
   GROUP BY 2;

-- Search: prefixes of bill number, vendor name and NetSuite id, case-insensitive, and exact Zoho bill ids.
-- C collation so that one index serves both the prefix LIKE and the ordered keyset page.
CREATE INDEX transactions_bill_number_search_idx ON transactions ((lower(bill_number) COLLATE "C"), id);
CREATE INDEX transactions_vendor_search_idx ON transactions ((lower(vendor_name) COLLATE "C"), id);
CREATE INDEX transactions_external_id_search_idx ON transactions ((lower(external_id) COLLATE "C"), id);
CREATE INDEX transactions_zoho_bill_id_idx ON transactions (zoho_bill_id, id) WHERE zoho_bill_id IS NOT NULL;

DO $$
BEGIN
  GRANT SELECT ON operator_actions TO billbridge_reporting;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'operator_actions not granted to billbridge_reporting (no such role): run db/reporting-role.sql as a superuser';
END $$;
