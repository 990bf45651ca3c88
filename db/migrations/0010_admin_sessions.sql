-- Dashboard sessions live on the server: a fixed lifetime from login, and logout revokes them.
-- The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE admin_sessions (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash bytea NOT NULL UNIQUE,
  key_id     uuid NOT NULL REFERENCES api_keys (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX admin_sessions_key ON admin_sessions (key_id);

-- Secrets made once per install (random, never derived from configuration), shared by every container.
CREATE TABLE install_secrets (
  name       text PRIMARY KEY,
  value      bytea NOT NULL CHECK (length(value) >= 32),
  created_at timestamptz NOT NULL DEFAULT now()
);
