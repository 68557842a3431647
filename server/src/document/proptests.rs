//! Property tests of the document module: hostile imports never panic and are refused,
//! valid boards round-trip through import and export exactly, restore always converges.
//! Test-only; touches nothing outside the module.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map as JsonMap, Value, json};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Transact, Update};

use super::json::float_to_json;
use super::test_support::{import_doc, round_trip};
use super::{
    DocumentError, ELEMENT_TYPES, MAX_ELEMENTS, doc_from_update, export_json, import_json, restore,
};

/// Words of the schema, so random JSON reaches past the first checks.
const VOCABULARY: [&str; 24] = [
    "schema", "meta", "elements", "bindings", "assets", "type", "index", "geom", "x", "y", "w",
    "h", "rot", "points", "pressure", "text", "title", "stroke", "rect", "pen", "from", "to",
    "anchor", "mime",
];

/// The value as an export writes it: integral floats become integers.
fn normalised(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.as_i64().is_none() => n.as_f64().map_or(Value::Null, float_to_json),
        Value::Array(items) => Value::Array(items.iter().map(normalised).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalised(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(VOCABULARY.to_vec()).prop_map(str::to_owned),
        "[a-z]{0,6}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        Just(json!(1)),
        "\\PC{0,12}".prop_map(Value::String),
        arb_key().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..8).prop_map(Value::Array),
            btree_map(arb_key(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A finite number as an export writes it.
fn arb_number(range: std::ops::Range<f64>) -> impl Strategy<Value = Value> {
    let (lo, hi) = (range.start as i64, range.end as i64);
    prop_oneof![
        (lo..hi).prop_map(Value::from),
        range.prop_map(float_to_json),
    ]
}

fn arb_colour() -> impl Strategy<Value = Value> {
    prop::sample::select(vec!["#fff", "#a1b2c3", "red", "rgba(1, 2, 3, 0.5)", "none"])
        .prop_map(Value::from)
}

fn arb_id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,12}"
}

fn arb_kind_keys(kind: &'static str) -> BoxedStrategy<Vec<(&'static str, Value)>> {
    match kind {
        "pen" => (1..20usize)
            .prop_flat_map(|n| {
                (
                    vec(arb_number(-1e4..1e4), 2 * n),
                    option::of(vec(arb_number(0.0..1.0), n)),
                )
            })
            .prop_map(|(points, pressure)| {
                let mut keys = vec![("points", Value::Array(points))];
                keys.extend(pressure.map(|p| ("pressure", Value::Array(p))));
                keys
            })
            .boxed(),
        "text" | "sticky" => (option::of("\\PC{0,40}"), option::of(arb_number(1.0..200.0)))
            .prop_map(|(text, size)| {
                let mut keys: Vec<(&str, Value)> = Vec::new();
                keys.extend(text.map(|t| ("text", Value::String(t))));
                keys.extend(size.map(|s| ("fontSize", s)));
                keys
            })
            .boxed(),
        "image" => option::of(arb_id())
            .prop_map(|id| {
                id.map(|id| ("assetId", Value::String(id)))
                    .into_iter()
                    .collect()
            })
            .boxed(),
        _ => Just(Vec::new()).boxed(),
    }
}

fn arb_element() -> impl Strategy<Value = Value> {
    prop::sample::select(ELEMENT_TYPES.to_vec()).prop_flat_map(|kind| {
        let size = if matches!(kind, "line" | "arrow") {
            -1e4..1e4
        } else {
            0.0..1e4
        };
        let geom = (
            arb_number(-1e6..1e6),
            arb_number(-1e6..1e6),
            arb_number(size.clone()),
            arb_number(size),
            arb_number(-360.0..360.0),
        )
            .prop_map(|(x, y, w, h, rot)| json!({"x": x, "y": y, "w": w, "h": h, "rot": rot}));
        let style = (
            option::of(arb_colour()),
            option::of(arb_colour()),
            option::of(arb_number(0.0..50.0)),
            option::of(prop::sample::select(vec!["solid", "dashed", "dotted"])),
            option::of(arb_number(0.0..1.0)),
            option::of("\\PC{1,20}"),
            option::of(any::<bool>()),
        );
        ("[0-9A-Za-z]{1,6}", geom, style, arb_kind_keys(kind)).prop_map(
            move |(index, geom, style, extra)| {
                let (stroke, fill, width, dash, opacity, created_by, locked) = style;
                let mut el = JsonMap::new();
                el.insert("type".into(), kind.into());
                el.insert("index".into(), index.into());
                el.insert("geom".into(), geom);
                let optional = [
                    ("stroke", stroke),
                    ("fill", fill),
                    ("width", width),
                    ("dash", dash.map(Value::from)),
                    ("opacity", opacity),
                    ("createdBy", created_by.map(Value::from)),
                    ("locked", locked.map(Value::from)),
                ];
                for (key, value) in optional {
                    if let Some(value) = value {
                        el.insert(key.into(), value);
                    }
                }
                for (key, value) in extra {
                    el.insert(key.into(), value);
                }
                Value::Object(el)
            },
        )
    })
}

fn arb_board() -> impl Strategy<Value = Value> {
    let meta = (
        option::of("\\PC{0,30}"),
        option::of(arb_colour()),
        option::of(arb_number(0.0..100.0)),
    )
        .prop_map(|(title, background, grid)| {
            let mut meta = JsonMap::new();
            meta.insert("schema".into(), json!(1));
            title.map(|t| meta.insert("title".into(), t.into()));
            background.map(|b| meta.insert("background".into(), b));
            grid.map(|g| meta.insert("grid".into(), g));
            Value::Object(meta)
        });
    let binding = (
        arb_id(),
        arb_id(),
        prop::sample::select(vec!["start", "end"]),
    )
        .prop_map(|(from, to, anchor)| json!({"from": from, "to": to, "anchor": anchor}));
    let asset = (
        prop::sample::select(vec!["image/png", "image/svg+xml", "image/jpeg"]),
        arb_number(0.0..5000.0),
        arb_number(0.0..5000.0),
        "[a-f0-9]{8,64}",
    )
        .prop_map(|(mime, w, h, hash)| json!({"mime": mime, "w": w, "h": h, "hash": hash}));
    (
        meta,
        btree_map(arb_id(), arb_element(), 0..12),
        btree_map(arb_id(), binding, 0..4),
        btree_map(arb_id(), asset, 0..4),
    )
        .prop_map(|(meta, elements, bindings, assets)| {
            let object = |m: std::collections::BTreeMap<String, Value>| {
                Value::Object(m.into_iter().collect())
            };
            json!({
                "schema": 1,
                "meta": meta,
                "elements": object(elements),
                "bindings": object(bindings),
                "assets": object(assets),
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_are_refused_without_panicking(bytes in vec(any::<u8>(), 0..2048)) {
        prop_assert!(import_json(&bytes).is_err());
        if let Ok(doc) = doc_from_update(&bytes) {
            export_json(&doc);
        }
    }

    #[test]
    fn arbitrary_json_is_refused_or_round_trips(value in arb_json()) {
        match import_json(value.to_string().as_bytes()) {
            Err(_) => {}
            Ok(update) => {
                let doc = doc_from_update(&update).unwrap();
                prop_assert_eq!(export_json(&doc), normalised(&json!({
                    "schema": 1, "meta": value.get("meta").cloned().unwrap_or(json!({})),
                    "elements": value.get("elements").cloned().unwrap_or(json!({})),
                    "bindings": value.get("bindings").cloned().unwrap_or(json!({})),
                    "assets": value.get("assets").cloned().unwrap_or(json!({})),
                })));
            }
        }
    }

    #[test]
    fn arbitrary_json_in_an_element_is_refused_or_round_trips(
        board in arb_board(),
        key in arb_key(),
        junk in arb_json(),
    ) {
        let mut board = board;
        let Some((_, element)) = board["elements"].as_object_mut().and_then(|m| m.iter_mut().next()) else {
            return Ok(());
        };
        element[key.as_str()] = junk;
        if import_json(board.to_string().as_bytes()).is_ok() {
            prop_assert_eq!(round_trip(&board), normalised(&board));
        }
    }

    #[test]
    fn deep_nesting_is_refused(depth in 9usize..20_000, object in any::<bool>()) {
        let (open, close) = if object { (r#"{"a":"#, "}") } else { ("[", "]") };
        let input = format!(r#"{{"schema":1,"meta":{{"title":{}1{}}}}}"#, open.repeat(depth), close.repeat(depth));
        prop_assert!(matches!(import_json(input.as_bytes()), Err(DocumentError::TooLarge(_))));
    }

    #[test]
    fn valid_boards_round_trip_exactly(board in arb_board()) {
        prop_assert_eq!(round_trip(&board), board.clone());
        let doc = import_doc(&board);
        let again = import_json(export_json(&doc).to_string().as_bytes()).unwrap();
        prop_assert_eq!(export_json(&doc_from_update(&again).unwrap()), export_json(&doc));
    }

    #[test]
    fn restore_converges_between_any_two_boards(from in arb_board(), to in arb_board()) {
        let live = import_doc(&from);
        let state = live.transact().encode_state_as_update_v1(&StateVector::default());
        let replica = doc_from_update(&state).unwrap();
        let target = import_doc(&to);
        let update = restore(&live, &target);
        prop_assert_eq!(export_json(&live), export_json(&target));
        if !update.is_empty() {
            replica.transact_mut().apply_update(Update::decode_v1(&update).unwrap()).unwrap();
        }
        prop_assert_eq!(export_json(&replica), export_json(&target));
        prop_assert!(restore(&live, &target).is_empty());
    }
}

#[test]
fn ten_thousand_nested_arrays_are_refused() {
    let input = format!(
        r#"{{"schema":1,"elements":{{"a":{}{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(
        import_json(input.as_bytes()),
        Err(DocumentError::TooLarge(_))
    ));
}

#[test]
fn too_many_elements_are_refused() {
    let element = r#"{"type":"rect","index":"a","geom":{"x":0,"y":0,"w":1,"h":1,"rot":0}}"#;
    let elements: Vec<String> = (0..=MAX_ELEMENTS)
        .map(|i| format!(r#""e{i}":{element}"#))
        .collect();
    let input = format!(r#"{{"schema":1,"elements":{{{}}}}}"#, elements.join(","));
    assert!(matches!(
        import_json(input.as_bytes()),
        Err(DocumentError::TooLarge(m)) if m.starts_with("elements: 100001 entries")
    ));
}
