//! The y-sync wire protocol exactly as the stock `y-websocket` client speaks it, sans I/O.
//!
//! Owns decoding inbound frames into [`ClientMessage`]s (a frame may hold several, up to
//! [`FrameLimits::max_messages`]) and encoding the messages the server sends (one message
//! per frame). Every update is walked by [`scan`] before yrs decodes it, and awareness
//! payloads are decoded here with their sizes bounded, so no frame can make yrs recurse
//! without bound or reserve memory its bytes do not back. Built on yrs's `StateVector`,
//! `Update` and `AwarenessUpdate` types; knows nothing of sockets, tokio, rooms or SQL.
//!
//! Message layout (lib0 varints): `[type, ...]` where type 0 = sync (`[0, 0, sv]` step 1,
//! `[0, 1, update]` step 2, `[0, 2, update]` update), 1 = awareness (`[1, update]`),
//! 2 = auth, 3 = query awareness.

pub mod scan;

use std::collections::HashMap;

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::AwarenessUpdate;
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::{ClientID, StateVector, Update};

pub use scan::{ScanError, Shape};

/// Message type: document sync.
pub const MSG_SYNC: u32 = 0;
/// Message type: awareness (cursors, presence).
pub const MSG_AWARENESS: u32 = 1;
/// Message type: auth (stock clients only log it; the server ignores it).
pub const MSG_AUTH: u32 = 2;
/// Message type: a request for everyone's awareness.
pub const MSG_QUERY_AWARENESS: u32 = 3;
const SYNC_STEP_1: u32 = 0;
const SYNC_STEP_2: u32 = 1;
const SYNC_UPDATE: u32 = 2;

/// The largest client id Yjs produces (53 bits); yrs asserts on larger ones.
const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// The most messages one inbound frame may carry. The stock client sends one per frame;
/// a frame of tiny messages would otherwise cost far more memory decoded than its bytes.
pub const MAX_MESSAGES_PER_FRAME: usize = 256;

/// What one inbound frame may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Most messages in one frame (the stock client sends one per frame).
    pub max_messages: usize,
    /// Largest awareness state (its JSON text) a client may set, in bytes.
    pub max_awareness_bytes: usize,
    /// Most memory the frame's updates may take decoded, as the pre-scan estimates it.
    pub max_memory: u64,
}

/// A decoded document update, with the bytes it came in (stored and relayed as they are).
#[derive(Debug)]
pub struct DocUpdate {
    /// The update in the v1 encoding, as received.
    pub raw: Vec<u8>,
    /// The decoded update, ready to apply.
    pub update: Update,
    /// What it holds, as the pre-scan counted it.
    pub shape: Shape,
}

impl DocUpdate {
    /// Whether it changes nothing (a client with nothing new answers sync step 1 with one).
    pub fn is_empty(&self) -> bool {
        self.update.is_empty()
    }
}

/// One message from a client.
#[derive(Debug)]
pub enum ClientMessage {
    /// "Here is my state vector; send me what I lack."
    SyncStep1(StateVector),
    /// "Here is what you lack" (the answer to the server's step 1).
    SyncStep2(DocUpdate),
    /// A live edit.
    Update(DocUpdate),
    /// Presence (cursors, names): the decoded awareness update.
    Awareness(AwarenessUpdate),
    /// "Send me everyone's awareness."
    QueryAwareness,
    /// Auth messages are ignored (the stock client only logs them).
    Auth,
}

impl ClientMessage {
    /// A short name of the message's kind, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::SyncStep1(_) => "sync_step1",
            ClientMessage::SyncStep2(_) => "sync_step2",
            ClientMessage::Update(_) => "update",
            ClientMessage::Awareness(_) => "awareness",
            ClientMessage::QueryAwareness => "query_awareness",
            ClientMessage::Auth => "auth",
        }
    }
}

/// Why a frame could not be decoded. The connection is closed with 1007.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The frame was empty.
    #[error("empty frame")]
    Empty,
    /// The frame ended in the middle of a message, or a length ran past its end.
    #[error("truncated message")]
    Truncated,
    /// A sync message with an unknown sub-type.
    #[error("unknown sync message type {0}")]
    UnknownSyncType(u32),
    /// A state vector, update or awareness payload that does not decode.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// An update the pre-scan refused (nested too deep, or malformed).
    #[error(transparent)]
    Update(#[from] ScanError),
    /// More messages in one frame than [`FrameLimits::max_messages`].
    #[error("more than {0} messages in one frame")]
    TooManyMessages(usize),
    /// An awareness state larger than [`FrameLimits::max_awareness_bytes`].
    #[error("an awareness state over {0} bytes")]
    AwarenessTooLarge(usize),
    /// Updates that would take more memory decoded than [`FrameLimits::max_memory`].
    #[error("updates that would take over {0} bytes of memory")]
    TooCostly(u64),
}

