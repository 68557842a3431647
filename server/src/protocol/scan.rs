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
            return Err(ScanError::Malformed("a count larger than the bytes that follow"));
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
        let right = (info & HAS_RIGHT_ORIGIN != 0).then(|| self.id()).transpose()?;
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
                    let json = json_shape(self.cur.read_string()?);
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
                let json = json_shape(self.cur.read_string()?);
                self.add_json(json)?;
                Ok(1)
            }
            FORMAT => {
                self.cur.read_string()?;
                let json = json_shape(self.cur.read_string()?);
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
                    self.deeper(open.len() + 2)?;
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
    fn add_json(&mut self, (values, depth): (u64, usize)) -> Result<(), ScanError> {
        self.shape.values += values;
        self.deeper(depth)
    }
}

/// JSON text that yrs parses into an `Any` (with serde_json, which recurses): its values,
/// counted roughly, and how deep it nests (a scalar is 1, its elements 2, and so on).
fn json_shape(text: &str) -> (u64, usize) {
    let (mut values, mut depth, mut deepest) = (1u64, 0usize, 1usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in text.bytes() {
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
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth + 1);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
    }
    (values, deepest)
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
/// A shared type whose place is unknown (it builds on something the board does not hold)
/// counts as deepest, so nothing can nest inside it.
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
            let level = match resolved {
                Some(level) => level,
                None if placed[i].is_type => deepest,
                None => UNKNOWN,
            };
            if placed[i].is_type && level > deepest && strictness == Strictness::Refuse {
                return Err(ScanError::TooDeep);
            }
            levels[i] = Some(level.min(deepest.saturating_add(1)));
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
