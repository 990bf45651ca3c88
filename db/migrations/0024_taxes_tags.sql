-- Taxes and reporting tags as reference data: the organization's profile (its edition), its taxes and tax
-- groups, its reporting tags and their options, each read from Zoho and cached per organization like the
-- chart of accounts; the NetSuite tax codes and segment values mapped to them; and their usage on bills.

-- GET /organizations/{id}, read once and re-read at most every few minutes (src/delivery/taxes.ts).
CREATE TABLE zoho_organization (
  organization_id text PRIMARY KEY,
  edition         text NOT NULL CHECK (edition IN ('us', 'uk', 'india', 'gcc', 'other')),
  country         text,
  country_code    text NOT NULL,
  state           text,
  currency_code   text NOT NULL,
  fetched_at      timestamptz NOT NULL
);

-- /settings/taxes (taxes and, as tax_type tax_group, the groups) and /settings/taxgroups.
CREATE TABLE zoho_taxes (
  organization_id text NOT NULL,
  tax_id          text NOT NULL,
  tax_name        text NOT NULL,
  percentage      numeric NOT NULL,
  is_group        boolean NOT NULL,
  -- standard | zero_rated | exempt | out_of_scope, from tax_specific_type
  kind            text NOT NULL,
  specific_type   text,
  is_active       boolean NOT NULL,
  PRIMARY KEY (organization_id, tax_id)
);

-- /reportingtags and /reportingtags/{id}/options; full_name is the option's path from its root ("Sales : EMEA").
CREATE TABLE zoho_tags (
  organization_id text NOT NULL,
  tag_id          text NOT NULL,
  tag_name        text NOT NULL,
  is_mandatory    boolean NOT NULL,
  is_active       boolean NOT NULL,
  PRIMARY KEY (organization_id, tag_id)
);
CREATE TABLE zoho_tag_options (
  organization_id text NOT NULL,
  tag_id          text NOT NULL,
  tag_option_id   text NOT NULL,
  option_name     text NOT NULL,
  full_name       text NOT NULL,
  is_active       boolean NOT NULL,
  PRIMARY KEY (organization_id, tag_id, tag_option_id)
);

ALTER TABLE zoho_reference_state DROP CONSTRAINT zoho_reference_state_list_check;
ALTER TABLE zoho_reference_state ADD CONSTRAINT zoho_reference_state_list_check CHECK (list IN ('accounts', 'currencies', 'taxes', 'tags', 'organization'));

-- A NetSuite tax code (account_key of its name) → a Zoho tax or tax group: an operator's, or an automatic match remembered.
CREATE TABLE tax_map (
  organization_id text NOT NULL,
  tax_code        text NOT NULL,
  zoho_tax_id     text NOT NULL,
  origin          text NOT NULL DEFAULT 'operator' CHECK (origin IN ('operator', 'auto')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, tax_code)
);

-- An operator's choice of a reporting tag option for a NetSuite segment value (account_key of the value).
CREATE TABLE tag_map (
  organization_id text NOT NULL,
  segment         text NOT NULL CHECK (segment IN ('department', 'class', 'location')),
  value           text NOT NULL,
  tag_id          text NOT NULL,
  tag_option_id   text NOT NULL,
  origin          text NOT NULL DEFAULT 'operator' CHECK (origin IN ('operator')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, segment, value)
);

-- The Mappings page's Taxes and Tags tabs: tax codes and segment values seen on bills, counted with the
-- accounts in the same statement-level trigger (one pass over each statement's lines).
ALTER TABLE mapping_usage DROP CONSTRAINT mapping_usage_kind_check;
ALTER TABLE mapping_usage ADD CONSTRAINT mapping_usage_kind_check CHECK (kind IN ('account', 'vendor', 'tax', 'department', 'class', 'location'));

-- The tax codes and segment values of one bill, once each; a line's segment falls back to the bill's.
CREATE FUNCTION bill_reference_keys(bill jsonb) RETURNS TABLE (kind text, key text, label text) LANGUAGE sql IMMUTABLE AS $$
  SELECT DISTINCT ON (k.kind, account_key(k.value)) k.kind, account_key(k.value), btrim(k.value)
    FROM jsonb_array_elements(bill->'lines') l
    CROSS JOIN LATERAL (VALUES ('tax', l->>'taxCode'),
                               ('department', coalesce(nullif(btrim(l->>'department'), ''), bill->>'department')),
                               ('class', coalesce(nullif(btrim(l->>'class'), ''), bill->>'class')),
                               ('location', coalesce(nullif(btrim(l->>'location'), ''), bill->>'location'))) k (kind, value)
   WHERE btrim(k.value) <> ''
   ORDER BY k.kind, account_key(k.value)
$$;

-- Whether a bill carries any of them: a bill without (most bills outside VAT countries) costs one jsonpath test.
CREATE FUNCTION bill_has_references(bill jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT bill ?| ARRAY['department', 'class', 'location']
      OR jsonb_path_exists(bill, '$.lines[*] ? (exists(@.taxCode) || exists(@.department) || exists(@.class) || exists(@.location))')
$$;

-- As in 0020 (vendors, accounts), plus tax codes and segment values.
CREATE OR REPLACE FUNCTION mapping_usage_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
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
    INSERT INTO mapping_usage AS u (kind, key, label, bills, failed)
      SELECT a.kind, a.key, min(a.label), count(*), count(*) FILTER (WHERE r.status = 'failed')
        FROM new_rows r CROSS JOIN LATERAL bill_reference_keys(r.bill) a
       WHERE bill_has_references(r.bill)
       GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (kind, key) DO UPDATE SET bills = u.bills + EXCLUDED.bills, failed = u.failed + EXCLUDED.failed;
  ELSE
    WITH change AS (
      SELECT n.vendor_name, n.bill, CASE WHEN n.status = 'failed' THEN 1 ELSE -1 END AS d
        FROM new_rows n JOIN old_rows o USING (id) WHERE (n.status = 'failed') <> (o.status = 'failed')
    ), keys AS (
      SELECT 'vendor' AS kind, lower(btrim(vendor_name)) AS key, d FROM change
      UNION ALL
      SELECT 'account', a.key, c.d FROM change c CROSS JOIN LATERAL (SELECT DISTINCT account_key(l->>'account') AS key FROM jsonb_array_elements(c.bill->'lines') l WHERE l->>'account' IS NOT NULL) a
      UNION ALL
      SELECT a.kind, a.key, c.d FROM change c CROSS JOIN LATERAL bill_reference_keys(c.bill) a WHERE bill_has_references(c.bill)
    )
    UPDATE mapping_usage u SET failed = greatest(0, u.failed + s.d)
      FROM (SELECT kind, key, sum(d) AS d FROM keys GROUP BY 1, 2) s WHERE u.kind = s.kind AND u.key = s.key AND s.d <> 0;
  END IF;
  RETURN NULL;
END $$;
-- No backfill: bills stored before this migration carry no tax code or segment (the API refused them).

DO $$
BEGIN
  GRANT SELECT ON zoho_organization, zoho_taxes, zoho_tags, zoho_tag_options, tax_map, tag_map TO billbridge_reporting;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
  RAISE NOTICE 'tax and tag tables not granted to billbridge_reporting (no such role): run db/reporting-role.sql as a superuser';
END $$;
