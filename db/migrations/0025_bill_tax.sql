-- Taxed bills. A transaction's amount is now the bill's gross total (Σ line amounts + Σ line taxAmounts,
-- NetSuite's total); rows stored before carry no tax, so their amount is already their gross total and
-- nothing is rewritten. Zoho rounds a bill's tax per line or per bill by an organization setting its API
-- does not return: the setting learned from Zoho's answers is kept here, so later bills predict it right.
CREATE TABLE tax_rounding (
  organization_id text PRIMARY KEY,
  mode            text NOT NULL CHECK (mode IN ('line', 'transaction')),
  -- the bill whose answer from Zoho showed the setting
  learned_from    uuid,
  learned_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN transactions.amount IS 'the bill''s gross total: the sum of its lines and their tax (NetSuite''s total)';
