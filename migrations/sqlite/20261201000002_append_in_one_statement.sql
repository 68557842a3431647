-- An append numbers its rows after the board's last_seq and inserts them in one
-- statement; this trigger moves last_seq (and updated_at) along with every row, so the
-- two cannot drift apart and an append needs no BEGIN, UPDATE and COMMIT round trips.
CREATE TRIGGER board_updates_advance_seq AFTER INSERT ON board_updates
BEGIN
    UPDATE boards SET last_seq = NEW.seq, updated_at = NEW.created_at
    WHERE id = NEW.board_id AND last_seq < NEW.seq;
END;
