//! The board as plain JSON: [`export_json`], [`write_json`] and the strict [`import_json`].
//!
//! Owns the conversion between yrs values and `serde_json` values (shared with `restore`
//! and `svg`), the export written straight to bytes without building a JSON tree (a tree
//! costs about ten times the text: the REST export uses [`write_json`]), and the
//! validation of imports against the schema in the module docs of [`crate::document`].
//! Never touches a live room's document: an import builds a fresh one.
//!
//! Numbers are normalised on export: an integral value that fits an `i64` exports as an
//! integer whatever its encoding (yrs stores some integers as floats), so exports of the
//! same content are byte-identical. Non-finite numbers (which JSON cannot hold) export as
//! `null`.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map as JsonMap, Value};
use yrs::{
    Any, Array, Doc, GetString, In, Map, MapPrelim, MapRef, Number, Out, ReadTxn, StateVector,
    TextPrelim, Transact, WriteTxn,
};

use super::{
    DocumentError, ELEMENT_TYPES, MAX_ASSETS, MAX_BINDINGS, MAX_DEPTH, MAX_ELEMENTS, MAX_ID_CHARS,
    MAX_IMPORT_BYTES, MAX_POINTS, MAX_STRING_CHARS, MAX_TEXT_CHARS, is_colour,
};

/// The root maps of a board, as they appear in the export.
pub(crate) const ROOTS: [&str; 4] = ["meta", "elements", "bindings", "assets"];
/// Values nested deeper than this (only hostile documents have them) export as `null`, so
/// exporting never overflows the stack.
const MAX_EXPORT_DEPTH: usize = 64;
const TOP_KEYS: [&str; 5] = ["schema", "meta", "elements", "bindings", "assets"];
const META_KEYS: [&str; 4] = ["schema", "title", "background", "grid"];
const ELEMENT_KEYS: [&str; 15] = [
    "type",
    "index",
    "geom",
    "stroke",
    "fill",
    "width",
    "dash",
    "opacity",
    "fontSize",
    "points",
    "pressure",
    "text",
    "createdBy",
    "locked",
    "assetId",
];
const GEOM_KEYS: [&str; 5] = ["x", "y", "w", "h", "rot"];
const BINDING_KEYS: [&str; 3] = ["from", "to", "anchor"];
const ASSET_KEYS: [&str; 4] = ["mime", "w", "h", "hash"];
const DASHES: [&str; 3] = ["solid", "dashed", "dotted"];
const ANCHORS: [&str; 2] = ["start", "end"];
const MAX_MIME_CHARS: usize = 100;

/// The board as `{"schema":1,"meta":{..},"elements":{..},"bindings":{..},"assets":{..}}`.
///
/// Missing roots export as `{}`, `Y.Text` as a plain string, keys in sorted order: two
/// exports of the same content serialise to the same bytes.
pub fn export_json(doc: &Doc) -> Value {
    let txn = doc.transact();
    let mut out = JsonMap::new();
    out.insert("schema".to_owned(), Value::from(1));
    for root in ROOTS {
        let value = txn.get_map(root).map_or_else(
            || Value::Object(JsonMap::new()),
            |map| map_to_json(&txn, &map, 1),
        );
        out.insert(root.to_owned(), value);
    }
    Value::Object(out)
}

/// The same JSON as [`export_json`], byte for byte once serialised, written straight to
/// bytes: no JSON tree is built, so the export costs its own size in memory and little
/// more.
pub fn write_json(doc: &Doc) -> Vec<u8> {
    let txn = doc.transact();
    let mut out = Vec::new();
    let board = BoardJson(&txn);
    // Writing to a Vec fails only on a serialiser bug, and every value here serialises.
    if serde_json::to_writer(&mut out, &board).is_err() {
        out.clear();
    }
    out
}

/// A whole board, serialised like [`export_json`]'s value (keys sorted).
struct BoardJson<'a, T: ReadTxn>(&'a T);

impl<T: ReadTxn> Serialize for BoardJson<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut keys: Vec<&str> = ROOTS.iter().copied().chain(["schema"]).collect();
        keys.sort_unstable();
        let mut map = serializer.serialize_map(Some(keys.len()))?;
        for key in keys {
            if key == "schema" {
                map.serialize_entry(key, &1)?;
                continue;
            }
            match self.0.get_map(key) {
                Some(root) => map.serialize_entry(
                    key,
                    &OutJson {
                        txn: self.0,
                        value: Out::YMap(root),
                        depth: 1,
                    },
                )?,
                None => map.serialize_entry(key, &JsonMap::new())?,
            }
        }
        map.end()
    }
}

