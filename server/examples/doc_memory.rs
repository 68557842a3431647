//! How much memory yrs itself needs to hold a board: builds a `yrs::Doc` with N shapes
//! exactly like the load benchmark's (`bench/lib/proto.js` `makeShape`: one JSON value per
//! shape in the `shapes` map, 100 shapes per transaction) and prints the process's RSS
//! growth and the size of the board's v1 encoding (the wire's) and v2 encoding (its
//! snapshots'). `bench/run` prints it beside the board scenario's server RSS, which cannot
//! go below it. It also prints both encodings' sizes for the same number of shapes laid
//! out as the web client stores them (docs/architecture.md: one `Y.Map` per element, one key per
//! property), after a tenth of them were recoloured.
//!
//! Run: `cargo run --release -p easel --example doc_memory -- 50000`

use std::collections::HashMap;

use easel::rooms::snapshot::Encoded;
use easel::store::Encoding;
use yrs::{Any, Doc, Map, MapPrelim, Out, Transact};

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn object(fields: Vec<(&str, Any)>) -> Any {
    let map: HashMap<String, Any> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Any::from(map)
}

fn shape(i: u64) -> Any {
    let geom = object(vec![
        ("x", Any::from(100.0 + ((i * 37) % 1900) as f64 + 0.5)),
        ("y", Any::from(80.0 + ((i * 53) % 1100) as f64 + 0.25)),
        ("w", Any::from(160.0)),
        ("h", Any::from(90.0)),
        ("rot", Any::from(0.0)),
    ]);
    object(vec![
        (
            "type",
            Any::from(if i & 1 == 1 { "rect" } else { "ellipse" }),
        ),
        ("geom", geom),
        ("stroke", Any::from("#1e1e1e")),
        ("fill", Any::from("#a5d8ff")),
        ("strokeWidth", Any::from(2.0)),
        ("opacity", Any::from(1.0)),
        ("z", Any::from(i as f64)),
        ("t", Any::from(1_764_000_000_000.0)),
    ])
}

/// `n` elements in the board schema's layout, a tenth of them recoloured afterwards; the
/// sizes of its v1 and v2 encodings.
fn schema_board_sizes(n: u64) -> (usize, usize) {
    let doc = Doc::new();
    let elements = doc.get_or_insert_map("elements");
    for start in (0..n).step_by(100) {
        let mut txn = doc.transact_mut();
        for i in start..(start + 100).min(n) {
            let element = elements.insert(&mut txn, format!("shape-{i}"), MapPrelim::default());
            let kind = if i & 1 == 1 { "rect" } else { "ellipse" };
            element.insert(&mut txn, "type", kind);
            element.insert(&mut txn, "index", format!("a{i:06}"));
            let Any::Map(geom) = shape(i) else {
                unreachable!("a shape is a map")
            };
            element.insert(&mut txn, "geom", geom["geom"].clone());
            element.insert(&mut txn, "stroke", "#1e1e1e");
            element.insert(&mut txn, "fill", "#a5d8ff");
            element.insert(&mut txn, "width", 2.0);
            element.insert(&mut txn, "opacity", 1.0);
        }
    }
    for i in (0..n).step_by(10) {
        let mut txn = doc.transact_mut();
        if let Some(Out::YMap(element)) = elements.get(&txn, &format!("shape-{i}")) {
            element.insert(&mut txn, "fill", "#ffc9c9");
        }
    }
    stored_sizes(&doc)
}

/// The sizes of `doc`'s v1 encoding and of the v2 snapshot compaction stores for it.
fn stored_sizes(doc: &Doc) -> (usize, usize) {
    let encoded = Encoded::new(&doc.transact());
    let v1 = encoded.v1_len();
    let stored = encoded.for_store().expect("the board encodes");
    assert_eq!(stored.encoding, Encoding::V2, "{:?}", stored.v2_refused);
    (v1, stored.state.len())
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let before = rss_kb();
    let doc = Doc::new();
    let shapes = doc.get_or_insert_map("shapes");
    for start in (0..n).step_by(100) {
        let mut txn = doc.transact_mut();
        for i in start..(start + 100).min(n) {
            shapes.insert(&mut txn, format!("shape-{i}"), shape(i));
        }
    }
    let held = rss_kb().saturating_sub(before);
    let (v1, v2) = stored_sizes(&doc);
    let (schema_v1, schema_v2) = schema_board_sizes(n);
    println!(
        "{{\"shapes\":{n},\"docRssKb\":{held},\"v1Bytes\":{v1},\"v2Bytes\":{v2},\"schemaV1Bytes\":{schema_v1},\"schemaV2Bytes\":{schema_v2}}}"
    );
}
