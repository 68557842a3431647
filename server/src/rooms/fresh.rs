//! What answers a joiner: the sync step 2 that brings a client up to the document.
//!
//! Owns the cached answer to a fresh client (empty state vector) — the whole document
//! encoded once ([`FreshJoin::base`]) plus the update frames saved since — and the encoding
//! of a step 2 for any state vector. Encoding a big board takes far longer than sending
//! it, joins come in bursts, and re-encoding after every edit would make the first joiner
//! after each edit pay it. A tail grown past the bounds here is dropped, and the next
//! joiner re-encodes. Touches the Doc only to read it; knows nothing of members or the log.

use bytes::Bytes;
use yrs::encoding::write::Write;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::protocol;

/// Most updates a fresh joiner is sent after the cached step 2 instead of a new encoding.
const FRESH_TAIL_MAX_UPDATES: usize = 256;

/// Tail bytes a fresh joiner may be sent beyond a quarter of the cached step 2.
const FRESH_TAIL_MIN_BYTES: usize = 256 << 10;

/// The answer to a client with an empty state vector: the whole document encoded once as
/// a sync step 2 (`base`), and the updates saved since, as the frames that fanned them out.
pub(super) struct FreshJoin {
    pub(super) base: Bytes,
    pub(super) tail: Vec<Bytes>,
    tail_bytes: usize,
}

impl FreshJoin {
    /// `base`, answered after the update frames in `tail`.
    pub(super) fn new(base: Bytes, tail: Vec<Bytes>) -> Self {
        Self {
            tail_bytes: tail.iter().map(Bytes::len).sum(),
            base,
            tail,
        }
    }

    /// Adds a saved update; `None` once the tail is no longer worth replaying: past
    /// [`FRESH_TAIL_MAX_UPDATES`] or a quarter of the connection queue (`queue`, so that a
    /// joiner is never closed as too slow by its own sync), or past a quarter of the base
    /// plus [`FRESH_TAIL_MIN_BYTES`]. The next joiner then re-encodes.
    pub(super) fn extended(mut self, frame: Bytes, queue: usize) -> Option<Self> {
        self.tail_bytes += frame.len();
        self.tail.push(frame);
        let fits = self.tail.len() <= FRESH_TAIL_MAX_UPDATES.min(queue / 4)
            && self.tail_bytes <= self.base.len() / 4 + FRESH_TAIL_MIN_BYTES;
        fits.then_some(self)
    }
}

/// The frames that bring a client at `sv` up to the document's state: update frames for
/// what the document holds but cannot integrate yet (its dependencies have not arrived),
/// then the sync step 2 of everything integrated. The unintegrated parts are not merged
/// into the step 2 as yrs's `encode_state_as_update_v1` does: that merge can lose content
/// or panic, and what it drops never reaches the client, since it was fanned out before.
pub(super) fn encode_step2(doc: &Doc, sv: &StateVector) -> (Vec<Bytes>, Bytes) {
    let txn = doc.transact();
    let mut unintegrated = Vec::new();
    if txn.has_missing_updates() {
        let store = txn.store();
        if let Some(pending) = store.pending_update() {
            let update = pending.update.encode_v1();
            unintegrated.push(Bytes::from(protocol::encode_update(&update)));
        }
        if let Some(deletes) = store.pending_ds() {
            // An update with no structs and only this delete set.
            let mut encoder = EncoderV1::new();
            encoder.write_var(0u32);
            deletes.encode(&mut encoder);
            unintegrated.push(Bytes::from(protocol::encode_update(&encoder.to_vec())));
        }
    }
    let step2 = protocol::encode_sync_step2(&txn.encode_diff_v1(sv));
    (unintegrated, Bytes::from(step2))
}
