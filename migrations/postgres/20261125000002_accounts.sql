-- Share links, the audit log and revoked tokens (Postgres). Timestamps are milliseconds
-- since the Unix epoch.

-- A link that lets whoever holds its token join a board with its role. Only a hash of the
-- token is stored.
CREATE TABLE share_links (
    id         UUID PRIMARY KEY,
    board_id   UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX share_links_by_board ON share_links (board_id, created_at DESC);

-- The link that granted a membership, so deleting the link revokes what it gave. Cleared
-- when the role is set explicitly.
ALTER TABLE board_members ADD COLUMN via_link UUID REFERENCES share_links (id) ON DELETE SET NULL;
CREATE INDEX board_members_by_link ON board_members (via_link);

-- Who did what, when. No foreign key on board_id: entries outlive the boards they mention.
-- details is JSON text.
CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor    TEXT,
    action   TEXT NOT NULL,
    board_id UUID,
    target   TEXT,
    details  TEXT
);
CREATE INDEX audit_log_by_board ON audit_log (board_id, id);

-- Token ids (JWT `jti`) revoked before they expire (logout). Rows past expires_at are useless
-- and get purged.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);