/// A yrs value serialised as [`out_to_json`] converts it.
struct OutJson<'a, T: ReadTxn> {
    txn: &'a T,
    value: Out,
    depth: usize,
}

impl<T: ReadTxn> Serialize for OutJson<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.depth > MAX_EXPORT_DEPTH {
            return serializer.serialize_unit();
        }
        let txn = self.txn;
        let child = |value: Out| OutJson {
            txn,
            value,
            depth: self.depth + 1,
        };
        match &self.value {
            Out::Any(any) => AnyJson(any, self.depth).serialize(serializer),
            Out::YText(text) => serializer.serialize_str(&text.get_string(txn)),
            Out::YMap(map) => {
                let mut entries: Vec<(String, Out)> = map
                    .iter(txn)
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    out.serialize_entry(&key, &child(value))?;
                }
                out.end()
            }
            Out::YArray(array) => {
                let mut out = serializer.serialize_seq(Some(array.len(txn) as usize))?;
                for item in array.iter(txn) {
                    out.serialize_element(&child(item))?;
                }
                out.end()
            }
            Out::YXmlElement(xml) => serializer.serialize_str(&xml.get_string(txn)),
            Out::YXmlFragment(xml) => serializer.serialize_str(&xml.get_string(txn)),
            Out::YXmlText(xml) => serializer.serialize_str(&xml.get_string(txn)),
            _ => serializer.serialize_unit(),
        }
    }
}

/// An `Any` serialised as [`any_to_json`] converts it.
struct AnyJson<'a>(&'a Any, usize);

impl Serialize for AnyJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let AnyJson(any, depth) = *self;
        if depth > MAX_EXPORT_DEPTH {
            return serializer.serialize_unit();
        }
        match any {
            Any::Null | Any::Undefined => serializer.serialize_unit(),
            Any::Bool(b) => serializer.serialize_bool(*b),
            Any::Number(Number::Int(i)) => serializer.serialize_i64(*i),
            Any::Number(Number::Float(f)) => float_to_json(*f).serialize(serializer),
            Any::String(s) => serializer.serialize_str(s),
            Any::Buffer(bytes) => serializer.collect_seq(bytes.iter()),
            Any::Array(items) => {
                serializer.collect_seq(items.iter().map(|item| AnyJson(item, depth + 1)))
            }
            Any::Map(entries) => {
                let mut sorted: Vec<(&String, &Any)> = entries.iter().collect();
                sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(sorted.len()))?;
                for (key, value) in sorted {
                    out.serialize_entry(key, &AnyJson(value, depth + 1))?;
                }
                out.end()
            }
        }
    }
}

/// Validates `bytes` as a board export (strictly: see the schema in [`crate::document`])
/// and returns the full state of a fresh document holding exactly that, as a v1 update.
pub fn import_json(bytes: &[u8]) -> Result<Vec<u8>, DocumentError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(DocumentError::TooLarge(format!(
            "{} bytes, at most {MAX_IMPORT_BYTES}",
            bytes.len()
        )));
    }
    check_depth(bytes)?;
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| DocumentError::Invalid(format!("not JSON: {e}")))?;
    Ok(build(validate(&value)?))
}

/// A yrs map as a JSON object with sorted keys.
pub(crate) fn map_to_json<T: ReadTxn>(txn: &T, map: &MapRef, depth: usize) -> Value {
    let entries: BTreeMap<String, Value> = map
        .iter(txn)
        .map(|(key, value)| (key.to_owned(), out_to_json(txn, &value, depth + 1)))
        .collect();
    Value::Object(entries.into_iter().collect())
}

