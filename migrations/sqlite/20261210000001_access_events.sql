-- The change feed (SQLite): the same table as migrations/postgres. SQLite has no
-- notifications: servers poll it (EASEL_EVENT_POLL_MS). AUTOINCREMENT keeps ids growing
-- even after pruning empties the table, so a reader's last id stays meaningful; the
-- database's single write lock makes ids commit in order.
CREATE TABLE access_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    payload    TEXT NOT NULL
) STRICT;
CREATE INDEX access_events_by_age ON access_events (created_at);
