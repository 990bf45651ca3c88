-- Rollups kept in the same transaction as the change, so dashboard counts never scan transactions.
CREATE TABLE status_counts (
  status text PRIMARY KEY,
  n      bigint NOT NULL DEFAULT 0
);
INSERT INTO status_counts (status) VALUES ('received'), ('queued'), ('processing'), ('delivered'), ('failed'), ('resolved');
INSERT INTO status_counts (status, n) SELECT status, count(*) FROM transactions GROUP BY status
  ON CONFLICT (status) DO UPDATE SET n = EXCLUDED.n;

CREATE TABLE delivery_hourly (
  hour timestamptz PRIMARY KEY,
  n    bigint NOT NULL DEFAULT 0
);
INSERT INTO delivery_hourly (hour, n) SELECT date_trunc('hour', delivered_at), count(*) FROM transactions
  WHERE status = 'delivered' AND delivered_at IS NOT NULL GROUP BY 1;

CREATE TABLE delivery_day (
  day date PRIMARY KEY,
  n   bigint NOT NULL DEFAULT 0
);
INSERT INTO delivery_day (day, n) SELECT (delivered_at AT TIME ZONE 'UTC')::date, count(*) FROM transactions
  WHERE status = 'delivered' AND delivered_at IS NOT NULL GROUP BY 1;

CREATE TABLE failure_daily (
  day  date NOT NULL,
  code text NOT NULL,
  n    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (day, code)
);
INSERT INTO failure_daily (day, code, n) SELECT updated_at::date, coalesce(last_error_code, 'UNKNOWN'), count(*) FROM transactions
  WHERE status = 'failed' GROUP BY 1, 2;

-- Statement-level: one rollup update per statement, however many rows it touched.
CREATE FUNCTION transactions_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE status_counts s SET n = s.n - d.c FROM (SELECT status, count(*) AS c FROM old_rows GROUP BY status) d WHERE s.status = d.status;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    UPDATE status_counts s SET n = s.n + d.c FROM (SELECT status, count(*) AS c FROM new_rows GROUP BY status) d WHERE s.status = d.status;
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- Rows normally arrive queued; imported or seeded rows may arrive delivered or failed.
    INSERT INTO delivery_hourly (hour, n)
      SELECT date_trunc('hour', delivered_at), count(*) FROM new_rows WHERE status = 'delivered' AND delivered_at IS NOT NULL GROUP BY 1
      ON CONFLICT (hour) DO UPDATE SET n = delivery_hourly.n + EXCLUDED.n;
    INSERT INTO delivery_day (day, n)
      SELECT (delivered_at AT TIME ZONE 'UTC')::date, count(*) FROM new_rows WHERE status = 'delivered' AND delivered_at IS NOT NULL GROUP BY 1
      ON CONFLICT (day) DO UPDATE SET n = delivery_day.n + EXCLUDED.n;
    INSERT INTO failure_daily (day, code, n)
      SELECT updated_at::date, coalesce(last_error_code, 'UNKNOWN'), count(*) FROM new_rows WHERE status = 'failed' GROUP BY 1, 2
      ON CONFLICT (day, code) DO UPDATE SET n = failure_daily.n + EXCLUDED.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO delivery_hourly (hour, n)
      SELECT date_trunc('hour', n.delivered_at), count(*) FROM new_rows n JOIN old_rows o USING (id)
       WHERE n.status = 'delivered' AND o.status <> 'delivered' AND n.delivered_at IS NOT NULL GROUP BY 1
      ON CONFLICT (hour) DO UPDATE SET n = delivery_hourly.n + EXCLUDED.n;
    INSERT INTO delivery_day (day, n)
      SELECT (n.delivered_at AT TIME ZONE 'UTC')::date, count(*) FROM new_rows n JOIN old_rows o USING (id)
       WHERE n.status = 'delivered' AND o.status <> 'delivered' AND n.delivered_at IS NOT NULL GROUP BY 1
      ON CONFLICT (day) DO UPDATE SET n = delivery_day.n + EXCLUDED.n;
    INSERT INTO failure_daily (day, code, n)
      SELECT n.updated_at::date, coalesce(n.last_error_code, 'UNKNOWN'), count(*) FROM new_rows n JOIN old_rows o USING (id)
       WHERE n.status = 'failed' AND o.status <> 'failed' GROUP BY 1, 2
      ON CONFLICT (day, code) DO UPDATE SET n = failure_daily.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER transactions_rollup_insert AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION transactions_rollup();
CREATE TRIGGER transactions_rollup_update AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION transactions_rollup();
CREATE TRIGGER transactions_rollup_delete AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION transactions_rollup();

-- The failed list: newest first with keyset pagination, filtered by vendor, error code or batch.
CREATE INDEX transactions_failed_idx ON transactions (created_at DESC, id DESC) WHERE status = 'failed';
CREATE INDEX transactions_failed_vendor_idx ON transactions (vendor_name, created_at DESC, id DESC) WHERE status = 'failed';
CREATE INDEX transactions_failed_code_idx ON transactions (last_error_code, created_at DESC, id DESC) WHERE status = 'failed';
CREATE INDEX transactions_failed_batch_idx ON transactions (batch_id, created_at DESC, id DESC) WHERE status = 'failed';
CREATE INDEX batches_created_id_idx ON batches (created_at DESC, id DESC);
CREATE INDEX batches_client_batch_id_lookup_idx ON batches (client_batch_id);

-- Views for SQL reporting (docs/sql-reporting.md).
CREATE VIEW failed_transactions AS
  SELECT id, batch_id, external_id, bill_number, vendor_name, amount, currency, attempts,
         last_error_code, last_error_message, created_at, updated_at
    FROM transactions WHERE status = 'failed';

CREATE VIEW failure_reasons_daily AS
  SELECT day, code, n AS failures FROM failure_daily;

CREATE VIEW delivery_daily AS
  SELECT day, n AS delivered FROM delivery_day;

CREATE VIEW queue_health AS
  SELECT (SELECT n FROM status_counts WHERE status = 'queued') AS queued,
         (SELECT n FROM status_counts WHERE status = 'processing') AS processing,
         (SELECT n FROM status_counts WHERE status = 'failed') AS failed,
         (SELECT min(created_at) FROM transactions WHERE status IN ('queued', 'processing')) AS oldest_pending_at,
         extract(epoch FROM now() - (SELECT min(created_at) FROM transactions WHERE status IN ('queued', 'processing')))::bigint AS oldest_pending_seconds;

-- A role that reads the views and nothing else; created only where the migrating role may create roles
-- (otherwise db/reporting-role.sql does it by hand).
DO $$
BEGIN
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'billbridge_reporting') THEN
      CREATE ROLE billbridge_reporting NOLOGIN;
    END IF;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created at the same moment by a migration of another database in the cluster
  END;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO billbridge_reporting', current_schema());
  GRANT SELECT ON failed_transactions, failure_reasons_daily, delivery_daily, queue_health TO billbridge_reporting;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'billbridge_reporting not created (no CREATEROLE): run db/reporting-role.sql as a superuser';
END $$;
