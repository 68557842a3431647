//! The y-sync wire protocol exactly as the stock `y-websocket` client speaks it, sans I/O.
//!
//! Owns decoding inbound frames into [`ClientMessage`]s (a frame may hold several) and
//! encoding the messages the server sends (one message per frame). Built on yrs's
//! `StateVector`, `Update` and `AwarenessUpdate` codecs; knows nothing of sockets, tokio,
//! rooms or SQL.
//!
//! Message layout (lib0 varints): `[type, ...]` where type 0 = sync (`[0, 0, sv]` step 1,
//! `[0, 1, update]` step 2, `[0, 2, update]` update), 1 = awareness (`[1, update]`),
//! 2 = auth, 3 = query awareness.

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::AwarenessUpdate;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::{StateVector, Update};

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

/// A decoded document update, with the bytes it came in (stored and relayed as they are).
#[derive(Debug)]
pub struct DocUpdate {
    /// The update in the v1 encoding, as received.
    pub raw: Vec<u8>,
    /// The decoded update, ready to apply.
    pub update: Update,
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
pub fn decode_frame(frame: &[u8]) -> Result<Vec<ClientMessage>, ProtocolError> {
    if frame.is_empty() {
        return Err(ProtocolError::Empty);
    }
    let mut cursor = Cursor::new(frame);
    let mut out = Vec::with_capacity(1);
    while cursor.has_content() {
        let kind: u32 = cursor.read_var()?;
        match kind {
            MSG_SYNC => {
                let sub: u32 = cursor.read_var()?;
                let payload = cursor.read_buf()?;
                out.push(match sub {
                    SYNC_STEP_1 => ClientMessage::SyncStep1(guarded("state vector", || {
                        StateVector::decode_v1(payload)
                    })?),
                    SYNC_STEP_2 => ClientMessage::SyncStep2(decode_update(payload)?),
                    SYNC_UPDATE => ClientMessage::Update(decode_update(payload)?),
                    other => return Err(ProtocolError::UnknownSyncType(other)),
                });
            }
            MSG_AWARENESS => {
                let payload = cursor.read_buf()?;
                let update = guarded("awareness update", || AwarenessUpdate::decode_v1(payload))?;
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

fn decode_update(payload: &[u8]) -> Result<DocUpdate, ProtocolError> {
    let update = guarded("update", || Update::decode_v1(payload))?;
    Ok(DocUpdate {
        raw: payload.to_vec(),
        update,
    })
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
        let decoded: Vec<_> = frames.iter().map(|f| decode_frame(f).unwrap()).collect();
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
        let msgs = decode_frame(&frame).unwrap();
        assert_eq!(msgs.len(), 3);
        assert!(matches!(&msgs[1], ClientMessage::Awareness(u) if encode_awareness(u) == aw_msg));
    }

    #[test]
    fn unknown_types_end_the_frame_like_y_websocket() {
        let mut frame = encode_update(&doc_update());
        frame.extend([7, 1, 2, 3]);
        let msgs = decode_frame(&frame).unwrap();
        assert_eq!(msgs.len(), 1);
        assert!(decode_frame(&[9]).unwrap().is_empty());
        assert!(matches!(
            decode_frame(&[3]).unwrap()[..],
            [ClientMessage::QueryAwareness]
        ));
        assert!(matches!(
            decode_frame(&[2, 0, 3, b'n', b'o', b'!']).unwrap()[..],
            [ClientMessage::Auth]
        ));
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        assert_eq!(decode_frame(&[]).unwrap_err(), ProtocolError::Empty);
        let update = encode_update(&doc_update());
        assert_eq!(
            decode_frame(&update[..update.len() - 3]).unwrap_err(),
            ProtocolError::Truncated
        );
        assert_eq!(
            decode_frame(&[0, 9, 0]).unwrap_err(),
            ProtocolError::UnknownSyncType(9)
        );
        // A length of 2^63 in a varint: must not allocate or panic.
        let huge = [0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(decode_frame(&huge).is_err());
        assert!(
            decode_frame(&[0, 2, 3, 0xff, 0xff, 0xff]).is_err(),
            "undecodable update"
        );
        assert!(
            decode_frame(&[1, 2, 0xff, 0xff]).is_err(),
            "undecodable awareness"
        );
        assert!(decode_frame(&[0xff; 12]).is_err(), "varint overflow");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Fuzz: no input makes the decoder panic or allocate without bound.
        #[test]
        fn arbitrary_bytes_never_panic(frame in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = decode_frame(&frame);
        }

        /// Fuzz: valid frames with a corrupted byte or a cut end never panic either.
        #[test]
        fn mutated_valid_frames_never_panic(at in 0usize..64, byte in proptest::prelude::any::<u8>(), cut in 0usize..64) {
            let mut frame = encode_update(&doc_update());
            let i = at % frame.len();
            frame[i] = byte;
            frame.truncate(frame.len().saturating_sub(cut % frame.len()));
            let _ = decode_frame(&frame);
        }
    }
}
