-- Easel's initial schema (Postgres). Timestamps are milliseconds since the Unix epoch.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT,
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE boards (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    owner       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    archived_at BIGINT,
    -- The sequence number of the last update appended to this board's log. Appenders
    -- bump it under the row lock, which keeps numbers gap-free and in commit order.
    last_seq    BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);
CREATE INDEX boards_by_update ON boards (updated_at DESC, id DESC);

CREATE TABLE board_members (
    board_id   UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (board_id, user_id)
);
CREATE INDEX board_members_by_user ON board_members (user_id);

-- The durable log of accepted document updates (yrs v1 encoding), folded into
-- board_snapshots by compaction.
CREATE TABLE board_updates (
    board_id   UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL CHECK (seq > 0),
    data       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (board_id, seq)
);

-- The latest compacted state of each board (a yrs v1 update), covering the log up to seq.
CREATE TABLE board_snapshots (
    board_id   UUID PRIMARY KEY REFERENCES boards (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL CHECK (seq >= 0),
    state      BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- Named versions: a board's state saved under a label.
CREATE TABLE board_versions (
    id         UUID PRIMARY KEY,
    board_id   UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    label      TEXT NOT NULL CHECK (char_length(label) BETWEEN 1 AND 200),
    seq        BIGINT NOT NULL,
    state      BYTEA NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX board_versions_by_board ON board_versions (board_id, created_at DESC);
