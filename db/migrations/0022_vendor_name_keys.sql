-- A vendor_map row now says how it was made (`source`), so a `name:` key is trusted only when the name
-- resolved to exactly one active Zoho vendor, was created by billbridge, or was mapped by an operator; and
-- each bill records the Zoho vendor it went to.
--
-- source: 'auto_unique_name' (the lookup found exactly one active vendor with the name),
--         'auto_email'       (several had the name; the NetSuite vendor's email chose one: kept on its id: key only),
--         'created'          (billbridge created the vendor: no vendor had the name),
--         'operator'         (`map vendor`, CLI or dashboard),
--         NULL               (an id: key found by a lookup before this migration: valid for its own id only).
ALTER TABLE vendor_map
  ADD COLUMN source text CHECK (source IN ('auto_unique_name', 'auto_email', 'created', 'operator')),
  ADD COLUMN zoho_vendor_name text;

UPDATE vendor_map SET source = origin WHERE origin IN ('created', 'operator');

-- A `name:` row made by a lookup before now may come from an email tie-break between namesakes, and every
-- NetSuite vendor of that name then took its contact. Such rows are a cache (the next bill of that name looks
-- the vendor up again), so all of them go; each is written to the audit trail, with the evidence when the
-- map itself shows the name is shared: an id: row of the same NetSuite name on another contact.
WITH doubtful AS (
  SELECT n.organization_id, n.vendor_key, n.zoho_vendor_id, n.vendor_name,
         (SELECT array_agg(DISTINCT i.zoho_vendor_id ORDER BY i.zoho_vendor_id) FROM vendor_map i
           WHERE i.organization_id = n.organization_id AND i.vendor_key LIKE 'id:%'
             AND 'name:' || lower(btrim(i.vendor_name)) = n.vendor_key) AS id_contacts
    FROM vendor_map n
   WHERE n.vendor_key LIKE 'name:%' AND n.origin = 'lookup'
), removed AS (
  DELETE FROM vendor_map m USING doubtful d
   WHERE m.organization_id = d.organization_id AND m.vendor_key = d.vendor_key
  RETURNING d.*
)
INSERT INTO operator_audit (actor, action, subject, detail)
SELECT 'migration:0022', 'vendor_key_removed', r.vendor_key,
       jsonb_build_object(
         'organization_id', r.organization_id,
         'zoho_vendor_id', r.zoho_vendor_id,
         'vendor_name', r.vendor_name,
         'reason', CASE WHEN r.id_contacts IS NOT NULL AND (cardinality(r.id_contacts) > 1 OR r.id_contacts[1] <> r.zoho_vendor_id)
                        THEN 'shared' ELSE 'unverified' END,
         'id_key_contacts', to_jsonb(coalesce(r.id_contacts, '{}')),
         'note', 'a name key found by a lookup before billbridge told a unique match from an email tie-break; the next bill of this name looks it up again. Bills delivered through it: see docs/operations.md, "Bills booked through a shared vendor name"')
  FROM removed r;

-- The Zoho vendor each bill went to, set when its vendor is resolved (NULL for bills delivered before now).
ALTER TABLE transactions
  ADD COLUMN zoho_vendor_id text,
  ADD COLUMN zoho_vendor_name text;
