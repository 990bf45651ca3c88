-- A client batchId is remembered with what it was first sent with: the SHA-256 of the batch's canonical
-- content (src/ingest/fingerprint.ts) and the API key that sent it. The same body from the same key again
-- gets the first answer; another body, or the same id from another key, is refused (409 BATCH_ID_REUSED).
-- Batch ids stay global, so GET /v1/batches/{id} names one batch.
-- Batches stored before this migration have neither (NULL): a resend under their id keeps the old rule and
-- gets the first answer, whatever its body and key.
ALTER TABLE batches
  ADD COLUMN fingerprint text,
  -- Keys are revoked, never deleted: a key that sent batches keeps its row, so the id stays bound to it.
  ADD COLUMN api_key_id uuid REFERENCES api_keys (id);
