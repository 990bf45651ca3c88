-- Retry pacing reads the organization's failure streak from the attempts log: the failed attempts since the
-- last delivery. This index finds that last delivery at once, however many failures an outage has logged.
CREATE INDEX attempts_delivered_idx ON attempts (id) WHERE outcome IN ('delivered', 'adopted');