/// Any yrs value as JSON: shared maps become objects, arrays arrays, texts strings.
pub(crate) fn out_to_json<T: ReadTxn>(txn: &T, value: &Out, depth: usize) -> Value {
    if depth > MAX_EXPORT_DEPTH {
        return Value::Null;
    }
    match value {
        Out::Any(any) => any_to_json(any, depth),
        Out::YText(text) => Value::String(text.get_string(txn)),
        Out::YMap(map) => map_to_json(txn, map, depth),
        Out::YArray(array) => Value::Array(
            array
                .iter(txn)
                .map(|item| out_to_json(txn, &item, depth + 1))
                .collect(),
        ),
        Out::YXmlElement(xml) => Value::String(xml.get_string(txn)),
        Out::YXmlFragment(xml) => Value::String(xml.get_string(txn)),
        Out::YXmlText(xml) => Value::String(xml.get_string(txn)),
        _ => Value::Null,
    }
}

fn any_to_json(any: &Any, depth: usize) -> Value {
    if depth > MAX_EXPORT_DEPTH {
        return Value::Null;
    }
    match any {
        Any::Null | Any::Undefined => Value::Null,
        Any::Bool(b) => Value::Bool(*b),
        Any::Number(Number::Int(i)) => Value::from(*i),
        Any::Number(Number::Float(f)) => float_to_json(*f),
        Any::String(s) => Value::String(s.to_string()),
        Any::Buffer(bytes) => Value::Array(bytes.iter().map(|b| Value::from(*b)).collect()),
        Any::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| any_to_json(item, depth + 1))
                .collect(),
        ),
        Any::Map(entries) => {
            let sorted: BTreeMap<&String, Value> = entries
                .iter()
                .map(|(key, value)| (key, any_to_json(value, depth + 1)))
                .collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(key, value)| (key.clone(), value))
                    .collect(),
            )
        }
    }
}

/// A float as JSON: integral values in the `i64` range as integers, non-finite as `null`.
pub(crate) fn float_to_json(f: f64) -> Value {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// A JSON value as a yrs `Any` (integers stay integers).
pub(crate) fn json_to_any(value: &Value) -> Any {
    match value {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => Any::Number(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Number::Int(i),
            (None, Some(f)) => Number::Float(f),
            (None, None) => Number::Float(f64::NAN),
        }),
        Value::String(s) => Any::String(Arc::from(s.as_str())),
        Value::Array(items) => Any::Array(items.iter().map(json_to_any).collect()),
        Value::Object(entries) => Any::Map(Arc::new(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), json_to_any(value)))
                .collect(),
        )),
    }
}

