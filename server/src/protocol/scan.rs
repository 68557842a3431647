//! A pre-scan of untrusted Yjs updates (v1 encoding) before yrs decodes or applies them.
//!
//! Owns walking an update's structure without recursion, following exactly the grammar
//! yrs 0.28's `Update::decode_v1` reads (the same `Cursor` reads, in the same order), and
//! refusing what yrs would handle badly:
//! - values nested deeper than [`MAX_NESTING`]: yrs decodes, encodes and drops `Any` values
//!   recursively, so a deep enough nesting overflows the thread's stack, which aborts the
//!   whole process;
//! - shared types nested deeper than [`MAX_NESTING`], within one update or across many
//!   ([`item_levels`] with a board's [`Levels`]): yrs deletes and garbage-collects a shared
//!   type's contents recursively, so deleting the top of a deep enough chain aborts too;
//! - counts that promise more than the bytes hold, and client ids over 53 bits.
//!
//! It also counts what the update holds ([`Shape`]), so callers can bound the memory
//! decoding it will take before any is spent. Knows nothing of sockets, rooms or storage;
//! it never builds a yrs value.

use std::collections::{BTreeMap, HashMap};

use yrs::encoding::read::{Cursor, Read};

/// How deep values may nest: arrays and maps inside `Any` content and JSON text inside
/// embeds, formats and JSON content; and, separately, shared types inside shared types. A
/// board needs 4 and 3; stock Yjs applications rarely go past 10.
pub const MAX_NESTING: usize = 32;

/// The largest client id Yjs produces (53 bits: JavaScript's safe integers); yrs asserts
/// on larger ones.
const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

// Block kinds (the low bits of an item's info byte), as yrs numbers them.
const GC: u8 = 0;
const DELETED: u8 = 1;
const JSON: u8 = 2;
const BINARY: u8 = 3;
const STRING: u8 = 4;
const EMBED: u8 = 5;
const FORMAT: u8 = 6;
const TYPE: u8 = 7;
const ANY: u8 = 8;
const DOC: u8 = 9;
const SKIP: u8 = 10;
const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;

// Type refs yrs decodes (without its `weak` feature, which Easel does not enable).
const TYPE_XML_ELEMENT: u8 = 3;
const VALID_TYPE_REFS: [u8; 9] = [0, 1, 2, 3, 4, 5, 6, 9, 15];

/// What an update holds, as counted by [`scan_update`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Items (blocks that carry content; GC and skip ranges are not counted).
    pub items: u64,
    /// Values inside the items: each `Any` (containers and their elements), JSON value,
    /// string or binary counts one.
    pub values: u64,
    /// Items that create a shared type (map, array, text, XML).
    pub types: u64,
    /// Ranges in the delete set.
    pub deletes: u64,
    /// The deepest nesting met (see [`MAX_NESTING`]).
    pub depth: usize,
}

impl Shape {
    /// A bound on the memory yrs takes to hold the decoded update, in bytes: its encoded
    /// size plus a fixed cost per item and per value (see [`ITEM_COST`], [`VALUE_COST`]).
    pub fn memory(&self, encoded_len: usize) -> u64 {
        (encoded_len as u64)
            .saturating_add(self.items.saturating_mul(ITEM_COST))
            .saturating_add(self.values.saturating_mul(VALUE_COST))
            .saturating_add(self.deletes.saturating_mul(VALUE_COST))
    }
}

/// What one item costs yrs in memory beyond its encoded bytes (the `Item` struct, its slot
/// in the block list, its map entry when it has a key), measured with
/// `examples/doc_memory.rs`.
pub const ITEM_COST: u64 = 400;

/// What one value inside an item costs beyond its encoded bytes (an `Any` and its share of
/// the vector or map that holds it).
pub const VALUE_COST: u64 = 24;

/// How many bytes of memory a document (or a frame's updates) may take per byte of
/// `EASEL_MAX_DOC_BYTES` (or `EASEL_MAX_MESSAGE_BYTES`), as estimated from the updates'
/// shapes. Boards laid out as the web client stores them hold about 16 times their encoded
/// size in memory (20,000 shapes: 4.9 MB encoded, 77 MB held, estimated 75 MB), pen strokes
/// about 6 times, so the encoded cap is met first; updates built to cost more memory than
/// bytes (half a million map keys: 34 times; four million nulls: 24 times) meet this one.
pub const MEMORY_PER_DOC_BYTE: u64 = 20;

/// The estimated memory a document may reach when its encoded size may reach `max_doc_bytes`.
pub fn memory_cap(max_doc_bytes: u64) -> u64 {
    max_doc_bytes.saturating_mul(MEMORY_PER_DOC_BYTE)
}

