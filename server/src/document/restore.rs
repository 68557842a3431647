//! Restoring a board to another version as an ordinary CRDT change.
//!
//! Owns [`restore`]: the smallest set of map edits (in one transaction on the live
//! document) that makes the live board export like the target. It never replaces the
//! document, so clients keep their state and concurrent edits merge. The caller (the room
//! task, which alone mutates its `Doc`) persists and broadcasts the update it returns.
//! Roots outside the schema (`meta`, `elements`, `bindings`, `assets`) are left untouched.
//!
//! Per root map: keys absent from the target are removed, missing keys inserted, and keys
//! whose value differs (as JSON, the way [`export_json`] sees it) replaced. Elements present
//! on both sides are diffed key by key, so a concurrent edit to a key the restore did not
//! need to change survives. A differing `text` is edited in place (the common prefix and
//! suffix are kept, the middle deleted and re-inserted), so concurrent typing elsewhere in
//! the same text survives too; a text that holds embeds (which a plain string cannot
//! describe) is replaced by a fresh `Y.Text` instead. Inserted elements are `Y.Map`s whose
//! `text` is a `Y.Text`, all other values atomic, as in the schema.

use serde_json::{Map as JsonMap, Value};
use yrs::{
    Doc, GetString, In, Map, MapPrelim, MapRef, OffsetKind, Out, Text, TextPrelim, TextRef,
    Transact, TransactionMut, WriteTxn,
};

use super::export_json;
use super::json::{ROOTS, json_to_any, out_to_json};

/// The depth at which [`export_json`] converts the entries of a root map.
const ENTRY_DEPTH: usize = 2;

/// Makes `live` export exactly like `target`, in one transaction on `live`, touching as
/// little as possible (see the module docs). Returns the v1 update of that transaction, or
/// an empty `Vec` when `live` already matched (then nothing was written).
///
/// `target` is only read, and may even be `live` itself (which changes nothing). Neither
/// document may have a transaction open on the calling thread.
pub fn restore(live: &Doc, target: &Doc) -> Vec<u8> {
    let wanted = export_json(target);
    let offset_kind = live.offset_kind();
    let empty = JsonMap::new();
    let mut txn = live.transact_mut();
    let mut changed = false;
    for root in ROOTS {
        let map = txn.get_or_insert_map(root);
        let target = wanted
            .get(root)
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        changed |= if root == "elements" {
            sync_map(
                &mut txn,
                &map,
                target,
                |txn, current, wanted| match (current, wanted.as_object()) {
                    (Out::YMap(element), Some(wanted)) => {
                        sync_element(txn, element, wanted, offset_kind);
                        true
                    }
                    _ => false,
                },
                element_prelim,
            )
        } else {
            sync_map(
                &mut txn,
                &map,
                target,
                |_, _, _| false,
                |v| In::Any(json_to_any(v)),
            )
        };
    }
    if changed {
        txn.encode_update_v1()
    } else {
        Vec::new()
    }
}

/// Makes `map`'s entries equal `target`'s. An entry that differs is first offered to
/// `edit_in_place` (which returns whether it handled it), else replaced by `prelim(value)`.
/// Returns whether anything changed.
fn sync_map(
    txn: &mut TransactionMut,
    map: &MapRef,
    target: &JsonMap<String, Value>,
    edit_in_place: impl Fn(&mut TransactionMut, &Out, &Value) -> bool,
    prelim: impl Fn(&Value) -> In,
) -> bool {
    let mut changed = remove_stale(txn, map, target);
    for (key, wanted) in target {
        let current = map.get(txn, key);
        if let Some(current) = &current {
            if out_to_json(txn, current, ENTRY_DEPTH) == *wanted {
                continue;
            }
            if edit_in_place(txn, current, wanted) {
                changed = true;
                continue;
            }
        }
        map.insert(txn, key.as_str(), prelim(wanted));
        changed = true;
    }
    changed
}

/// Makes one element's keys equal `target`'s (the element already differs somewhere).
fn sync_element(
    txn: &mut TransactionMut,
    element: &MapRef,
    target: &JsonMap<String, Value>,
    offset_kind: OffsetKind,
) {
    remove_stale(txn, element, target);
    for (key, wanted) in target {
        let current = element.get(txn, key);
        if let Some(current) = &current {
            if out_to_json(txn, current, ENTRY_DEPTH + 1) == *wanted {
                continue;
            }
            if let (Out::YText(text), Value::String(wanted)) = (current, wanted)
                && key == "text"
                && edit_text(txn, text, wanted, offset_kind)
            {
                continue;
            }
        }
        element.insert(txn, key.as_str(), element_value_prelim(key, wanted));
    }
}

