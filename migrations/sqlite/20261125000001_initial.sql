-- Easel's initial schema (SQLite): the same tables as migrations/postgres.
-- Timestamps are milliseconds since the Unix epoch; UUIDs are 16-byte blobs.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT,
    admin         INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE boards (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    owner       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    archived_at INTEGER,
    last_seq    INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
) STRICT;
CREATE INDEX boards_by_update ON boards (updated_at DESC, id DESC);

CREATE TABLE board_members (
    board_id   BLOB NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (board_id, user_id)
) STRICT;
CREATE INDEX board_members_by_user ON board_members (user_id);

CREATE TABLE board_updates (
    board_id   BLOB NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq > 0),
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (board_id, seq)
) STRICT;

CREATE TABLE board_snapshots (
    board_id   BLOB PRIMARY KEY REFERENCES boards (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    state      BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE board_versions (
    id         BLOB PRIMARY KEY,
    board_id   BLOB NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    label      TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    seq        INTEGER NOT NULL,
    state      BLOB NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX board_versions_by_board ON board_versions (board_id, created_at DESC);