/// The estimated memory of holding `update`, for bytes Easel stored itself: an update the
/// pre-scan refuses (stored before the scan existed) counts as its encoded size.
pub fn memory_of(update: &[u8]) -> u64 {
    scan_update(update).map_or(update.len() as u64, |shape| shape.memory(update.len()))
}

/// Why an update was refused before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The bytes are not a v1 update.
    #[error("malformed update: {0}")]
    Malformed(&'static str),
    /// Values nest deeper than [`MAX_NESTING`].
    #[error("values nested deeper than {MAX_NESTING} levels")]
    TooDeep,
}

impl From<yrs::encoding::read::Error> for ScanError {
    fn from(_: yrs::encoding::read::Error) -> Self {
        ScanError::Malformed("truncated or bad number")
    }
}

/// Walks a v1 update the way yrs decodes it and returns what it holds, or why it must not
/// be decoded. Accepting means yrs's decoder will not recurse deeper than [`MAX_NESTING`]
/// and will not reserve room for more entries than the bytes can hold. Trailing bytes are
/// ignored, as yrs ignores them.
pub fn scan_update(bytes: &[u8]) -> Result<Shape, ScanError> {
    let mut s = Scanner {
        cur: Cursor::new(bytes),
        shape: Shape::default(),
        items: None,
    };
    let clients: u32 = s.cur.read_var()?;
    s.at_most(clients as usize, 3)?;
    for _ in 0..clients {
        let blocks: u32 = s.cur.read_var()?;
        s.at_most(blocks as usize, 2)?;
        let client = s.client()?;
        let mut clock: u32 = s.cur.read_var()?;
        for _ in 0..blocks {
            clock = s.block(client, clock)?;
        }
    }
    let ds_clients: u32 = s.cur.read_var()?;
    s.at_most(ds_clients as usize, 2)?;
    for _ in 0..ds_clients {
        s.client()?;
        let ranges: u32 = s.cur.read_var()?;
        s.at_most(ranges as usize, 2)?;
        for _ in 0..ranges {
            let _clock: u32 = s.cur.read_var()?;
            let _len: u32 = s.cur.read_var()?;
            s.shape.deletes += 1;
        }
    }
    Ok(s.shape)
}

struct Scanner<'a> {
    cur: Cursor<'a>,
    shape: Shape,
    /// Where each item sits, when the caller asked for it.
    items: Option<Vec<Placed>>,
}