/// Rejects input nested deeper than [`MAX_DEPTH`] before parsing it, so the parser's own
/// recursion limit is never reached and the error says what the limit is.
fn check_depth(bytes: &[u8]) -> Result<(), DocumentError> {
    if crate::protocol::scan::json_nesting(bytes).containers > MAX_DEPTH {
        return Err(DocumentError::TooLarge(format!(
            "nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(())
}

/// A board that passed validation, ready to be written into a fresh document.
struct Board {
    meta: Vec<(String, Any)>,
    elements: Vec<(String, MapPrelim)>,
    bindings: Vec<(String, Any)>,
    assets: Vec<(String, Any)>,
}

fn build(board: Board) -> Vec<u8> {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        let meta = txn.get_or_insert_map("meta");
        for (key, value) in board.meta {
            meta.insert(&mut txn, key, value);
        }
        let elements = txn.get_or_insert_map("elements");
        for (id, element) in board.elements {
            elements.insert(&mut txn, id, element);
        }
        let bindings = txn.get_or_insert_map("bindings");
        for (id, binding) in board.bindings {
            bindings.insert(&mut txn, id, binding);
        }
        let assets = txn.get_or_insert_map("assets");
        for (id, asset) in board.assets {
            assets.insert(&mut txn, id, asset);
        }
    }
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

fn validate(value: &Value) -> Result<Board, DocumentError> {
    let top = object(value, "(top level)")?;
    for key in top.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            return Err(unknown_key(key, &TOP_KEYS));
        }
    }
    match top.get("schema") {
        None => return Err(invalid("schema", "is required")),
        Some(v) if v.as_f64() == Some(1.0) => {}
        Some(v) => {
            return Err(invalid(
                "schema",
                format!("unsupported version {v}, expected 1"),
            ));
        }
    }
    let empty = Value::Object(JsonMap::new());
    let part = |key: &str| top.get(key).unwrap_or(&empty);
    Ok(Board {
        meta: meta(part("meta"))?,
        elements: entries(part("elements"), "elements", MAX_ELEMENTS, element)?,
        bindings: entries(part("bindings"), "bindings", MAX_BINDINGS, binding)?,
        assets: entries(part("assets"), "assets", MAX_ASSETS, asset)?,
    })
}

/// Validates a map of id → entry, each with `check(path, value)`.
fn entries<T>(
    value: &Value,
    name: &str,
    max: usize,
    check: impl Fn(&str, &Value) -> Result<T, DocumentError>,
) -> Result<Vec<(String, T)>, DocumentError> {
    let map = object(value, name)?;
    if map.len() > max {
        return Err(DocumentError::TooLarge(format!(
            "{name}: {} entries, at most {max}",
            map.len()
        )));
    }
    map.iter()
        .map(|(id, entry)| {
            let path = format!("{name}.{id}");
            check_id(id, &path)?;
            Ok((id.clone(), check(&path, entry)?))
        })
        .collect()
}

fn meta(value: &Value) -> Result<Vec<(String, Any)>, DocumentError> {
    let map = object(value, "meta")?;
    map.iter()
        .map(|(key, v)| {
            let path = format!("meta.{key}");
            match key.as_str() {
                "schema" => {
                    if v.as_u64().is_none_or(|n| n < 1) {
                        return Err(invalid(&path, "expected an integer ≥ 1"));
                    }
                }
                "title" => {
                    string(v, &path, MAX_STRING_CHARS)?;
                }
                "background" => colour(v, &path)?,
                "grid" => number_at_least(v, &path, 0.0)?,
                _ => return Err(unknown_key(&path, &META_KEYS)),
            }
            Ok((key.clone(), json_to_any(v)))
        })
        .collect()
}

fn element(path: &str, value: &Value) -> Result<MapPrelim, DocumentError> {
    let map = object(value, path)?;
    let kind = match map.get("type") {
        None => return Err(invalid(&format!("{path}.type"), "is required")),
        Some(v) => one_of(v, &format!("{path}.type"), &ELEMENT_TYPES)?,
    };
    let mut required = vec!["index", "geom"];
    if kind == "pen" {
        required.push("points");
    }
    for key in required {
        if !map.contains_key(key) {
            return Err(invalid(&format!("{path}.{key}"), "is required"));
        }
    }
    let mut prelim = MapPrelim::default();
    for (key, v) in map {
        let key_path = format!("{path}.{key}");
        let stored = if key == "text" && matches!(kind, "text" | "sticky") {
            In::from(TextPrelim::new(string(v, &key_path, MAX_TEXT_CHARS)?))
        } else {
            element_value(kind, key, v, &key_path, map)?;
            In::Any(json_to_any(v))
        };
        prelim.insert(Arc::from(key.as_str()), stored);
    }
    Ok(prelim)
}

/// Validates one key of an element of type `kind` (`text` of texts and stickies aside).
fn element_value(
    kind: &str,
    key: &str,
    v: &Value,
    path: &str,
    element: &JsonMap<String, Value>,
) -> Result<(), DocumentError> {
    let text_like = matches!(kind, "text" | "sticky");
    match key {
        "type" => Ok(()),
        "index" => {
            let index = string(v, path, MAX_ID_CHARS)?;
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    path,
                    "expected a non-empty string of printable ASCII without spaces",
                ));
            }
            Ok(())
        }
        "geom" => geom(v, path, matches!(kind, "line" | "arrow")),
        "stroke" | "fill" => colour(v, path),
        "width" => number_at_least(v, path, 0.0),
        "dash" => one_of(v, path, &DASHES).map(drop),
        "opacity" => {
            let opacity = finite(v, path)?;
            if !(0.0..=1.0).contains(&opacity) {
                return Err(invalid(path, "expected a number from 0 to 1"));
            }
            Ok(())
        }
        "fontSize" if text_like => {
            if finite(v, path)? <= 0.0 {
                return Err(invalid(path, "expected a number > 0"));
            }
            Ok(())
        }
        "points" if kind == "pen" => points(v, path),
        "pressure" if kind == "pen" => {
            let expected = element
                .get("points")
                .and_then(Value::as_array)
                .map_or(0, |p| p.len() / 2);
            pressure(v, path, expected)
        }
        "createdBy" => string(v, path, MAX_STRING_CHARS).map(drop),
        "locked" => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(invalid(path, "expected true or false")),
        },
        "assetId" if kind == "image" => {
            let id = v
                .as_str()
                .ok_or_else(|| invalid(path, "expected a string"))?;
            check_id(id, path)
        }
        "fontSize" | "points" | "pressure" | "text" | "assetId" => {
            Err(invalid(path, format!("{kind} elements have no `{key}`")))
        }
        _ => Err(unknown_key(path, &ELEMENT_KEYS)),
    }
}

