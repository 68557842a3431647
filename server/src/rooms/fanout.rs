//! A room's members and the delivery of frames to them, with back-pressure.
//!
//! Owns each member's outbox, its ordered backlog for when the outbox is full, and the
//! meter of what it holds queued: handing a frame to one member or to all, moving
//! backlogs along when outboxes have room, and naming the members that cannot keep up
//! (the room closes them). Never waits on a socket. Knows nothing of the document, the
//! log or presence.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::queued::{Meter, counted};
use super::{Access, ConnId, Gone, Kick, Outbox};
use crate::domain::Role;
use crate::metrics::metrics;

/// One connection in a room.
pub(super) struct Member {
    pub(super) access: Access,
    pub(super) role: Role,
    /// Whether it has been sent sync step 2. Until then it gets no live updates: its step 2,
    /// computed from the saved document, will hold them, and a client that receives an
    /// update before the state it builds on must park it as pending.
    pub(super) synced: bool,
    out: Box<dyn Outbox>,
    /// Frames its outbox had no room for yet, oldest first; everything after the first
    /// waits here too, so frames never overtake each other.
    backlog: VecDeque<Bytes>,
    /// Bytes of its frames still queued anywhere (backlog, socket queue).
    queued: Meter,
    /// It asked for everyone's awareness: answered with the next awareness tick.
    pub(super) wants_presence: bool,
    pub(super) kick: Option<oneshot::Sender<Kick>>,
}

impl Member {
    /// A member not yet synced, with nothing queued.
    pub(super) fn new(
        access: Access,
        role: Role,
        out: Box<dyn Outbox>,
        kick: oneshot::Sender<Kick>,
    ) -> Self {
        Self {
            access,
            role,
            synced: false,
            out,
            backlog: VecDeque::new(),
            queued: Meter::default(),
            wants_presence: false,
            kick: Some(kick),
        }
    }

    /// Hands `frame` to the outbox, or to the backlog while the outbox is full (`cx` is
    /// woken when it has room) or the backlog holds older frames. Too slow once it holds
    /// `limits.frames` frames in its backlog, or more than `limits.bytes` bytes queued.
    fn offer(&mut self, frame: Bytes, limits: QueueLimits, cx: &mut Context<'_>) -> Delivery {
        if self.queued.get() > limits.bytes {
            return Delivery::Trouble(Trouble::TooSlow);
        }
        let frame = counted(frame, &self.queued);
        if self.backlog.is_empty() {
            match self.out.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    return match self.put(frame) {
                        Ok(()) => Delivery::Sent,
                        Err(Gone) => Delivery::Trouble(Trouble::Gone),
                    };
                }
                Poll::Ready(Err(Gone)) => return Delivery::Trouble(Trouble::Gone),
                Poll::Pending => {}
            }
        } else if self.backlog.len() >= limits.frames {
            return Delivery::Trouble(Trouble::TooSlow);
        }
        self.backlog.push_back(frame);
        Delivery::Backlogged
    }

    /// Moves backlogged frames to the outbox while it has room; `Ok(true)` once the
    /// backlog is empty, `Ok(false)` while the outbox is full (`cx` is woken).
    fn drain(&mut self, cx: &mut Context<'_>) -> Result<bool, Gone> {
        while !self.backlog.is_empty() {
            match self.out.poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    let frame = self.backlog.pop_front().expect("a backlogged frame");
                    self.put(frame)?;
                }
                Poll::Ready(Err(gone)) => return Err(gone),
                Poll::Pending => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Queues `frame` on the outbox, which has room, and counts it as sent.
    fn put(&mut self, frame: Bytes) -> Result<(), Gone> {
        let len = frame.len() as u64;
        self.out.send(frame)?;
        metrics().messages_out.inc();
        metrics().bytes_out.inc_by(len);
        Ok(())
    }
}

/// How much one member may have queued before it counts as too slow.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueueLimits {
    pub(super) frames: usize,
    pub(super) bytes: usize,
}

/// What went wrong delivering to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trouble {
    /// Its backlog is full: it cannot keep up.
    TooSlow,
    /// Its socket is closed.
    Gone,
}

/// What became of a frame offered to a member.
enum Delivery {
    /// In the transport's queue.
    Sent,
    /// In the member's backlog, until its outbox has room.
    Backlogged,
    /// Not delivered.
    Trouble(Trouble),
}

/// A room's members.
pub(super) struct Members {
    map: HashMap<ConnId, Member>,
    /// Members with frames in their backlog.
    backlogged: HashSet<ConnId>,
    /// How many there are, for the hub to read without asking the room.
    count: Arc<AtomicUsize>,
    /// The room's task, woken when a full outbox has room again.
    waker: Waker,
}

impl Members {
    /// No members; `count` follows how many there are.
    pub(super) fn new(count: Arc<AtomicUsize>) -> Self {
        Self {
            map: HashMap::new(),
            backlogged: HashSet::new(),
            count,
            waker: Waker::noop().clone(),
        }
    }