impl From<yrs::encoding::read::Error> for ProtocolError {
    fn from(e: yrs::encoding::read::Error) -> Self {
        match e {
            yrs::encoding::read::Error::EndOfBuffer(_) => ProtocolError::Truncated,
            _ => ProtocolError::Malformed("varint"),
        }
    }
}

/// Decodes every message in one inbound frame. Like `y-websocket`, a message of an unknown
/// type ends decoding of the frame (its length is unknown), keeping what came before it.
pub fn decode_frame(
    frame: &[u8],
    limits: &FrameLimits,
) -> Result<Vec<ClientMessage>, ProtocolError> {
    if frame.is_empty() {
        return Err(ProtocolError::Empty);
    }
    let mut cursor = Cursor::new(frame);
    let mut out = Vec::with_capacity(1);
    let mut budget = limits.max_memory;
    while cursor.has_content() {
        if out.len() == limits.max_messages {
            return Err(ProtocolError::TooManyMessages(limits.max_messages));
        }
        let kind: u32 = cursor.read_var()?;
        match kind {
            MSG_SYNC => {
                let sub: u32 = cursor.read_var()?;
                let payload = cursor.read_buf()?;
                out.push(match sub {
                    SYNC_STEP_1 => ClientMessage::SyncStep1(decode_state_vector(payload)?),
                    SYNC_STEP_2 => ClientMessage::SyncStep2(decode_within(payload, &mut budget)?),
                    SYNC_UPDATE => ClientMessage::Update(decode_within(payload, &mut budget)?),
                    other => return Err(ProtocolError::UnknownSyncType(other)),
                });
            }
            MSG_AWARENESS => {
                let payload = cursor.read_buf()?;
                let update = decode_awareness(payload, limits.max_awareness_bytes)?;
                out.push(ClientMessage::Awareness(update));
            }
            MSG_AUTH => {
                let permission: u32 = cursor.read_var()?;
                if permission == 0 {
                    cursor.read_string()?;
                }
                out.push(ClientMessage::Auth);
            }
            MSG_QUERY_AWARENESS => out.push(ClientMessage::QueryAwareness),
            _ => break,
        }
    }
    Ok(out)
}

/// Decodes a v1 update that passes the [`scan`] and whose estimated memory fits `budget`,
/// which it then takes from.
fn decode_within(payload: &[u8], budget: &mut u64) -> Result<DocUpdate, ProtocolError> {
    let shape = scan::scan_update(payload)?;
    let memory = shape.memory(payload.len());
    *budget = budget
        .checked_sub(memory)
        .ok_or(ProtocolError::TooCostly(memory))?;
    let update = guarded("update", || Update::decode_v1(payload))?;
    Ok(DocUpdate {
        raw: payload.to_vec(),
        update,
        shape,
    })
}

/// A state vector: pairs of varints, whose count must fit the bytes before yrs reserves
/// room for it.
fn decode_state_vector(payload: &[u8]) -> Result<StateVector, ProtocolError> {
    let mut cursor = Cursor::new(payload);
    let count: u64 = cursor.read_var()?;
    if count.saturating_mul(2) > (payload.len() - cursor.next) as u64 {
        return Err(ProtocolError::Malformed("state vector"));
    }
    for _ in 0..count {
        let client: u64 = cursor.read_var()?;
        let _clock: u32 = cursor.read_var()?;
        if client > MAX_CLIENT_ID {
            return Err(ProtocolError::Malformed("state vector"));
        }
    }
    guarded("state vector", || StateVector::decode_v1(payload))
}

/// An awareness payload (y-protocols): a count, then per client its id, clock and state as
/// JSON text. Decoded here rather than by yrs, which reserves room for the count first.
pub fn decode_awareness(
    payload: &[u8],
    max_state: usize,
) -> Result<AwarenessUpdate, ProtocolError> {
    const WHAT: ProtocolError = ProtocolError::Malformed("awareness update");
    let mut cursor = Cursor::new(payload);
    let count: u64 = cursor.read_var()?;
    if count.saturating_mul(3) > (payload.len() - cursor.next) as u64 {
        return Err(WHAT);
    }
    let mut clients = HashMap::new();
    for _ in 0..count {
        let client: u64 = cursor.read_var()?;
        let clock: u32 = cursor.read_var()?;
        let json = cursor.read_string()?;
        if client > MAX_CLIENT_ID {
            return Err(WHAT);
        }
        if json.len() > max_state {
            return Err(ProtocolError::AwarenessTooLarge(max_state));
        }
        clients.insert(
            ClientID::new(client),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
    }
    Ok(AwarenessUpdate { clients })
}

/// Runs a yrs decoder, turning its errors and its panics into [`ProtocolError::Malformed`]:
/// yrs asserts on some out-of-range values (client ids over 53 bits) in debug builds, and
/// hostile input must never take a task down.
fn guarded<T, E>(
    what: &'static str,
    decode: impl FnOnce() -> Result<T, E>,
) -> Result<T, ProtocolError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(_) => Err(ProtocolError::Malformed(what)),
    }
}

