//! Board documents as content: decoding stored state, JSON export/import, SVG rendering and
//! restoring an old version onto a live document, sans I/O.
//!
//! Owns the board document schema below and its import limits. Used by the REST API
//! (export, import, versions) and by the room task (restore). Knows nothing of tokio, actix,
//! sockets or SQL, and holds no document of its own: only the room task calls [`restore()`]
//! on its live `Doc`, then persists and broadcasts the update it returns.
//!
//! # Board document schema (version 1)
//! Four root `Y.Map`s:
//! - `meta`: `schema` (integer ≥ 1), `title` (string), `background` (colour), `grid` (grid
//!   spacing in board units, a number ≥ 0; 0 = no grid).
//! - `elements`: element id → `Y.Map` with these keys:
//!   - `type`: one of [`ELEMENT_TYPES`]; `index`: fractional-index string (printable ASCII,
//!     no spaces) giving the z-order, ties broken by element id.
//!   - `geom`: ONE atomic value `{x, y, w, h, rot}`: `(x, y)` is the top-left corner of the
//!     box, `|w|` × `|h|` its size. `rot` is in degrees, clockwise, around the centre of the
//!     box. Lines and arrows use `geom` too, and only their `w`/`h` may be negative: the
//!     signs give the direction, so a line starts at `(x - min(w, 0), y - min(h, 0))` and
//!     ends `(w, h)` from there (a line drawn leftwards from (100, 0) to (0, 50) is
//!     `{x: 0, y: 0, w: -100, h: 50}`).
//!   - style, each its own key: `stroke`, `fill` (colours), `width` (≥ 0), `dash` (`solid`,
//!     `dashed` or `dotted`), `opacity` (0 to 1); `fontSize` (> 0) for text and stickies.
//!   - pens only: `points`, a flat `[x0, y0, x1, y1, ...]` array relative to `(geom.x,
//!     geom.y)` (moving a pen rewrites only `geom`), and optionally `pressure`, a separate
//!     array with one value in 0..=1 per point (not interleaved).
//!   - text and stickies only: `text` as a `Y.Text` (a plain string in JSON).
//!   - images only: `assetId`. Any element: `createdBy` (user id), `locked` (bool).
//! - `bindings`: binding id → atomic `{from, to, anchor}`: the end `anchor` (`start` or
//!   `end`) of the line or arrow `from` is attached to the element `to`. Bindings may dangle
//!   (a concurrent delete leaves them so); readers ignore those.
//! - `assets`: asset id → atomic `{mime, w, h, hash}`; the bytes live in the store.
//!
//! Colours are `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, a CSS colour name (letters only,
//! such as `none` or `transparent`), or `rgb(...)`, `rgba(...)`, `hsl(...)`, `hsla(...)`.

pub mod json;
pub mod restore;
pub mod svg;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use json::{export_json, import_json, write_json};
pub use restore::restore;
pub use svg::render_svg;

use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, ReadTxn, Transact, Update};

/// The largest JSON import accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;
/// The most elements a board import may hold.
pub const MAX_ELEMENTS: usize = 100_000;
/// The most bindings a board import may hold.
pub const MAX_BINDINGS: usize = 100_000;
/// The most assets a board import may hold.
pub const MAX_ASSETS: usize = 10_000;
/// The most points (x, y pairs) one pen stroke may hold.
pub const MAX_POINTS: usize = 50_000;
/// The most characters the `text` of one element may hold.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// The most characters any other string (title, colour, user id) may hold.
pub const MAX_STRING_CHARS: usize = 1_000;
/// The most characters an element, binding or asset id (and an `index`) may hold.
pub const MAX_ID_CHARS: usize = 200;
/// The deepest nesting of arrays and objects an import may have (a valid board needs 4).
pub const MAX_DEPTH: usize = 8;
/// The element types a board may hold.
pub const ELEMENT_TYPES: [&str; 8] = [
    "rect", "ellipse", "line", "arrow", "pen", "text", "sticky", "image",
];

/// Why a board document could not be read or imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The bytes are not a valid yrs update in the v1 encoding.
    #[error("not a valid document update: {0}")]
    Decode(String),
    /// A JSON import that is not JSON or breaks the schema; the message names the path.
    #[error("invalid board: {0}")]
    Invalid(String),
    /// An input over one of the import limits.
    #[error("board too large: {0}")]
    TooLarge(String),
}

