-- Back to 0018: no job results and no receipts on exchanges (both are dropped with their columns), and no
-- default limit row for HMRC's key.
DELETE FROM tuku.rate_limits WHERE key = 'hmrc.api';
ALTER TABLE tuku.exchanges DROP COLUMN receipt;
ALTER TABLE tuku.jobs DROP COLUMN result;
