//! Bytes on their way to clients, counted until the transport lets go of them.
//!
//! Owns [`Meter`] and [`counted`]: a frame a room hands a connection is wrapped so that its
//! bytes count against a meter from the moment it is queued until the last copy is dropped
//! (actix-ws drops a frame once it has encoded it for the socket). A room meters each
//! connection's queue, and its own frames once however many connections share them, so a
//! client that stops reading is closed by the bytes it holds, not only by the number of
//! frames. Knows nothing of sockets or rooms.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

/// A count of bytes held by frames still alive.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<AtomicUsize>);

impl Meter {
    /// Bytes counted now.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// `frame`, counted on `meter` until every copy of the bytes returned is dropped.
pub fn counted(frame: Bytes, meter: &Meter) -> Bytes {
    meter.0.fetch_add(frame.len(), Ordering::Relaxed);
    Bytes::from_owner(Counted {
        frame,
        meter: meter.clone(),
    })
}

struct Counted {
    frame: Bytes,
    meter: Meter,
}

impl AsRef<[u8]> for Counted {
    fn as_ref(&self) -> &[u8] {
        &self.frame
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.meter.0.fetch_sub(self.frame.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_count_until_the_last_copy_is_gone() {
        let meter = Meter::default();
        let frame = counted(Bytes::from(vec![7u8; 100]), &meter);
        assert_eq!(meter.get(), 100);
        assert_eq!(&frame[..3], &[7, 7, 7]);
        let copy = frame.clone();
        let slice = frame.slice(10..20);
        drop(frame);
        drop(copy);
        assert_eq!(meter.get(), 100, "a slice keeps the frame alive");
        drop(slice);
        assert_eq!(meter.get(), 0);
    }

    #[test]
    fn a_frame_counts_on_every_meter_that_wraps_it() {
        let (room, member) = (Meter::default(), Meter::default());
        let shared = counted(Bytes::from(vec![1u8; 40]), &room);
        let a = counted(shared.clone(), &member);
        let b = counted(shared.clone(), &member);
        drop(shared);
        assert_eq!((room.get(), member.get()), (40, 80));
        drop(a);
        assert_eq!((room.get(), member.get()), (40, 40));
        drop(b);
        assert_eq!((room.get(), member.get()), (0, 0));
    }
}
