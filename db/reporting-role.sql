-- For databases where billbridge's migrating role may not create roles: run once as a superuser,
-- in the billbridge database, after the migrations.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'billbridge_reporting') THEN
    CREATE ROLE billbridge_reporting NOLOGIN;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO billbridge_reporting;
GRANT SELECT ON failed_transactions, failure_reasons_daily, delivery_daily, queue_health, operator_actions TO billbridge_reporting;
GRANT SELECT ON zoho_organization, zoho_taxes, zoho_tags, zoho_tag_options, tax_map, tag_map TO billbridge_reporting;
GRANT SELECT ON reconciliation_differences TO billbridge_reporting;
-- Give people the role: CREATE ROLE analyst LOGIN PASSWORD '...' IN ROLE billbridge_reporting;
