-- What operators see per Zoho organization (the overview, the backlog, /metrics, the failed list's filter),
-- read from a rollup row or an index range, never a scan of transactions or attempts.

-- Bills by organization and status, kept in the same statement as the change, like status_counts. Bills
-- stored before they had an organization count under '' until the service assigns them at start.
CREATE TABLE organization_status_counts (
  organization_id text NOT NULL,
  status          text NOT NULL,
  n               bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (organization_id, status)
);
INSERT INTO organization_status_counts (organization_id, status, n)
  SELECT coalesce(organization_id, ''), status, count(*) FROM transactions GROUP BY 1, 2;

-- Net change per (organization, status), one row at a time in key order (as 0005 does for statuses): concurrent
-- statements lock the rows in the same order, and a statement that changes no status locks none.
CREATE FUNCTION organization_status_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR d IN SELECT coalesce(organization_id, '') AS organization_id, status, count(*) AS c FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2 LOOP
      INSERT INTO organization_status_counts AS o (organization_id, status, n) VALUES (d.organization_id, d.status, d.c)
        ON CONFLICT (organization_id, status) DO UPDATE SET n = o.n + EXCLUDED.n;
    END LOOP;
  ELSIF TG_OP = 'DELETE' THEN
    FOR d IN SELECT coalesce(organization_id, '') AS organization_id, status, count(*) AS c FROM old_rows GROUP BY 1, 2 ORDER BY 1, 2 LOOP
      UPDATE organization_status_counts SET n = n - d.c WHERE organization_id = d.organization_id AND status = d.status;
    END LOOP;
  ELSE
    FOR d IN SELECT organization_id, status, sum(c) AS c FROM (
               SELECT coalesce(organization_id, '') AS organization_id, status, -1 AS c FROM old_rows
               UNION ALL SELECT coalesce(organization_id, ''), status, 1 FROM new_rows) x
              GROUP BY 1, 2 HAVING sum(c) <> 0 ORDER BY 1, 2 LOOP
      INSERT INTO organization_status_counts AS o (organization_id, status, n) VALUES (d.organization_id, d.status, d.c)
        ON CONFLICT (organization_id, status) DO UPDATE SET n = o.n + EXCLUDED.n;
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
-- Named to fire after transactions_rollup_* and *_failed_by_code (triggers of one event fire in name order):
-- a statement takes status_counts' rows, then failed_by_code's, then these, always in that order.
CREATE TRIGGER transactions_rollup_insert_organization_status AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION organization_status_rollup();
CREATE TRIGGER transactions_rollup_update_organization_status AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION organization_status_rollup();
CREATE TRIGGER transactions_rollup_delete_organization_status AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION organization_status_rollup();

-- The failed list filtered to one organization, newest first, keyset pages.
CREATE INDEX transactions_failed_organization_idx ON transactions (organization_id, created_at DESC, id DESC) WHERE status = 'failed';
-- The oldest bill waiting, per organization (the overview and billbridge_queue_oldest_seconds).
CREATE INDEX transactions_pending_organization_idx ON transactions (organization_id, created_at) WHERE status IN ('queued', 'processing');
-- An organization's pace: its bills delivered in a recent window, an index-only range scan as in 0033.
CREATE INDEX attempts_organization_delivered_finished_idx ON attempts (organization_id, finished_at) INCLUDE (started_at) WHERE outcome IN ('delivered', 'adopted');