impl Scanner<'_> {
    /// Refuses a count of things that each take at least `min_bytes` when fewer bytes are
    /// left than that many would take.
    fn at_most(&self, count: usize, min_bytes: usize) -> Result<(), ScanError> {
        let left = self.cur.buf.len().saturating_sub(self.cur.next);
        if count.saturating_mul(min_bytes) > left {
            return Err(ScanError::Malformed(
                "a count larger than the bytes that follow",
            ));
        }
        Ok(())
    }

    fn client(&mut self) -> Result<u64, ScanError> {
        let client: u64 = self.cur.read_var()?;
        if client > MAX_CLIENT_ID {
            return Err(ScanError::Malformed("a client id over 53 bits"));
        }
        Ok(client)
    }

    fn id(&mut self) -> Result<(u64, u32), ScanError> {
        let client = self.client()?;
        let clock: u32 = self.cur.read_var()?;
        Ok((client, clock))
    }

    fn deeper(&mut self, depth: usize) -> Result<(), ScanError> {
        if depth > MAX_NESTING {
            return Err(ScanError::TooDeep);
        }
        self.shape.depth = self.shape.depth.max(depth);
        Ok(())
    }

    /// One block at `(client, clock)`; returns the clock after it.
    fn block(&mut self, client: u64, clock: u32) -> Result<u32, ScanError> {
        let info = self.cur.read_u8()?;
        match info {
            SKIP | GC => {
                let len: u32 = self.cur.read_var()?;
                if len == 0 {
                    return Err(ScanError::Malformed("an empty block"));
                }
                return Ok(clock.wrapping_add(len));
            }
            _ => {}
        }
        self.shape.items += 1;
        let left = (info & HAS_ORIGIN != 0).then(|| self.id()).transpose()?;
        let right = (info & HAS_RIGHT_ORIGIN != 0)
            .then(|| self.id())
            .transpose()?;
        let mut parent = Parent::Origins(left, right);
        if left.is_none() && right.is_none() {
            let named: u32 = self.cur.read_var()?;
            parent = if named == 1 {
                self.cur.read_string()?;
                Parent::Root
            } else {
                Parent::Type(self.id()?)
            };
            if info & HAS_PARENT_SUB != 0 {
                self.cur.read_string()?;
            }
        }
        let kind = info & 0b1111;
        let len = self.content(kind)?;
        if let Some(items) = &mut self.items {
            items.push(Placed {
                id: (client, clock),
                len,
                parent,
                is_type: kind == TYPE,
            });
        }
        Ok(clock.wrapping_add(len))
    }

    /// An item's content; returns its length in clock ticks, as yrs counts it.
    fn content(&mut self, kind: u8) -> Result<u32, ScanError> {
        match kind {
            DELETED => {
                let len: u32 = self.cur.read_var()?;
                Ok(len)
            }
            JSON => {
                // yrs reads one string more than the count says (`while remaining >= 0`).
                let count: u32 = self.cur.read_var()?;
                let strings = (count as i32 as i64 + 1).max(0) as usize;
                self.at_most(strings, 1)?;
                for _ in 0..strings {
                    let json = json_nesting(self.cur.read_string()?.as_bytes());
                    self.add_json(json)?;
                }
                Ok(strings as u32)
            }
            BINARY => {
                self.cur.read_buf()?;
                self.shape.values += 1;
                Ok(1)
            }
            STRING => {
                let s = self.cur.read_string()?;
                self.shape.values += 1;
                Ok(s.encode_utf16().count() as u32)
            }
            EMBED => {
                let json = json_nesting(self.cur.read_string()?.as_bytes());
                self.add_json(json)?;
                Ok(1)
            }
            FORMAT => {
                self.cur.read_string()?;
                let json = json_nesting(self.cur.read_string()?.as_bytes());
                self.add_json(json)?;
                Ok(1)
            }
            TYPE => {
                let type_ref = self.cur.read_u8()?;
                if !VALID_TYPE_REFS.contains(&type_ref) {
                    return Err(ScanError::Malformed("an unknown shared type"));
                }
                if type_ref == TYPE_XML_ELEMENT {
                    self.cur.read_string()?;
                }
                self.shape.types += 1;
                Ok(1)
            }
            ANY => {
                let count: u32 = self.cur.read_var()?;
                self.at_most(count as usize, 1)?;
                for _ in 0..count {
                    self.any()?;
                }
                Ok(count)
            }
            DOC => {
                self.cur.read_string()?;
                self.any()?;
                Ok(1)
            }
            _ => Err(ScanError::Malformed("an unknown content type")),
        }
    }

    /// One lib0 `Any` value, walked with an explicit stack of open containers.
    fn any(&mut self) -> Result<(), ScanError> {
        // Per open container: entries left to read, and whether it is a map (each entry
        // then starts with a key).
        let mut open: Vec<(usize, bool)> = Vec::new();
        loop {
            if let Some((left, is_map)) = open.last_mut() {
                if *left == 0 {
                    open.pop();
                    if open.is_empty() {
                        return Ok(());
                    }
                    continue;
                }
                *left -= 1;
                if *is_map {
                    self.cur.read_string()?;
                }
            }
            self.shape.values += 1;
            self.deeper(open.len() + 1)?;
            match self.cur.read_u8()? {
                127 | 126 | 121 | 120 => {}
                125 => {
                    self.cur.read_var::<i64>()?;
                }
                124 => {
                    self.cur.read_f32()?;
                }
                123 => {
                    self.cur.read_f64()?;
                }
                122 => {
                    self.cur.read_i64()?;
                }
                119 => {
                    self.cur.read_string()?;
                }
                116 => {
                    self.cur.read_buf()?;
                }
                tag @ (117 | 118) => {
                    let len: usize = self.cur.read_var()?;
                    self.at_most(len, if tag == 118 { 2 } else { 1 })?;
                    open.push((len, tag == 118));
                    continue;
                }
                _ => return Err(ScanError::Malformed("an unknown value type")),
            }
            if open.is_empty() {
                return Ok(());
            }
        }
    }

    /// Counts JSON text that yrs parses into an `Any`.
    fn add_json(&mut self, json: JsonNesting) -> Result<(), ScanError> {
        self.shape.values += json.values;
        self.deeper(json.depth)
    }
}

/// How JSON text nests, read without parsing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonNesting {
    /// Its values, counted roughly (commas plus one).
    pub values: u64,
    /// The most arrays and objects open at once.
    pub containers: usize,
    /// How deep it nests as `Any` values count it: a scalar or an empty array is 1, an
    /// array's elements 2, and so on.
    pub depth: usize,
}

