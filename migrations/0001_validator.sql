-- kiln validator schema v1: every decision of every window is a row, written in one
-- transaction per window, so any weight vector can be recomputed from the database plus the
-- artifacts.

-- One row: who this database belongs to and how far it got.
CREATE TABLE validator_state (
    id                 SMALLINT PRIMARY KEY CHECK (id = 1),
    netuid             INTEGER NOT NULL,
    hotkey             TEXT NOT NULL,
    hparams_hash       BYTEA NOT NULL,
    model_hash         BYTEA NOT NULL,
    last_manifest      BYTEA,
    last_scored_window BIGINT,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE windows (
    win          BIGINT PRIMARY KEY,
    start_block     BIGINT NOT NULL,
    deadline        BIGINT NOT NULL,
    seed_block      BIGINT NOT NULL,
    random_seed     BYTEA NOT NULL,
    base_model_hash BYTEA NOT NULL,
    evaluated       INTEGER NOT NULL,
    duration_ms     BIGINT NOT NULL,
    scored_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What each miner committed (or did not) and what fetching it gave.
CREATE TABLE submissions (
    win       BIGINT NOT NULL REFERENCES windows (win),
    uid          INTEGER NOT NULL,
    hotkey       TEXT NOT NULL,
    digest       BYTEA,
    byte_len     BIGINT,
    commit_block BIGINT,
    locator      TEXT,
    outcome      TEXT NOT NULL,
    detail       TEXT,
    PRIMARY KEY (win, uid)
);

CREATE TABLE evaluations (
    win           BIGINT NOT NULL REFERENCES windows (win),
    uid              INTEGER NOT NULL,
    loss_rand_before DOUBLE PRECISION NOT NULL,
    loss_rand_after  DOUBLE PRECISION NOT NULL,
    loss_own_before  DOUBLE PRECISION NOT NULL,
    loss_own_after   DOUBLE PRECISION NOT NULL,
    loss_score       DOUBLE PRECISION NOT NULL,
    indicator        SMALLINT NOT NULL,
    behind           INTEGER,
    own_rows         INTEGER NOT NULL,
    random_rows      INTEGER NOT NULL,
    eval_lr          DOUBLE PRECISION NOT NULL,
    device           TEXT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    PRIMARY KEY (win, uid)
);

-- Standing after the window.
CREATE TABLE scores (
    win      BIGINT NOT NULL REFERENCES windows (win),
    uid         INTEGER NOT NULL,
    hotkey      TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    mu          DOUBLE PRECISION NOT NULL,
    sigma       DOUBLE PRECISION NOT NULL,
    bma         DOUBLE PRECISION NOT NULL,
    sync        DOUBLE PRECISION NOT NULL,
    misses      INTEGER NOT NULL,
    final_score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (win, uid)
);
CREATE INDEX scores_uid_window ON scores (uid, win DESC);

CREATE TABLE penalties (
    id     BIGSERIAL PRIMARY KEY,
    win BIGINT NOT NULL REFERENCES windows (win),
    uid    INTEGER NOT NULL,
    reason TEXT NOT NULL,
    factor DOUBLE PRECISION NOT NULL
);
CREATE INDEX penalties_window ON penalties (win, uid);

-- A weight vector is recorded as pending before it is sent, so a restart never sends it twice.
CREATE TABLE weight_submissions (
    win      BIGINT PRIMARY KEY REFERENCES windows (win),
    uids        INTEGER[] NOT NULL,
    weights     DOUBLE PRECISION[] NOT NULL,
    version_key BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'included', 'failed', 'skipped')),
    block       BIGINT,
    tx_hash     BYTEA,
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE manifests (
    win            BIGINT PRIMARY KEY,
    digest            BYTEA NOT NULL UNIQUE,
    base_model_hash   BYTEA NOT NULL,
    result_model_hash BYTEA NOT NULL,
    prev_manifest     BYTEA NOT NULL,
    peers             INTEGER[] NOT NULL,
    bytes             BYTEA NOT NULL,
    commit_block      BIGINT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE checkpoints (
    win     BIGINT PRIMARY KEY,
    model_hash BYTEA NOT NULL,
    path       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
