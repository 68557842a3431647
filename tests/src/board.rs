//! Helpers that look inside board documents: a shape layer (`elements` map) and the
//! document rebuilt from what the store holds.

use std::collections::BTreeSet;

use easel::store::StoredDoc;
use yrs::{Doc, Map, Transact};

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

/// The document a store's snapshot and log add up to, read the way rooms read them.
pub fn rebuild(stored: &StoredDoc) -> Doc {
    easel::rooms::snapshot::rebuild(stored).expect("the stored board loads")
}
