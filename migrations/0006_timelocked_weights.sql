-- Commit-reveal v4: on a subnet with timelocked commit-reveal, a window's weights are committed
-- encrypted to a drand round, and the chain itself opens and applies them in the reveal epoch.
-- A row goes pending -> committed (reveal_round, commit_epoch, commit_hash, commit_block, and
-- the predicted reveal block in reveal_at) -> included (block: the block the chain applied the
-- weights at) or expired (the chain dropped the commit unrevealed; error says why).
ALTER TABLE weight_submissions DROP CONSTRAINT weight_submissions_status_check;
ALTER TABLE weight_submissions ADD CONSTRAINT weight_submissions_status_check
    CHECK (status IN ('pending', 'committed', 'included', 'failed', 'skipped', 'expired'));
ALTER TABLE weight_submissions
    ADD COLUMN reveal_round BIGINT,
    ADD COLUMN commit_epoch BIGINT,
    ADD COLUMN commit_hash  BYTEA;