fn geom(value: &Value, path: &str, may_be_negative: bool) -> Result<(), DocumentError> {
    let map = exact_keys(value, path, &GEOM_KEYS)?;
    for key in GEOM_KEYS {
        let key_path = format!("{path}.{key}");
        let n = finite(&map[key], &key_path)?;
        if matches!(key, "w" | "h") && n < 0.0 && !may_be_negative {
            return Err(invalid(
                &key_path,
                "expected a number ≥ 0 (only lines and arrows may have negative sizes)",
            ));
        }
    }
    Ok(())
}

fn points(value: &Value, path: &str) -> Result<(), DocumentError> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid(path, "expected a flat array of numbers"))?;
    if items.len() > 2 * MAX_POINTS {
        return Err(DocumentError::TooLarge(format!(
            "{path}: {} numbers, at most {} ({MAX_POINTS} points)",
            items.len(),
            2 * MAX_POINTS
        )));
    }
    if items.is_empty() || items.len() % 2 != 0 {
        return Err(invalid(
            path,
            format!(
                "expected x, y pairs (an even, non-zero count), got {} numbers",
                items.len()
            ),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        finite(item, &format!("{path}[{i}]"))?;
    }
    Ok(())
}

fn pressure(value: &Value, path: &str, expected: usize) -> Result<(), DocumentError> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid(path, "expected an array of numbers"))?;
    if items.len() != expected {
        return Err(invalid(
            path,
            format!(
                "expected one value per point ({expected}), got {}",
                items.len()
            ),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let p = finite(item, &format!("{path}[{i}]"))?;
        if !(0.0..=1.0).contains(&p) {
            return Err(invalid(
                &format!("{path}[{i}]"),
                "expected a number from 0 to 1",
            ));
        }
    }
    Ok(())
}

fn binding(path: &str, value: &Value) -> Result<Any, DocumentError> {
    let map = exact_keys(value, path, &BINDING_KEYS)?;
    for key in ["from", "to"] {
        let key_path = format!("{path}.{key}");
        let id = map[key]
            .as_str()
            .ok_or_else(|| invalid(&key_path, "expected an element id"))?;
        check_id(id, &key_path)?;
    }
    one_of(&map["anchor"], &format!("{path}.anchor"), &ANCHORS)?;
    Ok(json_to_any(value))
}

fn asset(path: &str, value: &Value) -> Result<Any, DocumentError> {
    let map = exact_keys(value, path, &ASSET_KEYS)?;
    let mime_path = format!("{path}.mime");
    let mime = string(&map["mime"], &mime_path, MAX_MIME_CHARS)?;
    let subtype_ok = mime.strip_prefix("image/").is_some_and(|sub| {
        !sub.is_empty()
            && sub
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    });
    if !subtype_ok {
        return Err(invalid(
            &mime_path,
            "expected an image MIME type such as image/png",
        ));
    }
    number_at_least(&map["w"], &format!("{path}.w"), 0.0)?;
    number_at_least(&map["h"], &format!("{path}.h"), 0.0)?;
    let hash_path = format!("{path}.hash");
    let hash = string(&map["hash"], &hash_path, MAX_ID_CHARS)?;
    if hash.is_empty()
        || !hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_:".contains(&b))
    {
        return Err(invalid(
            &hash_path,
            "expected a non-empty string of letters, digits, '-', '_' and ':'",
        ));
    }
    Ok(json_to_any(value))
}

fn invalid(path: &str, what: impl Display) -> DocumentError {
    DocumentError::Invalid(format!("{path}: {what}"))
}

fn unknown_key(path: &str, allowed: &[&str]) -> DocumentError {
    invalid(
        path,
        format!("unknown key (expected one of {})", allowed.join(", ")),
    )
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a JsonMap<String, Value>, DocumentError> {
    value
        .as_object()
        .ok_or_else(|| invalid(path, "expected an object"))
}

/// An object with exactly the keys `keys`, each present.
fn exact_keys<'a>(
    value: &'a Value,
    path: &str,
    keys: &[&str],
) -> Result<&'a JsonMap<String, Value>, DocumentError> {
    let map = object(value, path)?;
    if let Some(extra) = map.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(unknown_key(&format!("{path}.{extra}"), keys));
    }
    if let Some(missing) = keys.iter().find(|k| !map.contains_key(**k)) {
        return Err(invalid(&format!("{path}.{missing}"), "is required"));
    }
    Ok(map)
}