/// How `text` nests (JSON that yrs parses into an `Any` with serde_json, which recurses;
/// or a board import), in one pass that skips strings.
pub(crate) fn json_nesting(text: &[u8]) -> JsonNesting {
    let mut n = JsonNesting {
        values: 1,
        containers: 0,
        depth: 1,
    };
    let (mut open, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'[' | b'{' => {
                open += 1;
                n.containers = n.containers.max(open);
                n.depth = n.depth.max(open);
            }
            b']' | b'}' => open = open.saturating_sub(1),
            b',' => n.values += 1,
            b':' | b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                // The first byte of a scalar (or of a key, which sits as deep as its value).
                in_string = b == b'"';
                n.depth = n.depth.max(open + 1);
            }
        }
    }
    n
}

/// An item id: client and clock.
type Id = (u64, u32);

/// Where an item says its parent is.
#[derive(Debug, Clone, Copy)]
enum Parent {
    /// A root type (named).
    Root,
    /// A shared type, by the id of the item that created it.
    Type(Id),
    /// The parent of its left origin (or, failing that, of its right origin), as Yjs
    /// integrates it.
    Origins(Option<Id>, Option<Id>),
}

/// One item of an update and where it sits.
#[derive(Debug, Clone, Copy)]
struct Placed {
    id: Id,
    len: u32,
    parent: Parent,
    is_type: bool,
}

/// How [`item_levels`] treats a shared type it cannot place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Client input: a shared type nested deeper than [`MAX_NESTING`] is refused.
    Refuse,
    /// Bytes Easel stored itself: nothing is refused, levels are recorded as they are.
    Record,
}

/// Runs of consecutive items of one client at the same level.
#[derive(Debug, Clone, Copy)]
struct Run {
    end: u32,
    level: u8,
}

/// How deep every item a board holds sits: its level is 1 in a root type, 2 in a shared
/// type that sits in a root type, and so on. Kept as runs of consecutive clocks per client
/// (a client's consecutive edits mostly share a level), so it costs a few bytes per edit.
#[derive(Debug, Default)]
pub struct Levels {
    clients: HashMap<u64, BTreeMap<u32, Run>>,
}

impl Levels {
    /// The level of the item at `id`, if known.
    fn get(&self, (client, clock): Id) -> Option<u8> {
        let runs = self.clients.get(&client)?;
        let (_, run) = runs.range(..=clock).next_back()?;
        (clock < run.end).then_some(run.level)
    }

    /// Records `len` items from `id` at `level`; clocks already known keep their level.
    fn insert(&mut self, (client, clock): Id, len: u32, level: u8) {
        if len == 0 || self.get((client, clock)).is_some() {
            return;
        }
        let end = clock.saturating_add(len);
        let runs = self.clients.entry(client).or_default();
        if let Some((_, before)) = runs.range_mut(..clock).next_back()
            && before.end == clock
            && before.level == level
        {
            before.end = end;
            return;
        }
        runs.insert(clock, Run { end, level });
    }

    /// Records the levels [`item_levels`] found for an update that was applied.
    pub fn record(&mut self, placed: &[(Id, u32, u8)]) {
        for (id, len, level) in placed {
            self.insert(*id, *len, *level);
        }
    }

    /// Runs held: what the index costs.
    pub fn runs(&self) -> usize {
        self.clients.values().map(BTreeMap::len).sum()
    }
}

/// The level of every item in `bytes` (a v1 update that passed [`scan_update`]), given what
/// a board already holds: items whose place is known, as `(id, len, level)` for
/// [`Levels::record`] once the update is applied. With [`Strictness::Refuse`], an update
/// that would put a shared type deeper than [`MAX_NESTING`] is refused.
pub fn item_levels(
    bytes: &[u8],
    known: &Levels,
    strictness: Strictness,
) -> Result<Vec<(Id, u32, u8)>, ScanError> {
    let mut s = Scanner {
        cur: Cursor::new(bytes),
        shape: Shape::default(),
        items: Some(Vec::new()),
    };
    let clients: u32 = s.cur.read_var()?;
    for _ in 0..clients {
        let blocks: u32 = s.cur.read_var()?;
        let client = s.client()?;
        let mut clock: u32 = s.cur.read_var()?;
        for _ in 0..blocks {
            clock = s.block(client, clock)?;
        }
    }
    let placed = s.items.unwrap_or_default();
    resolve(&placed, known, strictness)
}