fn sync_message(sub: u32, payload: &[u8]) -> Vec<u8> {
    let mut e = EncoderV1::new();
    e.write_var(MSG_SYNC);
    e.write_var(sub);
    e.write_buf(payload);
    e.to_vec()
}

/// `[0, 0, sv]`: the server's sync step 1.
pub fn encode_sync_step1(sv: &StateVector) -> Vec<u8> {
    sync_message(SYNC_STEP_1, &sv.encode_v1())
}

/// `[0, 1, update]`: the server's answer to a client's step 1.
pub fn encode_sync_step2(update_v1: &[u8]) -> Vec<u8> {
    sync_message(SYNC_STEP_2, update_v1)
}

/// `[0, 2, update]`: a live update fanned out to the room.
pub fn encode_update(update_v1: &[u8]) -> Vec<u8> {
    sync_message(SYNC_UPDATE, update_v1)
}

/// `[1, awareness]`: presence of some clients.
pub fn encode_awareness(update: &AwarenessUpdate) -> Vec<u8> {
    let mut e = EncoderV1::new();
    e.write_var(MSG_AWARENESS);
    e.write_buf(update.encode_v1());
    e.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Map, ReadTxn, Transact};

    const LIMITS: FrameLimits = FrameLimits {
        max_messages: 64,
        max_awareness_bytes: 1024,
        max_memory: 1 << 20,
    };

    fn decode(frame: &[u8]) -> Result<Vec<ClientMessage>, ProtocolError> {
        decode_frame(frame, &LIMITS)
    }

    fn doc_update() -> Vec<u8> {
        let doc = Doc::new();
        let map = doc.get_or_insert_map("elements");
        let mut txn = doc.transact_mut();
        map.insert(&mut txn, "a", "rect");
        txn.encode_update_v1()
    }

    #[test]
    fn round_trips_every_server_message() {
        let update = doc_update();
        let sv = StateVector::default();
        let frames = [
            encode_sync_step1(&sv),
            encode_sync_step2(&update),
            encode_update(&update),
        ];
        let decoded: Vec<_> = frames.iter().map(|f| decode(f).unwrap()).collect();
        assert!(matches!(&decoded[0][..], [ClientMessage::SyncStep1(s)] if *s == sv));
        assert!(
            matches!(&decoded[1][..], [ClientMessage::SyncStep2(u)] if u.raw == update && !u.is_empty())
        );
        assert!(matches!(&decoded[2][..], [ClientMessage::Update(u)] if u.raw == update));
    }

    #[test]
    fn several_messages_in_one_frame_all_decode() {
        let doc = Doc::new();
        let awareness = yrs::sync::Awareness::new(doc);
        awareness.doc().get_or_insert_map("x");
        let mut aw = yrs::sync::Awareness::new(Doc::new());
        aw.set_local_state(serde_json::json!({"user": {"name": "Ada"}}))
            .unwrap();
        let aw_msg = encode_awareness(&aw.update().unwrap());
        let mut frame = encode_sync_step1(&awareness.doc().transact().state_vector());
        frame.extend(&aw_msg);
        frame.extend(encode_update(&doc_update()));
        let msgs = decode(&frame).unwrap();
        assert_eq!(msgs.len(), 3);
        assert!(matches!(&msgs[1], ClientMessage::Awareness(u) if encode_awareness(u) == aw_msg));
    }

    #[test]
    fn unknown_types_end_the_frame_like_y_websocket() {
        let mut frame = encode_update(&doc_update());
        frame.extend([7, 1, 2, 3]);
        let msgs = decode(&frame).unwrap();
        assert_eq!(msgs.len(), 1);
        assert!(decode(&[9]).unwrap().is_empty());
        assert!(matches!(
            decode(&[3]).unwrap()[..],
            [ClientMessage::QueryAwareness]
        ));
        assert!(matches!(
            decode(&[2, 0, 3, b'n', b'o', b'!']).unwrap()[..],
            [ClientMessage::Auth]
        ));
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        assert_eq!(decode(&[]).unwrap_err(), ProtocolError::Empty);
        let update = encode_update(&doc_update());
        assert_eq!(
            decode(&update[..update.len() - 3]).unwrap_err(),
            ProtocolError::Truncated
        );
        assert_eq!(
            decode(&[0, 9, 0]).unwrap_err(),
            ProtocolError::UnknownSyncType(9)
        );
        // A length of 2^63 in a varint: must not allocate or panic.
        let huge = [0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(decode(&huge).is_err());
        assert!(
            decode(&[0, 2, 3, 0xff, 0xff, 0xff]).is_err(),
            "undecodable update"
        );
        assert!(
            decode(&[1, 2, 0xff, 0xff]).is_err(),
            "undecodable awareness"
        );
        assert!(decode(&[0xff; 12]).is_err(), "varint overflow");
    }

    /// `[0, 2, update]` around an update whose one item holds `depth` nested arrays.
    fn deeply_nested_update(depth: usize) -> Vec<u8> {
        // One client, one block at clock 0, an Any item in root "r" holding one value.
        let mut update = vec![1, 1, 1, 0, 8, 1, 1, b'r', 1];
        for _ in 0..depth {
            update.extend([117, 1]);
        }
        update.extend([126, 0]);
        update
    }

    #[test]
    fn the_nesting_that_aborted_the_server_is_refused() {
        let update = deeply_nested_update(10_000);
        for frame in [encode_update(&update), encode_sync_step2(&update)] {
            assert_eq!(
                decode(&frame).unwrap_err(),
                ProtocolError::Update(ScanError::TooDeep)
            );
        }
        let shallow = deeply_nested_update(scan::MAX_NESTING - 1);
        assert!(matches!(
            &decode(&encode_update(&shallow)).unwrap()[..],
            [ClientMessage::Update(_)]
        ));
    }

    #[test]
    fn a_frame_is_bounded_in_messages_memory_and_awareness() {
        let queries = vec![MSG_QUERY_AWARENESS as u8; LIMITS.max_messages + 1];
        assert_eq!(
            decode(&queries).unwrap_err(),
            ProtocolError::TooManyMessages(LIMITS.max_messages)
        );
        assert_eq!(decode(&queries[1..]).unwrap().len(), LIMITS.max_messages);

        let state = |json: &str| {
            let mut aw = yrs::sync::Awareness::new(Doc::new());
            aw.set_local_state_raw(json);
            encode_awareness(&aw.update().unwrap())
        };
        let big = format!("\"{}\"", "x".repeat(LIMITS.max_awareness_bytes));
        assert_eq!(
            decode(&state(&big)).unwrap_err(),
            ProtocolError::AwarenessTooLarge(LIMITS.max_awareness_bytes)
        );
        assert!(decode(&state("{}")).is_ok());

        // Nulls cost far more decoded than their one byte each.
        let mut nulls = vec![1, 1, 1, 0, 8, 1, 1, b'r'];
        let n = 100_000u32;
        let mut count = Vec::new();
        let mut v = n;
        while v >= 0x80 {
            count.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        count.push(v as u8);
        nulls.extend(count);
        nulls.extend(std::iter::repeat_n(126, n as usize));
        nulls.push(0);
        assert!(matches!(
            decode(&encode_update(&nulls)).unwrap_err(),
            ProtocolError::TooCostly(_)
        ));
    }

    #[test]
    fn counts_past_the_payload_are_refused_before_yrs_reserves_for_them() {
        // A state vector and an awareness update claiming a billion entries.
        let sv = [0, 0, 5, 0x80, 0x80, 0x80, 0x80, 0x04];
        assert!(decode(&sv).is_err());
        let aw = [1, 5, 0x80, 0x80, 0x80, 0x80, 0x04];
        assert!(decode(&aw).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Fuzz: no input makes the decoder panic or allocate without bound.
        #[test]
        fn arbitrary_bytes_never_panic(frame in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = decode(&frame);
        }

        /// Fuzz: valid frames with a corrupted byte or a cut end never panic either.
        #[test]
        fn mutated_valid_frames_never_panic(at in 0usize..64, byte in proptest::prelude::any::<u8>(), cut in 0usize..64) {
            let mut frame = encode_update(&doc_update());
            let i = at % frame.len();
            frame[i] = byte;
            frame.truncate(frame.len().saturating_sub(cut % frame.len()));
            let _ = decode(&frame);
        }
    }
}
