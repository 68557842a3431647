//! A room's document: the `yrs::Doc` and what the room must know about it.
//!
//! Owns the Doc, its encoded size and estimated memory (the limits a client update must
//! stay within), how deep every item sits (so no update nests shared types deeper than
//! the pre-scan allows), and the cached answer to fresh joiners ([`FreshJoin`]). Applies
//! client updates (refusing those past a limit), the server's own changes (restores), and
//! rows other processes saved (never refused: they were checked where they arrived). Only
//! the room's task holds it. Knows nothing of members, the log or presence.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use super::Kick;
use super::fresh::{FreshJoin, encode_step2};
use super::queued::{Meter, counted};
use super::snapshot::{self, Encoded};
use crate::protocol::{self, DocUpdate, scan};
use crate::store::{Snapshot, StoredDoc};

/// A v1 update that changes nothing: the state of an empty document.
const EMPTY_UPDATE: &[u8] = &[0, 0];

/// A live board's document.
pub(super) struct BoardDoc {
    doc: Doc,
    /// Its size in the wire's encoding, as of the last compaction plus the updates since.
    bytes: u64,
    /// What the document took in memory at its last compaction (or load), as estimated by
    /// the update pre-scan; the compaction task replaces it with its own estimate.
    memory_base: Arc<AtomicU64>,
    /// What the updates applied since added to it.
    memory_since: u64,
    levels: scan::Levels,
    /// What answers an empty state vector, while it stays cheaper than re-encoding.
    fresh: Option<FreshJoin>,
}

impl BoardDoc {
    /// The stored document: the snapshot, then the log after it. The answer to fresh
    /// joiners starts as the snapshot plus the log's updates (each frame counted on
    /// `queued`), while they fit a connection queue of `queue` frames.
    pub(super) fn load(stored: &StoredDoc, queued: &Meter, queue: usize) -> Result<Self, String> {
        let rebuilt = snapshot::rebuild_with_base(stored)?;
        let base_v1 = rebuilt.base_v1.as_deref().unwrap_or(EMPTY_UPDATE);
        let base = protocol::encode_sync_step2(base_v1);
        let mut fresh = Some(FreshJoin::new(Bytes::from(base), Vec::new()));
        for u in &stored.updates {
            let Some(cache) = fresh.take() else {
                break;
            };
            let frame = counted(Bytes::from(protocol::encode_update(&u.data)), queued);
            fresh = cache.extended(frame, queue);
        }
        let logged = || stored.updates.iter().map(|u| u.data.as_slice());
        let memory = scan::memory_of(base_v1) + logged().map(scan::memory_of).sum::<u64>();
        let mut levels = scan::Levels::default();
        for bytes in rebuilt.base_v1.as_deref().into_iter().chain(logged()) {
            // Bytes stored before the pre-scan existed may not pass it: they count as
            // nothing known, which only makes the board stricter.
            if let Ok(placed) = scan::item_levels(bytes, &levels, scan::Strictness::Record) {
                levels.record(&placed);
            }
        }
        Ok(Self {
            doc: rebuilt.doc,
            // As after a compaction: the whole state in the wire's encoding.
            bytes: rebuilt.base_v1.as_ref().map_or(0, |b| b.len() as u64)
                + logged().map(|u| u.len() as u64).sum::<u64>(),
            memory_base: Arc::new(AtomicU64::new(memory)),
            memory_since: 0,
            levels,
            fresh,
        })
    }

    /// Its size in the wire's encoding (one copy of it is what a joiner's sync takes).
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// What the document takes in memory, as the pre-scan estimates it.
    fn memory(&self) -> u64 {
        self.memory_base
            .load(Ordering::Relaxed)
            .saturating_add(self.memory_since)
    }

    /// Applies a client's update unless it would grow the document past `max_bytes` (or
    /// the memory that allows), or nest shared types too deep; its bytes, to save.
    pub(super) fn accept(&mut self, update: DocUpdate, max_bytes: u64) -> Result<Vec<u8>, Kick> {
        let len = update.raw.len() as u64;
        let memory = update.shape.memory(update.raw.len());
        if self.bytes + len > max_bytes || self.memory() + memory > scan::memory_cap(max_bytes) {
            return Err(Kick::DocumentTooLarge);
        }
        let placed = scan::item_levels(&update.raw, &self.levels, scan::Strictness::Refuse)
            .map_err(|e| Kick::Invalid(e.to_string()))?;
        self.memory_since += memory;
        self.levels.record(&placed);
        if let Err(e) = self.doc.transact_mut().apply_update(update.update) {
            // It may have changed part of the Doc, which no saved update describes.
            self.fresh = None;
            return Err(Kick::Invalid(format!("update does not apply: {e}")));
        }
        self.bytes += len;
        Ok(update.raw)
    }

