-- The subnet's neurons as the validator last read them (at a window's seed block): what the
-- API serves as the cached metagraph, with each miner's on-chain incentive.
CREATE TABLE neurons (
    uid              INTEGER PRIMARY KEY,
    hotkey           TEXT NOT NULL,
    coldkey          TEXT NOT NULL,
    stake            BIGINT NOT NULL,
    validator_permit BOOLEAN NOT NULL,
    active           BOOLEAN NOT NULL,
    last_update      BIGINT NOT NULL,
    incentive        DOUBLE PRECISION NOT NULL,
    dividends        DOUBLE PRECISION NOT NULL,
    consensus        DOUBLE PRECISION NOT NULL,
    emission         BIGINT NOT NULL,
    block            BIGINT NOT NULL
);
