-- Several Zoho organizations (one per NetSuite subsidiary or group of them). A bill's organization is fixed
-- when the bill is accepted: a later change of ZOHO_ORGANIZATIONS does not move a bill. Bills accepted before
-- this column existed belong to the organization that took every bill then; the service fills them in at
-- start (src/runtime.ts), since that organization comes from its configuration.
ALTER TABLE transactions ADD COLUMN organization_id text;
CREATE INDEX transactions_organization_status_idx ON transactions (organization_id, status);

-- Retry pacing reads each organization's failure streak on its own: one organization's outage does not slow
-- another's retries, and another's deliveries do not hide it.
ALTER TABLE attempts ADD COLUMN organization_id text;
CREATE INDEX attempts_organization_delivered_idx ON attempts (organization_id, id) WHERE outcome IN ('delivered', 'adopted');
CREATE INDEX attempts_organization_retry_idx ON attempts (organization_id, id) WHERE outcome = 'retry';

-- The access token is one per OAuth grant (client, data centre and Zoho user), shared by every organization
-- that user reaches: the row's key names the grant, not an organization.
ALTER TABLE oauth_tokens RENAME COLUMN organization_id TO grant_key;
DELETE FROM oauth_tokens; -- keyed by organization until now: each grant refreshes once under its new key