/// Builds a fresh `Doc` from a client's `update_v1` (a Yjs import): the update must pass
/// the pre-scan ([`crate::protocol::scan`]: nothing nested deeper than it allows, shared
/// types included) and take at most `max_memory` bytes decoded, as the scan estimates it.
pub fn doc_from_client_update(update_v1: &[u8], max_memory: u64) -> Result<Doc, DocumentError> {
    use crate::protocol::scan;
    let shape = scan::scan_update(update_v1).map_err(|e| DocumentError::Decode(e.to_string()))?;
    let memory = shape.memory(update_v1.len());
    if memory > max_memory {
        return Err(DocumentError::TooLarge(format!(
            "it would take about {memory} bytes of memory, at most {max_memory}"
        )));
    }
    scan::item_levels(
        update_v1,
        &scan::Levels::default(),
        scan::Strictness::Refuse,
    )
    .map_err(|e| DocumentError::Decode(e.to_string()))?;
    doc_from_update(update_v1)
}

/// Builds a fresh `Doc` holding the state in `update_v1` (a full state or any update) that
/// Easel encoded itself (a board's state, a stored version); a client's bytes go through
/// [`doc_from_client_update`].
///
/// Never panics: yrs's decoder and integration can panic on hostile input, so both run
/// under `catch_unwind` and a panic becomes [`DocumentError::Decode`].
pub fn doc_from_update(update_v1: &[u8]) -> Result<Doc, DocumentError> {
    let update = guarded(|| Update::decode_v1(update_v1).map_err(|e| e.to_string()))?;
    let doc = Doc::new();
    guarded(|| {
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| e.to_string())
    })?;
    Ok(doc)
}

/// The board's title (`meta.title`), if it has one.
pub fn title(doc: &Doc) -> Option<String> {
    let txn = doc.transact();
    match txn.get_map("meta")?.get(&txn, "title")? {
        yrs::Out::Any(yrs::Any::String(title)) => Some(title.to_string()),
        _ => None,
    }
}

/// How many elements the board holds.
pub fn shape_count(doc: &Doc) -> usize {
    let txn = doc.transact();
    txn.get_map("elements")
        .map_or(0, |elements| elements.len(&txn) as usize)
}

/// Runs a yrs decoding step, turning its errors and its panics into [`DocumentError::Decode`].
fn guarded<T>(step: impl FnOnce() -> Result<T, String>) -> Result<T, DocumentError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(DocumentError::Decode(e)),
        Err(_) => Err(DocumentError::Decode(
            "the decoder rejected the bytes".into(),
        )),
    }
}

/// Whether `s` is a colour in the syntax the schema allows (see the module docs).
pub(crate) fn is_colour(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return true;
    }
    ["rgb(", "rgba(", "hsl(", "hsla("].iter().any(|prefix| {
        s.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(')'))
            .is_some_and(|args| {
                !args.is_empty()
                    && args.len() <= 60
                    && args
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b" .,%/+-".contains(&b))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{MapPrelim, StateVector};

    fn board_with_shapes(n: usize) -> Doc {
        let doc = Doc::new();
        let elements = doc.get_or_insert_map("elements");
        let mut txn = doc.transact_mut();
        for i in 0..n {
            elements.insert(
                &mut txn,
                format!("s{i}"),
                MapPrelim::from([("type", "rect"), ("index", "a0")]),
            );
        }
        drop(txn);
        doc
    }

    #[test]
    fn doc_from_update_rebuilds_the_state() {
        let doc = board_with_shapes(3);
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let rebuilt = doc_from_update(&state).unwrap();
        assert_eq!(shape_count(&rebuilt), 3);
        assert_eq!(export_json(&rebuilt), export_json(&doc));
    }

    #[test]
    fn doc_from_update_rejects_garbage_without_panicking() {
        for bytes in [
            &b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"[..],
            b"\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\x0f\x00\x28",
            b"\x05",
            b"hello, world",
        ] {
            assert!(
                matches!(doc_from_update(bytes), Err(DocumentError::Decode(_))),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn doc_from_update_accepts_the_empty_update() {
        let empty = Doc::new()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        assert_eq!(shape_count(&doc_from_update(&empty).unwrap()), 0);
    }

    #[test]
    fn shape_count_of_a_board_without_elements_is_zero() {
        assert_eq!(shape_count(&Doc::new()), 0);
        assert_eq!(shape_count(&board_with_shapes(5)), 5);
    }

    #[test]
    fn colours_follow_the_schema() {
        for ok in [
            "#fff",
            "#ffff",
            "#a1b2c3",
            "#a1b2c3d4",
            "red",
            "transparent",
            "rgb(1, 2, 3)",
            "rgba(1,2,3,0.5)",
            "hsl(120deg 50% 50%)",
        ] {
            assert!(is_colour(ok), "{ok}");
        }
        for bad in [
            "",
            "#ff",
            "#gggggg",
            "red;",
            "url(#x)",
            "rgb()",
            "rgb(1,2,3",
            "\"><script>",
            "var(--x)",
        ] {
            assert!(!is_colour(bad), "{bad}");
        }
    }
}