/// Removes the keys of `map` that `target` lacks; returns whether there were any.
fn remove_stale(txn: &mut TransactionMut, map: &MapRef, target: &JsonMap<String, Value>) -> bool {
    let stale: Vec<String> = map
        .keys(txn)
        .filter(|key| !target.contains_key(*key))
        .map(str::to_owned)
        .collect();
    for key in &stale {
        map.remove(txn, key);
    }
    !stale.is_empty()
}

/// A whole new element: a `Y.Map` if it is an object, else the value as it is.
fn element_prelim(value: &Value) -> In {
    match value {
        Value::Object(entries) => In::Map(
            entries
                .iter()
                .map(|(key, v)| (key.as_str(), element_value_prelim(key, v)))
                .collect::<MapPrelim>(),
        ),
        other => In::Any(json_to_any(other)),
    }
}

/// One value of an element: `text` strings become a `Y.Text`, the rest atomic values.
fn element_value_prelim(key: &str, value: &Value) -> In {
    match value {
        Value::String(s) if key == "text" => In::from(TextPrelim::new(s.as_str())),
        other => In::Any(json_to_any(other)),
    }
}

/// Edits `text` into `wanted` keeping the common prefix and suffix. Returns false (having
/// changed nothing) when the text holds content a string does not show, such as embeds.
fn edit_text(
    txn: &mut TransactionMut,
    text: &TextRef,
    wanted: &str,
    offset_kind: OffsetKind,
) -> bool {
    let measure = |s: &str| -> u32 {
        let n = match offset_kind {
            OffsetKind::Bytes => s.len(),
            OffsetKind::Utf16 => s.encode_utf16().count(),
        };
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let current = text.get_string(txn);
    if text.len(txn) != measure(&current) {
        return false;
    }
    let prefix: usize = current
        .chars()
        .zip(wanted.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let (current_rest, wanted_rest) = (&current[prefix..], &wanted[prefix..]);
    let suffix: usize = current_rest
        .chars()
        .rev()
        .zip(wanted_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let removed = &current_rest[..current_rest.len() - suffix];
    let inserted = &wanted_rest[..wanted_rest.len() - suffix];
    let at = measure(&current[..prefix]);
    if !removed.is_empty() {
        text.remove_range(txn, at, measure(removed));
    }
    if !inserted.is_empty() {
        text.insert(txn, at, inserted);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::test_support::{import_doc, sample_board};
    use crate::document::{doc_from_update, import_json};
    use serde_json::json;
    use yrs::updates::decoder::Decode;
    use yrs::{Options, ReadTxn, StateVector, Update};

    fn state(doc: &Doc) -> Vec<u8> {
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    fn apply(doc: &Doc, update: &[u8]) {
        doc.transact_mut()
            .apply_update(Update::decode_v1(update).unwrap())
            .unwrap();
    }

    /// A replica of `doc` (its own client id, the same content and history).
    fn replica(doc: &Doc) -> Doc {
        let copy = Doc::new();
        apply(&copy, &state(doc));
        copy
    }

    fn element(doc: &Doc, id: &str) -> MapRef {
        let txn = doc.transact();
        match txn.get_map("elements").unwrap().get(&txn, id) {
            Some(Out::YMap(map)) => map,
            other => panic!("{id} is not a Y.Map: {other:?}"),
        }
    }

    fn note_text(doc: &Doc) -> TextRef {
        let note = element(doc, "note");
        let txn = doc.transact();
        match note.get(&txn, "text") {
            Some(Out::YText(text)) => text,
            other => panic!("not a Y.Text: {other:?}"),
        }
    }

    /// The sample board, after a few edits by a client: a move, a recolour, a delete, an
    /// insert, a typed word and a new title.
    fn edited(doc: &Doc) {
        let elements = doc.get_or_insert_map("elements");
        let meta = doc.get_or_insert_map("meta");
        let (boxed, note) = (element(doc, "box"), note_text(doc));
        let mut txn = doc.transact_mut();
        boxed.insert(&mut txn, "stroke", "#00ff00");
        boxed.remove(&mut txn, "dash");
        boxed.insert(
            &mut txn,
            "geom",
            yrs::Any::from_json(r#"{"x":1,"y":2,"w":3,"h":4,"rot":5}"#).unwrap(),
        );
        note.insert(&mut txn, 9, " oat");
        elements.remove(&mut txn, "photo");
        elements.insert(&mut txn, "extra", MapPrelim::from([("type", "rect")]));
        elements.insert(&mut txn, "plain", "a test client's string");
        meta.insert(&mut txn, "title", "renamed");
    }

    #[test]
    fn restore_makes_the_live_board_export_like_the_target() {
        let target = import_doc(&sample_board());
        let live = replica(&target);
        edited(&live);
        assert_ne!(export_json(&live), export_json(&target));
        let update = restore(&live, &target);
        assert!(!update.is_empty());
        assert_eq!(export_json(&live), export_json(&target));
    }

    #[test]
    fn the_returned_update_brings_other_replicas_along() {
        let target = import_doc(&sample_board());
        let live = replica(&target);
        edited(&live);
        let other = replica(&live);
        let update = restore(&live, &target);
        apply(&other, &update);
        assert_eq!(export_json(&other), export_json(&target));
    }

    #[test]
    fn a_concurrent_edit_merges_and_both_replicas_converge() {
        let target = import_doc(&sample_board());
        let live = replica(&target);
        edited(&live);
        let client = replica(&live);
        let concurrent = {
            let (circle, note) = (element(&client, "circle"), note_text(&client));
            let elements = client.get_or_insert_map("elements");
            let mut txn = client.transact_mut();
            circle.insert(&mut txn, "stroke", "#123456");
            let end = note.len(&txn);
            note.insert(&mut txn, end, "!");
            elements.insert(&mut txn, "late", MapPrelim::from([("type", "ellipse")]));
            txn.encode_update_v1()
        };
        let restored = restore(&live, &target);
        apply(&live, &concurrent);
        apply(&client, &restored);
        let (a, b) = (export_json(&live), export_json(&client));
        assert_eq!(a, b);
        assert_eq!(a["elements"]["circle"]["stroke"], "#123456");
        assert_eq!(a["elements"]["note"]["text"], "remember the milk!");
        assert_eq!(a["elements"]["late"], json!({"type": "ellipse"}));
        assert_eq!(a["elements"]["box"], sample_board()["elements"]["box"]);
    }

    #[test]
    fn text_is_edited_in_place_so_concurrent_typing_survives() {
        let target = import_doc(&sample_board());
        let live = replica(&target);
        {
            let note = note_text(&live);
            let mut txn = live.transact_mut();
            note.remove_range(&mut txn, 0, 9);
            note.insert(&mut txn, 0, "forget");
        }
        let client = replica(&live);
        let typing = {
            let note = note_text(&client);
            let mut txn = client.transact_mut();
            let end = note.len(&txn);
            note.insert(&mut txn, end, " now");
            txn.encode_update_v1()
        };
        let restored = restore(&live, &target);
        apply(&live, &typing);
        apply(&client, &restored);
        assert_eq!(
            export_json(&live)["elements"]["note"]["text"],
            "remember the milk now"
        );
        assert_eq!(export_json(&live), export_json(&client));
    }

    #[test]
    fn untouched_elements_keep_their_shared_types() {
        let target = import_doc(&sample_board());
        let live = replica(&target);
        edited(&live);
        let (circle_before, note_before) = (element(&live, "circle"), note_text(&live));
        restore(&live, &target);
        assert_eq!(element(&live, "circle"), circle_before);
        assert_eq!(note_text(&live), note_before);
    }

    #[test]
    fn restoring_twice_changes_nothing_the_second_time() {
        let target = import_doc(&sample_board());
        let live = replica(&target);
        edited(&live);
        assert!(!restore(&live, &target).is_empty());
        let before = state(&live);
        assert!(restore(&live, &target).is_empty());
        assert_eq!(state(&live), before);
        assert!(restore(&live, &live).is_empty());
    }

    #[test]
    fn a_restore_can_be_undone_by_restoring_the_old_state() {
        let target = import_doc(&sample_board());
        let live = replica(&target);
        edited(&live);
        let old = doc_from_update(&state(&live)).unwrap();
        let old_json = export_json(&live);
        restore(&live, &target);
        assert!(!restore(&live, &old).is_empty());
        assert_eq!(export_json(&live), old_json);
    }

    #[test]
    fn restoring_an_empty_board_clears_every_root() {
        let live = import_doc(&sample_board());
        let empty = doc_from_update(&import_json(br#"{"schema":1}"#).unwrap()).unwrap();
        restore(&live, &empty);
        assert_eq!(export_json(&live), export_json(&Doc::new()));
    }

    #[test]
    fn text_offsets_follow_the_live_documents_offset_kind() {
        for offset_kind in [OffsetKind::Bytes, OffsetKind::Utf16] {
            let board = |text: &str| {
                let mut b = sample_board();
                b["elements"]["note"]["text"] = json!(text);
                b
            };
            let live = Doc::with_options(Options {
                offset_kind,
                ..Options::default()
            });
            apply(&live, &state(&import_doc(&board("a😀b é c"))));
            let before = note_text(&live);
            let target = import_doc(&board("a😀xb é 🎉c"));
            restore(&live, &target);
            assert_eq!(export_json(&live), export_json(&target));
            assert_eq!(note_text(&live), before, "edited in place");
        }
    }
}
