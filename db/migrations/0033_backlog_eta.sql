-- When the backlog will be in Zoho (docs/operations.md): the pace and the requests a bill costs, both over
-- the last minutes, read without scanning attempts (millions of rows) or touching the permit's statement.

-- Bills delivered in a recent window: an index-only range scan over that window's attempts.
CREATE INDEX attempts_delivered_finished_idx ON attempts (finished_at) INCLUDE (started_at) WHERE outcome IN ('delivered', 'adopted');

-- Zoho requests per organization and minute, counted as the daily counter moves (take_permit updates
-- day_count on the bucket's row, whose lock it already holds); kept two days.
CREATE TABLE zoho_requests_minute (
  key    text NOT NULL,
  minute timestamptz NOT NULL,
  n      integer NOT NULL,
  PRIMARY KEY (key, minute)
);

CREATE FUNCTION zoho_requests_minute_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  spent integer := NEW.day_count - CASE WHEN NEW.day = OLD.day THEN OLD.day_count ELSE 0 END;
BEGIN
  IF spent > 0 THEN
    INSERT INTO zoho_requests_minute AS m (key, minute, n) VALUES (NEW.key, date_trunc('minute', clock_timestamp()), spent)
      ON CONFLICT (key, minute) DO UPDATE SET n = m.n + EXCLUDED.n;
  END IF;
  IF NEW.day <> OLD.day THEN
    DELETE FROM zoho_requests_minute WHERE key = NEW.key AND minute < clock_timestamp() - interval '2 days';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER rate_limits_requests_minute AFTER UPDATE OF day_count ON rate_limits
  FOR EACH ROW EXECUTE FUNCTION zoho_requests_minute_count();
