-- Images placed on boards (SQLite): the same table as migrations/postgres. The bytes live
-- here, keyed per board by their SHA-256 (lowercase hex). Deleting a board deletes its
-- assets. Timestamps are milliseconds since the Unix epoch; UUIDs are 16-byte blobs.
CREATE TABLE board_assets (
    board_id   BLOB NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    id         TEXT NOT NULL CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),
    mime       TEXT NOT NULL CHECK (mime IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    width      INTEGER NOT NULL CHECK (width > 0),
    height     INTEGER NOT NULL CHECK (height > 0),
    bytes      BLOB NOT NULL,
    size       INTEGER NOT NULL CHECK (size = length(bytes)),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (board_id, id)
) STRICT;