/// Resolves every item's level: an item in a root is at 1, one in a shared type one below
/// it, one placed by its origins beside them. Origins and parents may come later in the
/// update, so each item is resolved by following its chain (without recursion), and each
/// result is kept.
fn resolve(
    placed: &[Placed],
    known: &Levels,
    strictness: Strictness,
) -> Result<Vec<(Id, u32, u8)>, ScanError> {
    // Items of this update by client, in clock order, to find the one holding an id.
    let mut by_client: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, item) in placed.iter().enumerate() {
        by_client.entry(item.id.0).or_default().push(i);
    }
    for indices in by_client.values_mut() {
        indices.sort_by_key(|&i| placed[i].id.1);
    }
    let find = |(client, clock): Id| -> Option<usize> {
        let indices = by_client.get(&client)?;
        let at = indices.partition_point(|&i| placed[i].id.1 <= clock);
        let i = *indices.get(at.checked_sub(1)?)?;
        let item = &placed[i];
        (clock < item.id.1.saturating_add(item.len.max(1))).then_some(i)
    };
    const UNKNOWN: u8 = 0;
    const PENDING: u8 = u8::MAX;
    // 0: unknown; 1..=MAX: resolved; PENDING: being resolved.
    let mut levels: Vec<Option<u8>> = vec![None; placed.len()];
    let deepest = MAX_NESTING as u8;
    for start in 0..placed.len() {
        let mut chain = vec![start];
        while let Some(&i) = chain.last() {
            if levels[i].is_some_and(|l| l != PENDING) {
                chain.pop();
                continue;
            }
            levels[i] = Some(PENDING);
            // The level of what decides this item's level: its parent type's (plus one),
            // or its origin's.
            let (target, below) = match placed[i].parent {
                Parent::Root => (None, 1u8),
                Parent::Type(id) => (Some(id), 1),
                Parent::Origins(left, right) => (left.or(right), 0),
            };
            let resolved = match target {
                None => Some(below),
                Some(id) => match find(id) {
                    Some(j) if j == i => None,
                    Some(j) => match levels[j] {
                        Some(PENDING) => None,
                        Some(level) if level != UNKNOWN => Some(level.saturating_add(below)),
                        Some(_) => None,
                        None => {
                            chain.push(j);
                            continue;
                        }
                    },
                    None => known.get(id).map(|level| level.saturating_add(below)),
                },
            };
            // An item whose origin is unknown but whose right origin is known is placed by
            // the right one, as Yjs does when the left one is gone.
            let resolved = resolved.or_else(|| match placed[i].parent {
                Parent::Origins(Some(_), Some(right)) => match find(right) {
                    Some(j) => levels[j].filter(|l| *l != PENDING && *l != UNKNOWN),
                    None => known.get(right),
                },
                _ => None,
            });
            // A shared type whose place is unknown (it builds on something not there yet)
            // is refused from clients: once what it builds on arrives, a chain built
            // bottom up would nest as deep as it likes. Stored ones count as deepest.
            let level = match resolved {
                Some(level) => level,
                None if placed[i].is_type => deepest.saturating_add(1),
                None => UNKNOWN,
            };
            if placed[i].is_type && level > deepest && strictness == Strictness::Refuse {
                return Err(ScanError::TooDeep);
            }
            levels[i] = Some(match (resolved, placed[i].is_type) {
                (None, true) => deepest,
                _ => level.min(deepest.saturating_add(1)),
            });
            chain.pop();
        }
    }
    Ok(placed
        .iter()
        .zip(levels)
        .filter_map(|(item, level)| {
            let level = level.filter(|l| *l != UNKNOWN && *l != PENDING)?;
            Some((item.id, item.len, level))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

    const ROOT: &[u8] = b"r";

    fn varint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    fn string(out: &mut Vec<u8>, s: &[u8]) {
        varint(out, s.len() as u64);
        out.extend_from_slice(s);
    }

    /// Where a hand-made item goes.
    #[derive(Clone, Copy)]
    enum At {
        Root,
        In(Id),
        After(Id),
    }

    /// A v1 update holding one item of `kind` with `content` by `client` at `clock`.
    fn item_at(client: u64, clock: u32, at: At, kind: u8, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(&mut out, 1);
        varint(&mut out, 1);
        varint(&mut out, client);
        varint(&mut out, clock as u64);
        match at {
            At::Root => {
                out.push(kind);
                varint(&mut out, 1);
                string(&mut out, ROOT);
            }
            At::In((c, k)) => {
                out.push(kind);
                varint(&mut out, 0);
                varint(&mut out, c);
                varint(&mut out, k as u64);
            }
            At::After((c, k)) => {
                out.push(kind | HAS_ORIGIN);
                varint(&mut out, c);
                varint(&mut out, k as u64);
            }
        }
        out.extend_from_slice(content);
        varint(&mut out, 0);
        out
    }

    fn item(kind: u8, content: &[u8]) -> Vec<u8> {
        item_at(1, 0, At::Root, kind, content)
    }

    /// lib0 `Any` arrays nested `depth` deep around a null.
    fn deep_any_array(depth: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..depth {
            out.extend([117, 1]);
        }
        out.push(126);
        out
    }

    /// lib0 `Any` maps nested `depth` deep around a null.
    fn deep_any_map(depth: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..depth {
            out.extend([118, 1, 1, b'k']);
        }
        out.push(126);
        out
    }

    fn deep_json(depth: usize) -> Vec<u8> {
        let mut text = "[".repeat(depth);
        text.push_str(&"]".repeat(depth));
        text.into_bytes()
    }

    /// One item of every content kind that carries values, holding `depth` levels.
    fn every_kind(depth: usize) -> Vec<(&'static str, Vec<u8>)> {
        let any = |value: Vec<u8>| {
            let mut c = vec![1];
            c.extend(value);
            c
        };
        let json = |text: Vec<u8>| {
            let mut c = Vec::new();
            string(&mut c, &text);
            c
        };
        let mut json_content = vec![0];
        string(&mut json_content, &deep_json(depth));
        let mut format = Vec::new();
        string(&mut format, b"bold");
        string(&mut format, &deep_json(depth));
        let mut doc = Vec::new();
        string(&mut doc, b"guid");
        doc.extend([118, 1]);
        string(&mut doc, b"meta");
        doc.extend(deep_any_array(depth - 2));
        vec![
            ("any arrays", item(ANY, &any(deep_any_array(depth - 1)))),
            ("any maps", item(ANY, &any(deep_any_map(depth - 1)))),
            ("json content", item(JSON, &json_content)),
            ("embed", item(EMBED, &json(deep_json(depth)))),
            ("format", item(FORMAT, &format)),
            ("subdocument options", item(DOC, &doc)),
        ]
    }

    /// Decodes, applies, re-encodes and drops `update` on a thread with a small stack: a
    /// recursion the scan let through would crash the test.
    fn yrs_survives(update: Vec<u8>) {
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                if let Ok(decoded) = Update::decode_v1(&update) {
                    let doc = Doc::new();
                    let _ = doc.transact_mut().apply_update(decoded);
                    let state = doc
                        .transact()
                        .encode_state_as_update_v1(&StateVector::default());
                    drop(doc);
                    drop(state);
                }
            })
            .expect("a thread")
            .join()
            .expect("yrs did not panic");
    }

    #[test]
    fn values_nested_too_deep_are_refused_in_every_content_kind() {
        for (kind, update) in every_kind(10_000) {
            assert_eq!(scan_update(&update), Err(ScanError::TooDeep), "{kind}");
        }
        for (kind, update) in every_kind(MAX_NESTING + 1) {
            assert_eq!(scan_update(&update), Err(ScanError::TooDeep), "{kind}");
        }
        for (kind, update) in every_kind(MAX_NESTING) {
            let shape = scan_update(&update).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(shape.depth, MAX_NESTING, "{kind}");
            yrs_survives(update);
        }
    }

    #[test]
    fn yrs_reads_what_the_scan_accepts() {
        let doc = Doc::new();
        let map = doc.get_or_insert_map("m");
        let text = doc.get_or_insert_text("t");
        let update = {
            let mut txn = doc.transact_mut();
            yrs::Map::insert(
                &map,
                &mut txn,
                "a",
                yrs::Any::from(vec![yrs::Any::from(1.5)]),
            );
            yrs::Map::insert(&map, &mut txn, "b", yrs::MapPrelim::default());
            yrs::Text::insert(&text, &mut txn, 0, "héllo");
            txn.encode_update_v1()
        };
        let shape = scan_update(&update).unwrap();
        assert_eq!(shape.items, 3);
        assert_eq!(shape.types, 1);
        assert_eq!(shape.depth, 2);
        assert!(shape.memory(update.len()) > update.len() as u64);
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        assert!(scan_update(&state).is_ok());
        assert!(item_levels(&state, &Levels::default(), Strictness::Refuse).is_ok());
    }

    #[test]
    fn counts_the_bytes_cannot_hold_are_refused() {
        let mut huge = vec![1];
        varint(&mut huge, u32::MAX as u64);
        assert!(matches!(
            scan_update(&item(ANY, &huge)),
            Err(ScanError::Malformed(_))
        ));
        let mut wide_map = vec![1, 118];
        varint(&mut wide_map, 1 << 40);
        assert!(matches!(
            scan_update(&item(ANY, &wide_map)),
            Err(ScanError::Malformed(_))
        ));
        let mut clients = Vec::new();
        varint(&mut clients, 1 << 30);
        assert!(matches!(
            scan_update(&clients),
            Err(ScanError::Malformed(_))
        ));
        let big_client = item_at(1 << 60, 0, At::Root, ANY, &[1, 126]);
        assert!(matches!(
            scan_update(&big_client),
            Err(ScanError::Malformed(_))
        ));
    }

    /// A shared map created by `client` at `clock`, placed by `at`.
    fn map_at(client: u64, clock: u32, at: At) -> Vec<u8> {
        item_at(client, clock, at, TYPE, &[1])
    }

    /// Feeds updates through a board's levels as a room does; the first refused one's index.
    fn first_refused(updates: &[Vec<u8>]) -> Option<usize> {
        let mut levels = Levels::default();
        for (i, update) in updates.iter().enumerate() {
            scan_update(update).expect("well-formed");
            match item_levels(update, &levels, Strictness::Refuse) {
                Ok(placed) => levels.record(&placed),
                Err(ScanError::TooDeep) => return Some(i),
                Err(e) => panic!("{e}"),
            }
        }
        None
    }

    #[test]
    fn shared_types_nested_across_updates_stop_at_the_limit() {
        // Each update nests a map in the previous one, by naming it as the parent.
        let chain: Vec<Vec<u8>> = (0..40u32)
            .map(|k| map_at(1, k, if k == 0 { At::Root } else { At::In((1, k - 1)) }))
            .collect();
        assert_eq!(first_refused(&chain), Some(MAX_NESTING));
        // The same, each map placed beside a value already inside the previous one.
        let mut beside = vec![map_at(1, 0, At::Root)];
        for k in 1..40u32 {
            beside.push(item_at(
                1,
                2 * k - 1,
                At::In((1, 2 * k - 2)),
                ANY,
                &[1, 126],
            ));
            beside.push(map_at(1, 2 * k, At::After((1, 2 * k - 1))));
        }
        assert_eq!(first_refused(&beside), Some(2 * MAX_NESTING));
        // Built bottom up, each map's parent not there yet: nothing may nest in them.
        let upside_down: Vec<Vec<u8>> = (1..40u32)
            .rev()
            .map(|k| map_at(2, k, At::In((2, k - 1))))
            .collect();
        assert_eq!(first_refused(&upside_down), Some(0));
    }

    #[test]
    fn levels_merge_runs_and_keep_what_they_know() {
        let mut levels = Levels::default();
        levels.record(&[
            ((1, 0), 5, 1),
            ((1, 5), 3, 1),
            ((1, 8), 2, 2),
            ((1, 0), 9, 7),
        ]);
        assert_eq!(levels.runs(), 2);
        assert_eq!(levels.get((1, 7)), Some(1));
        assert_eq!(levels.get((1, 9)), Some(2));
        assert_eq!(levels.get((1, 10)), None);
        assert_eq!(levels.get((2, 0)), None);
    }

    /// A nesting of values to encode in any content kind.
    #[derive(Debug, Clone)]
    enum Nest {
        Leaf(u8),
        Array(Vec<Nest>),
        Map(Vec<Nest>),
    }

    impl Nest {
        fn depth(&self) -> usize {
            match self {
                Nest::Leaf(_) => 1,
                Nest::Array(items) | Nest::Map(items) => {
                    1 + items.iter().map(Nest::depth).max().unwrap_or(0)
                }
            }
        }

        fn any(&self, out: &mut Vec<u8>) {
            match self {
                Nest::Leaf(0) => out.push(126),
                Nest::Leaf(1) => out.extend([125, 42]),
                Nest::Leaf(2) => out.extend([119, 1, b'x']),
                Nest::Leaf(_) => out.extend([123, 0, 0, 0, 0, 0, 0, 0, 0]),
                Nest::Array(items) => {
                    out.push(117);
                    varint(out, items.len() as u64);
                    items.iter().for_each(|i| i.any(out));
                }
                Nest::Map(items) => {
                    out.push(118);
                    varint(out, items.len() as u64);
                    for (k, i) in items.iter().enumerate() {
                        string(out, format!("k{k}").as_bytes());
                        i.any(out);
                    }
                }
            }
        }

        fn json(&self, out: &mut String) {
            match self {
                Nest::Leaf(n) => out.push_str(&format!("\"{n}\"")),
                Nest::Array(items) => {
                    out.push('[');
                    for (k, i) in items.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        i.json(out);
                    }
                    out.push(']');
                }
                Nest::Map(items) => {
                    out.push('{');
                    for (k, i) in items.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        out.push_str(&format!("\"[{k}{{\":"));
                        i.json(out);
                    }
                    out.push('}');
                }
            }
        }
    }

    fn nest() -> impl Strategy<Value = Nest> {
        let leaf = (0u8..4).prop_map(Nest::Leaf);
        leaf.prop_recursive(48, 400, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Nest::Array),
                prop::collection::vec(inner, 0..6).prop_map(Nest::Map),
            ]
        })
    }

    /// A chain of one nest in a few wrapping arrays, to reach past the limit often.
    fn deep_nest() -> impl Strategy<Value = Nest> {
        (nest(), 0usize..40).prop_map(|(mut n, wraps)| {
            for _ in 0..wraps {
                n = Nest::Array(vec![n]);
            }
            n
        })
    }

    /// `nest` as the content of an item of content kind `kind` (0..5).
    fn content_of(kind: u8, nest: &Nest) -> (Vec<u8>, usize) {
        let mut text = String::new();
        nest.json(&mut text);
        let mut c = Vec::new();
        match kind {
            0 => {
                c.push(1);
                nest.any(&mut c);
                (item(ANY, &c), nest.depth())
            }
            1 => {
                c.push(0);
                string(&mut c, text.as_bytes());
                (item(JSON, &c), nest.depth())
            }
            2 => {
                string(&mut c, text.as_bytes());
                (item(EMBED, &c), nest.depth())
            }
            3 => {
                string(&mut c, b"attr");
                string(&mut c, text.as_bytes());
                (item(FORMAT, &c), nest.depth())
            }
            _ => {
                string(&mut c, b"guid");
                Nest::Map(vec![nest.clone()]).any(&mut c);
                (item(DOC, &c), nest.depth() + 1)
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Fuzz: deep and wide nestings of every content kind are refused exactly when
        /// deeper than the limit, and yrs survives whatever is accepted on a small stack.
        #[test]
        fn nestings_of_every_kind(kind in 0u8..5, nest in deep_nest()) {
            let (update, depth) = content_of(kind, &nest);
            match scan_update(&update) {
                Ok(shape) => {
                    prop_assert!(depth <= MAX_NESTING, "depth {depth} accepted");
                    prop_assert_eq!(shape.depth, depth);
                    yrs_survives(update);
                }
                Err(ScanError::TooDeep) => prop_assert!(depth > MAX_NESTING, "depth {depth} refused"),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        /// Fuzz: shared types placed at random (by parent, beside a sibling, or on things
        /// not there yet), in any order: whatever the levels accept never nests deeper
        /// than the limit, as the yrs document built from it shows.
        #[test]
        fn shared_types_in_any_order(
            steps in prop::collection::vec((0u8..4, any::<prop::sample::Index>()), 1..200),
            order in any::<prop::sample::Index>(),
        ) {
            // Item k is a map created by client 1 at clock k.
            let mut depth: Vec<usize> = Vec::new();
            let mut updates = Vec::new();
            for (k, (how, pick)) in steps.iter().enumerate() {
                let k = k as u32;
                let (at, d) = match (how, depth.is_empty()) {
                    (_, true) | (0, _) => (At::Root, 1),
                    (1, false) => {
                        let p = pick.index(depth.len());
                        (At::In((1, p as u32)), depth[p] + 1)
                    }
                    (2, false) => {
                        // Inside the newest: chains grow deep quickly.
                        let p = depth.len() - 1;
                        (At::In((1, p as u32)), depth[p] + 1)
                    }
                    _ => {
                        let p = pick.index(depth.len());
                        (At::After((1, p as u32)), depth[p])
                    }
                };
                depth.push(d);
                updates.push(map_at(1, k, at));
            }
            // Deliver a prefix in order, then the rest rotated (some before their parents).
            let cut = order.index(updates.len());
            let mut sequence: Vec<usize> = (0..updates.len()).collect();
            sequence[cut..].rotate_left(1);
            let mut levels = Levels::default();
            let doc = Doc::new();
            for k in sequence {
                if let Ok(placed) = item_levels(&updates[k], &levels, Strictness::Refuse) {
                    // Accepted means placed on what is there: as deep as the model says.
                    prop_assert!(depth[k] <= MAX_NESTING, "map {k} at depth {} accepted", depth[k]);
                    levels.record(&placed);
                    let decoded = Update::decode_v1(&updates[k]).unwrap();
                    doc.transact_mut().apply_update(decoded).unwrap();
                }
            }
            // Deleting the whole tree recurses as deep as it nests: on a small stack.
            let state = doc.transact().encode_state_as_update_v1(&StateVector::default());
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || {
                    let replica = Doc::new();
                    replica.transact_mut().apply_update(Update::decode_v1(&state).unwrap()).unwrap();
                    let root = replica.get_or_insert_array("r");
                    let len = yrs::Array::len(&root, &replica.transact());
                    yrs::Array::remove_range(&root, &mut replica.transact_mut(), 0, len);
                })
                .unwrap()
                .join()
                .unwrap();
        }
    }
}
