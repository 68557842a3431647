//! Helpers that look inside board documents: a shape layer (`elements` map) and the
//! document rebuilt from what the store holds.

use std::collections::BTreeSet;

use easel::store::StoredDoc;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, Transact, Update};

/// The keys of the board's `elements` map.
pub fn shape_keys(doc: &Doc) -> BTreeSet<String> {
    let elements = doc.get_or_insert_map("elements");
    let txn = doc.transact();
    elements.keys(&txn).map(str::to_owned).collect()
}

/// How many shapes the board holds.
pub fn shape_count(doc: &Doc) -> usize {
    let elements = doc.get_or_insert_map("elements");
    elements.len(&doc.transact()) as usize
}

/// The document a store's snapshot and log add up to (both in the v1 encoding rooms write).
pub fn rebuild(stored: &StoredDoc) -> Doc {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        if let Some(s) = &stored.snapshot {
            txn.apply_update(Update::decode_v1(&s.state).expect("snapshot decodes"))
                .expect("snapshot applies");
        }
        for u in &stored.updates {
            txn.apply_update(Update::decode_v1(&u.data).expect("update decodes"))
                .expect("update applies");
        }
    }
    doc
}
