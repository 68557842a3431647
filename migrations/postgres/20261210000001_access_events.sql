-- The change feed (Postgres): every change to who may do what (a membership, a share
-- link, an account's disabled or admin flag, a revoked token, a deleted board) appends a
-- row here in the same transaction as the change, whichever process made it (a server,
-- another node, the `easel` command line). Servers read the rows after the last id they
-- applied and apply them to their live connections; rows older than an hour are pruned.
-- Writers take a transaction-level advisory lock before inserting, so ids commit in
-- order and a reader never skips a row that commits late. payload is small JSON.
CREATE TABLE access_events (
    id         BIGSERIAL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    payload    TEXT NOT NULL
);
CREATE INDEX access_events_by_age ON access_events (created_at);

-- Announces each row on the easel_events channel when its transaction commits; the
-- payload is the row's id. Listeners that were disconnected catch up from the table.
CREATE FUNCTION easel_announce_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('easel_events', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER access_events_announce AFTER INSERT ON access_events
    FOR EACH ROW EXECUTE FUNCTION easel_announce_event();