    /// Sets the waker of the room's task, for outboxes to wake when they have room.
    pub(super) fn set_waker(&mut self, waker: Waker) {
        self.waker = waker;
    }

    pub(super) fn insert(&mut self, conn: ConnId, member: Member) {
        self.map.insert(conn, member);
        self.count.store(self.map.len(), Ordering::Relaxed);
    }

    pub(super) fn remove(&mut self, conn: ConnId) -> Option<Member> {
        let member = self.map.remove(&conn);
        self.count.store(self.map.len(), Ordering::Relaxed);
        self.backlogged.remove(&conn);
        member
    }

    pub(super) fn get(&self, conn: ConnId) -> Option<&Member> {
        self.map.get(&conn)
    }

    pub(super) fn get_mut(&mut self, conn: ConnId) -> Option<&mut Member> {
        self.map.get_mut(&conn)
    }

    pub(super) fn contains(&self, conn: ConnId) -> bool {
        self.map.contains_key(&conn)
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(super) fn conns(&self) -> Vec<ConnId> {
        self.map.keys().copied().collect()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (&ConnId, &mut Member)> {
        self.map.iter_mut()
    }

    /// Offers `frame` to `conn`; what went wrong, if anything.
    pub(super) fn send_to(
        &mut self,
        conn: ConnId,
        frame: Bytes,
        limits: QueueLimits,
    ) -> Option<Trouble> {
        let member = self.map.get_mut(&conn)?;
        match unbudgeted(&self.waker, |cx| member.offer(frame, limits, cx)) {
            Delivery::Sent => None,
            Delivery::Backlogged => {
                self.backlogged.insert(conn);
                None
            }
            Delivery::Trouble(t) => Some(t),
        }
    }

    /// Offers `frame` to every member but `except` (and, for document updates, but those
    /// not yet synced); the members it could not reach.
    pub(super) fn broadcast(
        &mut self,
        frame: &Bytes,
        except: Option<ConnId>,
        synced_only: bool,
        limits: QueueLimits,
    ) -> Vec<(ConnId, Trouble)> {
        let (map, backlogged) = (&mut self.map, &mut self.backlogged);
        unbudgeted(&self.waker, |cx| {
            let mut troubles = Vec::new();
            for (conn, member) in map.iter_mut() {
                if Some(*conn) == except || (synced_only && !member.synced) {
                    continue;
                }
                match member.offer(frame.clone(), limits, cx) {
                    Delivery::Sent => {}
                    Delivery::Backlogged => {
                        backlogged.insert(*conn);
                    }
                    Delivery::Trouble(t) => troubles.push((*conn, t)),
                }
            }
            troubles
        })
    }

    /// The members holding the most queued bytes, heaviest first, until what they hold
    /// covers `over`.
    pub(super) fn heaviest(&self, mut over: usize) -> Vec<(ConnId, usize)> {
        let mut heaviest: Vec<(usize, ConnId)> = self
            .map
            .iter()
            .map(|(conn, m)| (m.queued.get(), *conn))
            .filter(|(queued, _)| *queued > 0)
            .collect();
        heaviest.sort_unstable_by(|a, b| b.cmp(a));
        let mut chosen = Vec::new();
        for (queued, conn) in heaviest {
            if over == 0 {
                break;
            }
            chosen.push((conn, queued));
            over = over.saturating_sub(queued);
        }
        chosen
    }

    /// Whether any member has frames waiting in its backlog.
    pub(super) fn has_backlogs(&self) -> bool {
        !self.backlogged.is_empty()
    }

    /// Moves backlogged frames into members' outboxes while they have room. Ready, with
    /// the members whose socket closed meanwhile, once every backlog is empty or a socket
    /// closed; pending (every full outbox wakes the room) while backlogs wait.
    pub(super) fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<Vec<ConnId>> {
        let mut gone = Vec::new();
        let map = &mut self.map;
        self.backlogged.retain(|conn| {
            let Some(member) = map.get_mut(conn) else {
                return false;
            };
            match member.drain(cx) {
                Ok(empty) => !empty,
                Err(Gone) => {
                    gone.push(*conn);
                    false
                }
            }
        });
        if self.backlogged.is_empty() || !gone.is_empty() {
            Poll::Ready(gone)
        } else {
            Poll::Pending
        }
    }
}

/// Runs `f` with the room's waker, outside tokio's cooperative budget: offering a frame
/// never waits, and a budget spent by the room's other work would make outboxes that have
/// room look full, sending a large room's fan-out the long way, through the backlogs.
fn unbudgeted<T>(waker: &Waker, f: impl FnOnce(&mut Context<'_>) -> T) -> T {
    let mut f = Some(f);
    let once = std::future::poll_fn(|cx| Poll::Ready(f.take().expect("polled once")(cx)));
    let mut once = std::pin::pin!(tokio::task::unconstrained(once));
    match once.as_mut().poll(&mut Context::from_waker(waker)) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("a poll_fn that is always ready"),
    }
}
