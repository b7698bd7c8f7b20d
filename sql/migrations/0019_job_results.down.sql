-- Back to 0018: no job results and no receipts on exchanges (both are dropped with their columns).
ALTER TABLE tuku.exchanges DROP COLUMN receipt;
ALTER TABLE tuku.jobs DROP COLUMN result;
