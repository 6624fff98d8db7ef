-- Commit-reveal v2: on a subnet with commit-reveal on, a weight vector is committed (its hash on
-- chain), kept here with its salt, and revealed `RevealPeriodEpochs` epochs later.
ALTER TABLE weight_submissions DROP CONSTRAINT weight_submissions_status_check;
ALTER TABLE weight_submissions ADD CONSTRAINT weight_submissions_status_check
    CHECK (status IN ('pending', 'committed', 'included', 'failed', 'skipped'));
ALTER TABLE weight_submissions
    ADD COLUMN u16_values   INTEGER[],
    ADD COLUMN salt         INTEGER[],
    ADD COLUMN commit_block BIGINT,
    ADD COLUMN commit_tx    BYTEA,
    ADD COLUMN reveal_at    BIGINT;
