-- Images placed on boards (Postgres). The document's `assets` map holds only
-- {mime, w, h, hash}; the bytes live here, keyed per board by their SHA-256 (lowercase
-- hex), so storing the same image twice keeps one row. Deleting a board deletes its
-- assets. Timestamps are milliseconds since the Unix epoch.
CREATE TABLE board_assets (
    board_id   UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    id         TEXT NOT NULL CHECK (id ~ '^[0-9a-f]{64}$'),
    mime       TEXT NOT NULL CHECK (mime IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    width      INTEGER NOT NULL CHECK (width > 0),
    height     INTEGER NOT NULL CHECK (height > 0),
    bytes      BYTEA NOT NULL,
    size       BIGINT NOT NULL CHECK (size = octet_length(bytes)),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (board_id, id)
);
