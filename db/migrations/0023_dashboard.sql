-- Bills failed now, by their last error code: what "failures by reason" on the overview counts. Kept in the
-- same statement as the change, like status_counts, so a bill retried and delivered (or resolved) leaves it
-- and a bill that failed several times counts once.
CREATE TABLE failed_by_code (
  code text PRIMARY KEY,
  n    bigint NOT NULL DEFAULT 0
);
INSERT INTO failed_by_code (code, n) SELECT coalesce(last_error_code, 'UNKNOWN'), count(*) FROM transactions WHERE status = 'failed' GROUP BY 1;

-- Net change per code, applied one code at a time in code order (as 0005 does for statuses): concurrent
-- statements lock the rows in the same order, and a statement that touches no failed bill locks none.
CREATE FUNCTION failed_by_code_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR d IN SELECT coalesce(last_error_code, 'UNKNOWN') AS code, count(*) AS c FROM new_rows WHERE status = 'failed' GROUP BY 1 ORDER BY 1 LOOP
      INSERT INTO failed_by_code AS f (code, n) VALUES (d.code, d.c) ON CONFLICT (code) DO UPDATE SET n = f.n + EXCLUDED.n;
    END LOOP;
  ELSIF TG_OP = 'DELETE' THEN
    FOR d IN SELECT coalesce(last_error_code, 'UNKNOWN') AS code, count(*) AS c FROM old_rows WHERE status = 'failed' GROUP BY 1 ORDER BY 1 LOOP
      UPDATE failed_by_code SET n = n - d.c WHERE code = d.code;
    END LOOP;
  ELSE
    FOR d IN SELECT code, sum(c) AS c FROM (
               SELECT coalesce(last_error_code, 'UNKNOWN') AS code, -1 AS c FROM old_rows WHERE status = 'failed'
               UNION ALL SELECT coalesce(last_error_code, 'UNKNOWN'), 1 FROM new_rows WHERE status = 'failed') x
              GROUP BY code HAVING sum(c) <> 0 ORDER BY code LOOP
      INSERT INTO failed_by_code AS f (code, n) VALUES (d.code, d.c) ON CONFLICT (code) DO UPDATE SET n = f.n + EXCLUDED.n;
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
-- Triggers of one event fire in name order: these come after transactions_rollup_*, so a statement that
-- changes a bill's failed-ness already holds status_counts' 'failed' row when it takes these rows, and
-- two transactions cannot each hold one of them while waiting for the other.
CREATE TRIGGER transactions_rollup_insert_failed_by_code AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION failed_by_code_rollup();
CREATE TRIGGER transactions_rollup_update_failed_by_code AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION failed_by_code_rollup();
CREATE TRIGGER transactions_rollup_delete_failed_by_code AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION failed_by_code_rollup();

-- Rejected items are found by the search box too: by bill number, NetSuite id or vendor name (start of it, any
-- case), as bills are. Items rejected before this migration have no bill number or vendor name stored.
ALTER TABLE rejected_items ADD COLUMN bill_number text, ADD COLUMN vendor_name text;
CREATE INDEX rejected_items_bill_number_search_idx ON rejected_items ((lower(bill_number) COLLATE "C"));
CREATE INDEX rejected_items_vendor_search_idx ON rejected_items ((lower(vendor_name) COLLATE "C"));
-- A rejected item's NetSuite id may be of any length (that can be why it was rejected): index its start only.
CREATE INDEX rejected_items_external_id_search_idx ON rejected_items ((lower(left(external_id, 200)) COLLATE "C"));
