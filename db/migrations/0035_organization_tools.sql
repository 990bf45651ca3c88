-- The operator tools work per Zoho organization: the Mappings page lists what an organization's bills carry,
-- and reconciliation runs, budgets and records differences per organization.

-- Mapping usage per organization: accounts, vendors, tax codes and segment values seen on an organization's
-- bills, with how many of its bills carried them and how many of those are failed now. A bill not yet given an
-- organization counts under '' until it is (the service assigns earlier bills at start); its counts then move.
DROP TABLE mapping_usage;
CREATE TABLE mapping_usage (
  organization_id    text NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('account', 'vendor', 'tax', 'department', 'class', 'location')),
  key                text NOT NULL,
  label              text NOT NULL,
  vendor_external_id text,
  bills              bigint NOT NULL DEFAULT 0,
  failed             bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, kind, key)
);
CREATE INDEX mapping_usage_order_idx ON mapping_usage (organization_id, kind, failed DESC, key);

-- As in 0024, per organization; an update moves a bill's counts when its organization changes, and its failed
-- count when it becomes failed or stops being failed. Rows are taken in key order, so two statements never
-- wait on each other in a cycle.
CREATE OR REPLACE FUNCTION mapping_usage_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO mapping_usage AS u (organization_id, kind, key, label, vendor_external_id, bills, failed)
      SELECT coalesce(organization_id, ''), 'vendor', lower(btrim(vendor_name)), min(btrim(vendor_name)), max(vendor_external_id), count(*), count(*) FILTER (WHERE status = 'failed')
        FROM new_rows GROUP BY 1, 3 ORDER BY 1, 3
      ON CONFLICT (organization_id, kind, key) DO UPDATE SET bills = u.bills + EXCLUDED.bills, failed = u.failed + EXCLUDED.failed,
        vendor_external_id = coalesce(EXCLUDED.vendor_external_id, u.vendor_external_id);
    INSERT INTO mapping_usage AS u (organization_id, kind, key, label, bills, failed)
      SELECT coalesce(r.organization_id, ''), 'account', a.key, min(a.label), count(*), count(*) FILTER (WHERE r.status = 'failed')
        FROM new_rows r CROSS JOIN LATERAL (SELECT DISTINCT ON (account_key(l->>'account')) account_key(l->>'account') AS key, btrim(l->>'account') AS label
                                              FROM jsonb_array_elements(r.bill->'lines') l WHERE l->>'account' IS NOT NULL) a
       GROUP BY 1, 3 ORDER BY 1, 3
      ON CONFLICT (organization_id, kind, key) DO UPDATE SET bills = u.bills + EXCLUDED.bills, failed = u.failed + EXCLUDED.failed;
    INSERT INTO mapping_usage AS u (organization_id, kind, key, label, bills, failed)
      SELECT coalesce(r.organization_id, ''), a.kind, a.key, min(a.label), count(*), count(*) FILTER (WHERE r.status = 'failed')
        FROM new_rows r CROSS JOIN LATERAL bill_reference_keys(r.bill) a
       WHERE bill_has_references(r.bill)
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (organization_id, kind, key) DO UPDATE SET bills = u.bills + EXCLUDED.bills, failed = u.failed + EXCLUDED.failed;
  ELSE
    WITH pairs AS (
      SELECT coalesce(o.organization_id, '') AS old_org, coalesce(n.organization_id, '') AS new_org, o.status = 'failed' AS was_failed, n.status = 'failed' AS is_failed,
             n.vendor_name, n.vendor_external_id, n.bill
        FROM new_rows n JOIN old_rows o USING (id)
       WHERE n.organization_id IS DISTINCT FROM o.organization_id OR (n.status = 'failed') <> (o.status = 'failed')
    ), change AS (
      -- A bill leaves its old organization's counts and joins the new one's; within one organization, only its failed count moves.
      SELECT old_org AS org, vendor_name, vendor_external_id, bill, -1 AS b, CASE WHEN was_failed THEN -1 ELSE 0 END AS f FROM pairs WHERE old_org <> new_org
      UNION ALL
      SELECT new_org, vendor_name, vendor_external_id, bill, 1, CASE WHEN is_failed THEN 1 ELSE 0 END FROM pairs WHERE old_org <> new_org
      UNION ALL
      SELECT new_org, vendor_name, vendor_external_id, bill, 0, CASE WHEN is_failed THEN 1 ELSE -1 END FROM pairs WHERE old_org = new_org
    ), keys AS (
      SELECT org, 'vendor' AS kind, lower(btrim(vendor_name)) AS key, btrim(vendor_name) AS label, vendor_external_id, b, f FROM change
      UNION ALL
      SELECT c.org, 'account', a.key, a.label, NULL, c.b, c.f FROM change c
        CROSS JOIN LATERAL (SELECT DISTINCT ON (account_key(l->>'account')) account_key(l->>'account') AS key, btrim(l->>'account') AS label
                              FROM jsonb_array_elements(c.bill->'lines') l WHERE l->>'account' IS NOT NULL) a
      UNION ALL
      SELECT c.org, a.kind, a.key, a.label, NULL, c.b, c.f FROM change c CROSS JOIN LATERAL bill_reference_keys(c.bill) a WHERE bill_has_references(c.bill)
    )
    INSERT INTO mapping_usage AS u (organization_id, kind, key, label, vendor_external_id, bills, failed)
      SELECT org, kind, key, min(label), max(vendor_external_id), sum(b), sum(f) FROM keys GROUP BY 1, 2, 3 HAVING sum(b) <> 0 OR sum(f) <> 0 ORDER BY 1, 2, 3
      ON CONFLICT (organization_id, kind, key) DO UPDATE SET bills = greatest(0, u.bills + EXCLUDED.bills), failed = greatest(0, u.failed + EXCLUDED.failed),
        vendor_external_id = coalesce(u.vendor_external_id, EXCLUDED.vendor_external_id);
  END IF;
  RETURN NULL;
