-- Zoho OAuth access token per organization, shared by every process; the token is encrypted at rest.
CREATE TABLE oauth_tokens (
  organization_id  text PRIMARY KEY,
  access_token_enc bytea NOT NULL,
  api_domain       text,
  lifetime_seconds integer NOT NULL,
  expires_at       timestamptz NOT NULL,
  refreshed_at     timestamptz NOT NULL DEFAULT now(),
  refresh_count    bigint NOT NULL DEFAULT 1
);

-- One token bucket per organization, shared by every process and taken with one atomic call.
CREATE TABLE rate_limits (
  key            text PRIMARY KEY,
  tokens         double precision NOT NULL,
  capacity       double precision NOT NULL,
  refill_per_sec double precision NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  blocked_until  timestamptz NOT NULL DEFAULT '-infinity',
  day            date NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC')::date,
  day_count      integer NOT NULL DEFAULT 0,
  daily_limit    integer NOT NULL,
  rate_limited_count bigint NOT NULL DEFAULT 0
);

-- Takes one permit when the bucket has one, the organization is not blocked and the daily quota allows;
-- otherwise says how long to wait. The row lock serialises every caller on the database clock.
CREATE FUNCTION take_permit(p_key text, p_capacity double precision, p_refill double precision, p_daily integer)
RETURNS TABLE (granted boolean, wait_ms integer, tokens_left double precision, day_count integer)
LANGUAGE plpgsql AS $$
DECLARE
  r rate_limits%ROWTYPE;
  now_ts timestamptz := clock_timestamp();
  today date := (clock_timestamp() AT TIME ZONE 'UTC')::date;
  avail double precision;
BEGIN
  INSERT INTO rate_limits (key, tokens, capacity, refill_per_sec, daily_limit, updated_at)
  VALUES (p_key, p_capacity, p_capacity, p_refill, p_daily, now_ts)
  ON CONFLICT (key) DO UPDATE SET capacity = p_capacity, refill_per_sec = p_refill, daily_limit = p_daily
  RETURNING * INTO r;
  IF r.day <> today THEN
    r.day := today;
    r.day_count := 0;
  END IF;
  avail := LEAST(r.capacity, r.tokens + GREATEST(0, EXTRACT(EPOCH FROM (now_ts - r.updated_at))) * r.refill_per_sec);
  IF r.blocked_until > now_ts THEN
    UPDATE rate_limits SET tokens = 0, updated_at = now_ts, day = r.day, day_count = r.day_count WHERE key = p_key;
    RETURN QUERY SELECT false, CEIL(EXTRACT(EPOCH FROM (r.blocked_until - now_ts)) * 1000)::integer, 0::double precision, r.day_count;
  ELSIF r.day_count >= r.daily_limit THEN
    UPDATE rate_limits SET tokens = avail, updated_at = now_ts, day = r.day, day_count = r.day_count WHERE key = p_key;
    RETURN QUERY SELECT false, CEIL(EXTRACT(EPOCH FROM ((today + 1)::timestamp AT TIME ZONE 'UTC' - now_ts)) * 1000)::integer, avail, r.day_count;
  ELSIF avail >= 1 THEN
    UPDATE rate_limits SET tokens = avail - 1, updated_at = now_ts, day = r.day, day_count = r.day_count + 1 WHERE key = p_key;
    RETURN QUERY SELECT true, 0, avail - 1, r.day_count + 1;
  ELSE
    UPDATE rate_limits SET tokens = avail, updated_at = now_ts, day = r.day, day_count = r.day_count WHERE key = p_key;
    RETURN QUERY SELECT false, CEIL((1 - avail) / r.refill_per_sec * 1000)::integer, avail, r.day_count;
  END IF;
END $$;

-- Zoho vendor ids by NetSuite vendor id or name, and expense account ids by NetSuite account.
CREATE TABLE vendor_map (
  organization_id text NOT NULL,
  vendor_key      text NOT NULL,
  zoho_vendor_id  text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, vendor_key)
);

CREATE TABLE account_map (
  organization_id text NOT NULL,
  account         text NOT NULL,
  zoho_account_id text NOT NULL,
  origin          text NOT NULL DEFAULT 'operator' CHECK (origin IN ('operator', 'lookup')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, account)
);

-- When the last failure alert went out, so that every process together sends at most one a minute.
CREATE TABLE alert_state (
  id           integer PRIMARY KEY CHECK (id = 1),
  last_sent_at timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO alert_state (id) VALUES (1);
