-- Snapshots name their update encoding: 'v2' (what compaction writes now; much smaller
-- on real boards) or 'v1' (every snapshot written before this migration, and the
-- fallback when a v2 encoding fails its check).
ALTER TABLE board_snapshots
    ADD COLUMN encoding TEXT NOT NULL DEFAULT 'v1' CHECK (encoding IN ('v1', 'v2'));