    /// Makes the content equal to `target`'s as one change; its bytes (empty when nothing
    /// changed), to save. Never refused: it brings back a state the board already had.
    pub(super) fn restore(&mut self, target: &Doc) -> Vec<u8> {
        let update = crate::document::restore(&self.doc, target);
        if !update.is_empty() {
            self.record(&update);
            self.bytes += update.len() as u64;
        }
        update
    }

    /// Applies an update another process saved to the board's log.
    pub(super) fn apply_saved(&mut self, update: &[u8]) -> Result<(), String> {
        self.record(update);
        let applied = Update::decode_v1(update)
            .map_err(|e| e.to_string())
            .and_then(|u| {
                self.doc
                    .transact_mut()
                    .apply_update(u)
                    .map_err(|e| e.to_string())
            });
        match applied {
            Ok(()) => {
                self.bytes += update.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.fresh = None;
                Err(e)
            }
        }
    }

    /// What the snapshot `s` holds that the document lacks, as one v1 update.
    pub(super) fn missing_from(&self, s: Snapshot) -> Result<Vec<u8>, String> {
        let seq = s.seq;
        let theirs = snapshot::rebuild(&StoredDoc {
            snapshot: Some(s),
            updates: Vec::new(),
            last_seq: seq,
        })?;
        let sv = self.doc.transact().state_vector();
        Ok(theirs.transact().encode_diff_v1(&sv))
    }

    /// Counts an update applied without the client checks on the memory estimate and the
    /// depth index.
    fn record(&mut self, update: &[u8]) {
        self.memory_since += scan::memory_of(update);
        if let Ok(placed) = scan::item_levels(update, &self.levels, scan::Strictness::Record) {
            self.levels.record(&placed);
        }
    }

    /// A saved update's frame goes to fresh joiners too, while the cache stays worth it.
    pub(super) fn cache(&mut self, frame: &Bytes, queue: usize) {
        self.fresh = self
            .fresh
            .take()
            .and_then(|f| f.extended(frame.clone(), queue));
    }

    /// The frames that bring a client at `sv` up to the document: updates, then a sync
    /// step 2. An empty `sv` is answered from the cache (encoded once when missing); any
    /// other is encoded now, counted on `queued`.
    pub(super) fn step2(&mut self, sv: &StateVector, queued: &Meter) -> (Vec<Bytes>, Bytes) {
        if sv.is_empty() {
            let doc = &self.doc;
            let fresh = self.fresh.get_or_insert_with(|| {
                let (unintegrated, step2) = encode_step2(doc, sv);
                FreshJoin::new(step2, unintegrated)
            });
            return (fresh.tail.clone(), fresh.base.clone());
        }
        let (unintegrated, step2) = encode_step2(&self.doc, sv);
        let unintegrated = unintegrated.into_iter().map(|f| counted(f, queued));
        (unintegrated.collect(), counted(step2, queued))
    }

    /// Its state vector (a joiner's sync step 1).
    pub(super) fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// The whole document as one v1 update.
    pub(super) fn state_v1(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// The state for a snapshot, or `None` while it holds updates that cannot be
    /// integrated yet (their dependencies have not arrived: the log keeps those, so the
    /// board is not compacted until they integrate).
    pub(super) fn encoded(&self) -> Option<Encoded> {
        let txn = self.doc.transact();
        (!txn.has_missing_updates()).then(|| Encoded::new(&txn))
    }

    /// The state for a snapshot about to replace the log: the size and memory count from
    /// it from now on (the memory estimate is refined by whoever checks the snapshot,
    /// through the handle returned).
    pub(super) fn compacting(&mut self) -> Option<(Encoded, Arc<AtomicU64>)> {
        let encoded = self.encoded()?;
        self.bytes = encoded.v1_len() as u64;
        // Until the snapshot's own estimate is in, the running one stands.
        self.memory_base.store(self.memory(), Ordering::Relaxed);
        self.memory_since = 0;
        Some((encoded, self.memory_base.clone()))
    }
}