END $$;

INSERT INTO mapping_usage (organization_id, kind, key, label, vendor_external_id, bills, failed)
  SELECT coalesce(organization_id, ''), 'vendor', lower(btrim(vendor_name)), min(btrim(vendor_name)), max(vendor_external_id), count(*), count(*) FILTER (WHERE status = 'failed')
    FROM transactions GROUP BY 1, 3;
INSERT INTO mapping_usage (organization_id, kind, key, label, bills, failed)
  SELECT coalesce(r.organization_id, ''), 'account', a.key, min(a.label), count(*), count(*) FILTER (WHERE r.status = 'failed')
    FROM transactions r CROSS JOIN LATERAL (SELECT DISTINCT ON (account_key(l->>'account')) account_key(l->>'account') AS key, btrim(l->>'account') AS label
                                             FROM jsonb_array_elements(r.bill->'lines') l WHERE l->>'account' IS NOT NULL) a
   GROUP BY 1, 3;
INSERT INTO mapping_usage (organization_id, kind, key, label, bills, failed)
  SELECT coalesce(r.organization_id, ''), a.kind, a.key, min(a.label), count(*), count(*) FILTER (WHERE r.status = 'failed')
    FROM transactions r CROSS JOIN LATERAL bill_reference_keys(r.bill) a
   WHERE bill_has_references(r.bill)
   GROUP BY 1, 2, 3;

-- Reconciliation per organization: a run reads one organization's bills, and its differences are that
-- organization's. Runs and differences recorded before are the default organization's: the service assigns
-- them at start, with the bills accepted before organizations (src/runtime.ts).
ALTER TABLE reconciliation_runs ADD COLUMN organization_id text;
ALTER TABLE reconciliation_findings ADD COLUMN organization_id text;
DROP INDEX reconciliation_runs_open_idx;
CREATE INDEX reconciliation_runs_open_idx ON reconciliation_runs (organization_id, id) WHERE state <> 'done';
CREATE INDEX reconciliation_runs_organization_idx ON reconciliation_runs (organization_id, id);
DROP INDEX reconciliation_findings_open_key;
CREATE UNIQUE INDEX reconciliation_findings_open_key ON reconciliation_findings (organization_id, kind, (COALESCE(transaction_id::text, zoho_bill_id))) WHERE resolved_at IS NULL;
DROP INDEX reconciliation_findings_settled_idx;
CREATE INDEX reconciliation_findings_settled_idx ON reconciliation_findings (organization_id, kind, (COALESCE(transaction_id::text, zoho_bill_id))) WHERE resolution IN ('accepted', 'reviewed');
CREATE INDEX reconciliation_runs_unassigned_idx ON reconciliation_runs (id) WHERE organization_id IS NULL;
CREATE INDEX reconciliation_findings_unassigned_idx ON reconciliation_findings (id) WHERE organization_id IS NULL;

-- The view gains the organization as its last column (the columns before it keep their order).
CREATE OR REPLACE VIEW reconciliation_differences AS
  SELECT external_id, transaction_id, zoho_bill_id, kind, billbridge_value, zoho_value, found_at, resolved_at, resolution, organization_id
    FROM reconciliation_findings;
