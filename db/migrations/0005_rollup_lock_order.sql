-- The status rollup was updated with two UPDATE ... FROM statements, old statuses then new ones, so a
-- queued→processing change and a processing→queued change could each hold one status row and wait for the
-- other (a deadlock seen with four worker processes). Same rollups, deterministic lock order.
CREATE OR REPLACE FUNCTION transactions_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d record;
BEGIN
  -- Net change per status, applied one status at a time in a fixed order: concurrent statements then lock
  -- the rollup rows in the same order and cannot deadlock, and a statement that changes no status (an
  -- attempt counted, a timestamp moved) locks none of them.
  IF TG_OP = 'INSERT' THEN
    FOR d IN SELECT status, count(*) AS c FROM new_rows GROUP BY status ORDER BY status LOOP
      UPDATE status_counts SET n = n + d.c WHERE status = d.status;
    END LOOP;
  ELSIF TG_OP = 'DELETE' THEN
    FOR d IN SELECT status, count(*) AS c FROM old_rows GROUP BY status ORDER BY status LOOP
      UPDATE status_counts SET n = n - d.c WHERE status = d.status;
    END LOOP;
  ELSE
    FOR d IN SELECT status, sum(c) AS c FROM (SELECT status, -1 AS c FROM old_rows UNION ALL SELECT status, 1 FROM new_rows) x
              GROUP BY status HAVING sum(c) <> 0 ORDER BY status LOOP
      UPDATE status_counts SET n = n + d.c WHERE status = d.status;
    END LOOP;
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