fn check_id(id: &str, path: &str) -> Result<(), DocumentError> {
    if id.is_empty() {
        return Err(invalid(path, "ids must not be empty"));
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(invalid(
            path,
            format!("ids are at most {MAX_ID_CHARS} characters"),
        ));
    }
    Ok(())
}

fn string<'a>(value: &'a Value, path: &str, max_chars: usize) -> Result<&'a str, DocumentError> {
    let s = value
        .as_str()
        .ok_or_else(|| invalid(path, "expected a string"))?;
    let chars = s.chars().count();
    if chars > max_chars {
        return Err(DocumentError::TooLarge(format!(
            "{path}: {chars} characters, at most {max_chars}"
        )));
    }
    Ok(s)
}

fn one_of<'a>(value: &'a Value, path: &str, allowed: &[&str]) -> Result<&'a str, DocumentError> {
    value
        .as_str()
        .filter(|s| allowed.contains(s))
        .ok_or_else(|| invalid(path, format!("expected one of {}", allowed.join(", "))))
}

fn colour(value: &Value, path: &str) -> Result<(), DocumentError> {
    let s = string(value, path, MAX_STRING_CHARS)?;
    if !is_colour(s) {
        return Err(invalid(
            path,
            "expected a colour (#rgb, #rrggbb, a colour name, rgb(...), hsl(...))",
        ));
    }
    Ok(())
}

fn finite(value: &Value, path: &str) -> Result<f64, DocumentError> {
    value
        .as_f64()
        .filter(|n| n.is_finite())
        .ok_or_else(|| invalid(path, "expected a finite number"))
}

