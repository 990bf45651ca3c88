-- Real Zoho's data rules (docs/zoho.md): vendors found, created or chosen by an operator, with their
-- currency; the chart of accounts and the currencies cached per organization; a 401 refreshes the token
-- once per token; Zoho's concurrency answer (code 1070) narrows the organization's in-flight requests
-- for a while.

ALTER TABLE oauth_tokens
  ADD COLUMN invalidated_by_401 boolean NOT NULL DEFAULT false,
  ADD COLUMN issued_after_401 boolean NOT NULL DEFAULT false;

ALTER TABLE vendor_map
  ADD COLUMN origin text NOT NULL DEFAULT 'lookup' CHECK (origin IN ('lookup', 'created', 'operator')),
  ADD COLUMN currency_code text,
  ADD COLUMN vendor_name text;

ALTER TABLE rate_limits
  ADD COLUMN concurrency_cap integer,
  ADD COLUMN concurrency_cap_until timestamptz NOT NULL DEFAULT '-infinity',
  ADD COLUMN daily_alerted_on date;

CREATE TABLE zoho_accounts (
  organization_id text NOT NULL,
  account_id      text NOT NULL,
  account_name    text NOT NULL,
  account_code    text,
  account_type    text,
  is_active       boolean NOT NULL,
  PRIMARY KEY (organization_id, account_id)
);

CREATE TABLE zoho_currencies (
  organization_id text NOT NULL,
  currency_code   text NOT NULL,
  currency_id     text NOT NULL,
  is_base         boolean NOT NULL,
  PRIMARY KEY (organization_id, currency_code)
);

-- When each cached list was last read whole from Zoho.
CREATE TABLE zoho_reference_state (
  organization_id text NOT NULL,
  list            text NOT NULL CHECK (list IN ('accounts', 'currencies')),
  fetched_at      timestamptz NOT NULL,
  item_count      integer NOT NULL,
  PRIMARY KEY (organization_id, list)
);
