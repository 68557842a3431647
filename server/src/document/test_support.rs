//! Test fixtures shared by the document module's tests: a board using every part of the
//! schema, and the import → decode → export round trip. Test-only; touches nothing else.

use serde_json::{Value, json};
use yrs::Doc;

use super::{doc_from_update, export_json, import_json};

/// A valid board with one element of every type, a binding, an asset and meta.
pub(crate) fn sample_board() -> Value {
    json!({
        "schema": 1,
        "meta": {"schema": 1, "title": "Sprint <planning> & \"retro\"", "background": "#fafafa", "grid": 16},
        "elements": {
            "box": {"type": "rect", "index": "a0", "geom": {"x": 10, "y": 20, "w": 100, "h": 50, "rot": 0},
                    "stroke": "#1e1e1e", "fill": "rgba(255, 0, 0, 0.5)", "width": 2, "dash": "dashed",
                    "opacity": 0.75, "createdBy": "user-1", "locked": false},
            "circle": {"type": "ellipse", "index": "a1", "geom": {"x": 200, "y": 20, "w": 60, "h": 40, "rot": 30},
                       "fill": "lightblue"},
            "link": {"type": "line", "index": "a2", "geom": {"x": 0, "y": 0, "w": -40, "h": 25.5, "rot": 0},
                     "dash": "dotted"},
            "pointer": {"type": "arrow", "index": "a3", "geom": {"x": 110, "y": 45, "w": 90, "h": 0, "rot": 0},
                        "stroke": "#ff0000", "width": 3},
            "scribble": {"type": "pen", "index": "a4", "geom": {"x": 50, "y": 200, "w": 30, "h": 20, "rot": 0},
                         "points": [0, 0, 10, 5, 20, 20, 30, 10], "pressure": [0.5, 0.6, 0.7, 0.25]},
            "label": {"type": "text", "index": "a5", "geom": {"x": 10, "y": 300, "w": 200, "h": 40, "rot": -15},
                      "text": "first line\nsecond <line> & 'more'", "fontSize": 18},
            "note": {"type": "sticky", "index": "a6", "geom": {"x": 300, "y": 300, "w": 120, "h": 120, "rot": 0},
                     "text": "remember the milk", "fill": "#fff59d"},
            "photo": {"type": "image", "index": "a7", "geom": {"x": -100, "y": -50, "w": 64, "h": 48, "rot": 0},
                      "assetId": "img-1"}
        },
        "bindings": {"b1": {"from": "pointer", "to": "circle", "anchor": "end"}},
        "assets": {"img-1": {"mime": "image/png", "w": 640, "h": 480, "hash": "sha256:0a1b2c"}}
    })
}

/// The document a JSON board imports into.
pub(crate) fn import_doc(board: &Value) -> Doc {
    let update = import_json(board.to_string().as_bytes()).expect("the board is valid");
    doc_from_update(&update).expect("an import decodes")
}

/// Imports `board` and exports the result.
pub(crate) fn round_trip(board: &Value) -> Value {
    export_json(&import_doc(board))
}