fn number_at_least(value: &Value, path: &str, min: f64) -> Result<(), DocumentError> {
    if finite(value, path)? < min {
        return Err(invalid(path, format!("expected a number ≥ {min}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::doc_from_update;
    use crate::document::test_support::{round_trip, sample_board};
    use serde_json::json;
    use yrs::{ArrayPrelim, TextPrelim};

    fn import_err(value: &Value) -> DocumentError {
        import_json(value.to_string().as_bytes()).unwrap_err()
    }

    fn with_element(element: Value) -> Value {
        json!({"schema": 1, "elements": {"abc": element}})
    }

    fn rect() -> Value {
        json!({"type": "rect", "index": "a0", "geom": {"x": 0, "y": 0, "w": 10, "h": 10, "rot": 0}})
    }

    #[test]
    fn an_empty_document_exports_every_root_as_an_empty_object() {
        assert_eq!(
            export_json(&Doc::new()).to_string(),
            r#"{"assets":{},"bindings":{},"elements":{},"meta":{},"schema":1}"#
        );
    }

    #[test]
    fn the_sample_board_round_trips_exactly() {
        let board = sample_board();
        assert_eq!(round_trip(&board), board);
    }

    #[test]
    fn exports_of_the_same_content_are_byte_identical() {
        let make = |order: &[&str]| {
            let doc = Doc::new();
            let elements = doc.get_or_insert_map("elements");
            let mut txn = doc.transact_mut();
            for id in order {
                let el = MapPrelim::from([
                    ("type", In::from("text")),
                    ("text", In::from(TextPrelim::new("hi"))),
                    ("width", In::from(2.0)),
                ]);
                elements.insert(&mut txn, *id, el);
            }
            drop(txn);
            serde_json::to_vec(&export_json(&doc)).unwrap()
        };
        assert_eq!(make(&["a", "b", "c"]), make(&["c", "a", "b"]));
    }

    #[test]
    fn the_written_export_is_the_export_byte_for_byte() {
        let doc = crate::document::test_support::import_doc(
            &crate::document::test_support::sample_board(),
        );
        {
            // Values the schema does not have: nested shared types, odd numbers, buffers.
            let mut txn = doc.transact_mut();
            let extra = txn.get_or_insert_map("meta");
            extra.insert(
                &mut txn,
                "odd",
                Any::from(vec![Any::from(f64::NAN), Any::from(2.5), Any::from(3.0)]),
            );
            extra.insert(&mut txn, "bytes", Any::Buffer(Arc::from(&b"ab"[..])));
            let nested = extra.insert(&mut txn, "nested", MapPrelim::default());
            nested.insert(&mut txn, "z", "last");
            nested.insert(&mut txn, "a", TextPrelim::new("first"));
        }
        let tree = serde_json::to_vec(&export_json(&doc)).unwrap();
        assert_eq!(
            String::from_utf8(write_json(&doc)).unwrap(),
            String::from_utf8(tree).unwrap()
        );
        let empty = Doc::new();
        assert_eq!(
            write_json(&empty),
            serde_json::to_vec(&export_json(&empty)).unwrap()
        );
    }

    #[test]
    fn integral_floats_export_as_integers_and_non_finite_numbers_as_null() {
        let doc = Doc::new();
        let meta = doc.get_or_insert_map("meta");
        let mut txn = doc.transact_mut();
        meta.insert(&mut txn, "a", 3.0);
        meta.insert(&mut txn, "b", 3);
        meta.insert(&mut txn, "c", 2.5);
        meta.insert(&mut txn, "d", f64::NAN);
        meta.insert(&mut txn, "e", f64::INFINITY);
        drop(txn);
        assert_eq!(
            export_json(&doc)["meta"],
            json!({"a": 3, "b": 3, "c": 2.5, "d": null, "e": null})
        );
    }

    #[test]
    fn shared_types_anywhere_export_as_plain_json() {
        let doc = Doc::new();
        let elements = doc.get_or_insert_map("elements");
        let mut txn = doc.transact_mut();
        elements.insert(&mut txn, "s", "a test client's plain string");
        elements.insert(
            &mut txn,
            "nested",
            MapPrelim::from([("list", In::from(ArrayPrelim::from([1, 2])))]),
        );
        drop(txn);
        assert_eq!(
            export_json(&doc)["elements"],
            json!({"nested": {"list": [1, 2]}, "s": "a test client's plain string"})
        );
    }

    #[test]
    fn absurdly_nested_shared_maps_export_without_overflowing() {
        let doc = Doc::new();
        let mut map = doc.get_or_insert_map("meta");
        let mut txn = doc.transact_mut();
        for _ in 0..500 {
            map = map.insert(&mut txn, "deeper", MapPrelim::default());
        }
        drop(txn);
        let exported = export_json(&doc).to_string();
        assert!(exported.contains("null"), "{}", &exported[..100]);
    }

    #[test]
    fn valid_imports_decode_into_the_same_board() {
        let board = sample_board();
        let update = import_json(board.to_string().as_bytes()).unwrap();
        let doc = doc_from_update(&update).unwrap();
        let txn = doc.transact();
        let elements = txn.get_map("elements").unwrap();
        let Some(Out::YMap(note)) = elements.get(&txn, "note") else {
            panic!("elements are Y.Maps");
        };
        assert!(matches!(note.get(&txn, "text"), Some(Out::YText(_))));
        assert!(matches!(
            note.get(&txn, "geom"),
            Some(Out::Any(Any::Map(_)))
        ));
    }

    #[test]
    fn missing_parts_import_as_empty() {
        let update = import_json(br#"{"schema":1}"#).unwrap();
        assert_eq!(
            export_json(&doc_from_update(&update).unwrap()),
            export_json(&Doc::new())
        );
    }

    #[test]
    fn invalid_imports_say_where_and_why() {
        let mut bad_geom = rect();
        bad_geom["geom"]["x"] = json!("1");
        let mut extra = rect();
        extra["colour"] = json!("red");
        let mut text_on_rect = rect();
        text_on_rect["text"] = json!("hi");
        let mut neg = rect();
        neg["geom"]["w"] = json!(-1);
        let mut line = rect();
        line["type"] = json!("line");
        line["geom"]["w"] = json!(-1);
        line["stroke"] = json!("url(#evil)");
        let mut pen = rect();
        pen["type"] = json!("pen");
        pen["points"] = json!([1, 2, 3]);
        let mut pressure = pen.clone();
        pressure["points"] = json!([1, 2, 3, 4]);
        pressure["pressure"] = json!([0.5]);
        let cases = [
            (json!([]), "(top level): expected an object"),
            (json!({"elements": {}}), "schema: is required"),
            (
                json!({"schema": 2}),
                "schema: unsupported version 2, expected 1",
            ),
            (
                json!({"schema": 1, "extra": {}}),
                "extra: unknown key (expected one of schema, meta, elements, bindings, assets)",
            ),
            (
                json!({"schema": 1, "meta": {"owner": "x"}}),
                "meta.owner: unknown key (expected one of schema, title, background, grid)",
            ),
            (
                with_element(bad_geom),
                "elements.abc.geom.x: expected a finite number",
            ),
            (with_element(extra), "elements.abc.colour: unknown key"),
            (
                with_element(text_on_rect),
                "elements.abc.text: rect elements have no `text`",
            ),
            (
                with_element(neg),
                "elements.abc.geom.w: expected a number ≥ 0",
            ),
            (with_element(line), "elements.abc.stroke: expected a colour"),
            (
                with_element(pen),
                "elements.abc.points: expected x, y pairs (an even, non-zero count), got 3",
            ),
            (
                with_element(pressure),
                "elements.abc.pressure: expected one value per point (2), got 1",
            ),
            (
                with_element(json!({"type": "blob"})),
                "elements.abc.type: expected one of rect, ellipse",
            ),
            (
                with_element(json!({"type": "rect", "geom": {}})),
                "elements.abc.index: is required",
            ),
            (
                json!({"schema": 1, "elements": {"": rect()}}),
                "elements.: ids must not be empty",
            ),
            (
                json!({"schema": 1, "elements": {"x".repeat(201): rect()}}),
                "ids are at most 200 characters",
            ),
            (
                json!({"schema": 1, "bindings": {"b": {"from": "a", "to": "c", "anchor": "middle"}}}),
                "bindings.b.anchor: expected one of start, end",
            ),
            (
                json!({"schema": 1, "assets": {"i": {"mime": "text/html", "w": 1, "h": 1, "hash": "ab"}}}),
                "assets.i.mime: expected an image MIME type",
            ),
            (
                json!({"schema": 1, "assets": {"i": {"mime": "image/png", "w": 1, "h": 1}}}),
                "assets.i.hash: is required",
            ),
        ];
        for (input, expected) in cases {
            let err = import_err(&input);
            assert!(
                matches!(&err, DocumentError::Invalid(m) if m.starts_with(expected) || m.ends_with(expected)),
                "{input} gave {err:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn non_json_is_invalid() {
        for bytes in [&b""[..], b"{", b"\xff\xfe", b"{\"schema\":1e999}", b"nul"] {
            assert!(
                matches!(import_json(bytes), Err(DocumentError::Invalid(m)) if m.starts_with("not JSON")),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn inputs_over_the_limits_are_too_large() {
        let mut long_text = json!({"type": "text", "index": "a", "geom": rect()["geom"]});
        long_text["text"] = json!("x".repeat(MAX_TEXT_CHARS + 1));
        let mut pen = json!({"type": "pen", "index": "a", "geom": rect()["geom"]});
        pen["points"] = json!(vec![1; 2 * MAX_POINTS + 2]);
        for input in [
            with_element(long_text),
            with_element(pen),
            json!({"schema": 1, "meta": {"title": "t".repeat(MAX_STRING_CHARS + 1)}}),
        ] {
            assert!(matches!(import_err(&input), DocumentError::TooLarge(_)));
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            import_json(deep.as_bytes()),
            Err(DocumentError::TooLarge(m)) if m.contains("nested deeper")
        ));
        let brackets_in_strings =
            format!(r#"{{"schema":1,"meta":{{"title":"{}"}}}}"#, "[".repeat(50));
        assert!(import_json(brackets_in_strings.as_bytes()).is_ok());
        let huge = vec![b' '; MAX_IMPORT_BYTES + 1];
        assert!(matches!(
            import_json(&huge),
            Err(DocumentError::TooLarge(_))
        ));
    }
}
