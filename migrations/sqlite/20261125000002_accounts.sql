-- Share links, the audit log and revoked tokens (SQLite): the same tables as
-- migrations/postgres. Timestamps are milliseconds since the Unix epoch; UUIDs are 16-byte blobs.

CREATE TABLE share_links (
    id         BLOB PRIMARY KEY,
    board_id   BLOB NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_by TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) STRICT;
CREATE INDEX share_links_by_board ON share_links (board_id, created_at DESC);

ALTER TABLE board_members ADD COLUMN via_link BLOB REFERENCES share_links (id) ON DELETE SET NULL;
CREATE INDEX board_members_by_link ON board_members (via_link);

-- No foreign key on board_id: entries outlive the boards they mention. details is JSON text.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT,
    action   TEXT NOT NULL,
    board_id BLOB,
    target   TEXT,
    details  TEXT
) STRICT;
CREATE INDEX audit_log_by_board ON audit_log (board_id, id);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
