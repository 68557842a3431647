//! The change feed's follower: access changes made anywhere (this process, another node,
//! the `easel` command line) reach this node's live connections.
//!
//! Owns one task per server. It reads the store's change feed after the last event id it
//! applied, in id order (the order the changes committed), turns each event into the
//! hub's [`AccessChange`] or board deletion, and applies it. It reads when the database
//! announces a new event (Postgres `LISTEN`), every [`FeedSettings::poll`] where nothing
//! can be announced (SQLite, or while the listening connection is being re-opened), and
//! every [`FeedSettings::backstop`] in any case. A lost or new listening connection is
//! followed by a read from the last id applied, so an announcement missed meanwhile costs
//! nothing. It also prunes events older than [`FeedSettings::retention`].
//!
//! A process applies its own changes at once, before this task reads them back (the HTTP
//! handlers call the hub themselves). Reading them again is harmless: an event carries the
//! state after its change, not a difference, so applying it twice is the same as once,
//! and the feed applies every process's events, its own included, in commit order, so the
//! connections end as the store says. Events of one read that a later event of the same
//! read supersedes (the same member, the same account flag) are dropped, so an old grant
//! read back is never in force even for a moment before the change that followed it.
//!
//! The same listening connection carries the other news processes sharing a database
//! give each other: a board's log grew ([`Hub::log_advanced`]: its live room reads the
//! rows) and relayed messages such as presence ([`Hub::from_peer`]). Whenever the listener
//! is (re)opened, every live room reads its log too ([`Hub::recheck_logs`]), so a
//! notification missed while it was down costs nothing.
//!
//! Knows nothing of SQL (the store reads and writes the feed) or of HTTP.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::cluster::PeerMessage;
use crate::domain::{BoardId, UserId};
use crate::metrics::metrics;
use crate::rooms::{AccessChange, Hub};
use crate::store::{Event, FeedEvent, Notice, Store, StoreError, Subscription, now_ms};

/// Most events one read of the feed returns.
const PAGE: u32 = 500;
/// Longest wait before re-opening a lost listening connection.
const MAX_RECONNECT_WAIT: Duration = Duration::from_secs(5);

/// How the follower reads, and how long the feed keeps events.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// How often to read the feed when nothing announces new events (`EASEL_EVENT_POLL_MS`).
    pub poll: Duration,
    /// How often to read it anyway while a listening connection announces them.
    pub backstop: Duration,
    /// Events older than this are pruned.
    pub retention: Duration,
    /// How often to prune.
    pub prune_every: Duration,
}

impl FeedSettings {
    /// The follower's settings with the given poll interval, a 5 s backstop, an hour's
    /// retention and a prune every minute.
    pub fn with_poll(poll: Duration) -> Self {
        Self {
            poll,
            backstop: Duration::from_secs(5),
            retention: Duration::from_secs(3600),
            prune_every: Duration::from_secs(60),
        }
    }
}

/// Where a change goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Apply {
    /// To the live connections of one board.
    Board(BoardId, AccessChange),
    /// To every live connection.
    Everywhere(AccessChange),
    /// The board is gone: its room closes (4404).
    Deleted(BoardId),
}

/// What an event means for live connections; `None` when nothing live is affected (an
/// account enabled again has no connections; an unknown kind is skipped).
fn apply_of(event: &Event) -> Option<Apply> {
    Some(match event {
        Event::Member { board, user, role } => Apply::Board(
            *board,
            AccessChange::Member {
                user: user.clone(),
                role: *role,
            },
        ),
        Event::LinkRevoked { board, link } => {
            Apply::Board(*board, AccessChange::LinkRevoked(*link))
        }
        Event::UserDisabled {
            user,
            disabled: true,
        } => Apply::Everywhere(AccessChange::UserDisabled(user.clone())),
        Event::UserDisabled {
            disabled: false, ..
        }
        | Event::Unknown => return None,
        Event::Admin { user, admin } => Apply::Everywhere(AccessChange::Admin {
            user: user.clone(),
            admin: *admin,
        }),
        Event::TokenRevoked { user, jti } => Apply::Everywhere(AccessChange::TokenRevoked {
            user: user.clone(),
            jti: jti.clone(),
        }),
        Event::BoardDeleted { board } => Apply::Deleted(*board),
    })
}

/// The thing an event sets the state of, for events a later one replaces whole. Events
/// that only ever take access away for good (a revoked link or token, a deleted board)
/// have none: nothing later undoes them.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Subject<'a> {
    Member(BoardId, &'a UserId),
    Disabled(&'a UserId),
    Admin(&'a UserId),
}

fn subject(event: &Event) -> Option<Subject<'_>> {
    match event {
        Event::Member { board, user, .. } => Some(Subject::Member(*board, user)),
        Event::UserDisabled { user, .. } => Some(Subject::Disabled(user)),
        Event::Admin { user, .. } => Some(Subject::Admin(user)),
        _ => None,
    }
}

/// What to apply for a read of the feed, in order: each event's change, except events a
/// later event of the same read supersedes.
fn plan(events: &[FeedEvent]) -> Vec<Apply> {
    let mut seen = HashSet::new();
    let mut kept: Vec<&Event> = events
        .iter()
        .rev()
        .map(|e| &e.event)
        .filter(|e| subject(e).is_none_or(|s| seen.insert(s)))
        .collect();
    kept.reverse();
    kept.into_iter().filter_map(apply_of).collect()
}

/// Reads events from the feed.
#[async_trait]
trait Source: Send + Sync {
    /// Up to `limit` events after id `after`, in id order.
    async fn after(&self, after: i64, limit: u32) -> Result<Vec<FeedEvent>, StoreError>;
}

#[async_trait]
impl Source for Arc<dyn Store> {
    async fn after(&self, after: i64, limit: u32) -> Result<Vec<FeedEvent>, StoreError> {
        self.events_after(after, limit).await
    }
}

/// Applies changes to live connections.
#[async_trait]
trait Target: Send + Sync {
    /// Applies one change.
    async fn apply(&self, change: Apply);
}

#[async_trait]
impl Target for Hub {
    async fn apply(&self, change: Apply) {
        match change {
            Apply::Board(board, change) => self.change_access(board, change).await,
            Apply::Everywhere(change) => self.change_access_everywhere(change).await,
            Apply::Deleted(board) => self.board_deleted(board).await,
        }
    }
}

/// The last event id applied, and catching up from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor(i64);

impl Cursor {
    /// Reads and applies every event after the cursor, a page at a time, moving the cursor
    /// past each page once it is applied. On an error the cursor stays after the last
    /// page applied, so the next call resumes there. Returns how many events were read.
    async fn catch_up(
        &mut self,
        source: &impl Source,
        target: &impl Target,
        page: u32,
    ) -> Result<usize, StoreError> {
        let mut read = 0;
        loop {
            let events = source.after(self.0, page).await?;
            let Some(last) = events.last().map(|e| e.id) else {
                return Ok(read);
            };
            for event in events.iter().filter(|e| e.event == Event::Unknown) {
                tracing::warn!(
                    event_id = event.id,
                    "skipping a change-feed event this version cannot read"
                );
            }
            for change in plan(&events) {
                target.apply(change).await;
            }
            read += events.len();
            self.0 = last;
            if events.len() < page as usize {
                return Ok(read);
            }
        }
    }
}

/// Starts following the change feed from its newest event (this node has no connections
/// yet, so nothing older concerns it): call before the server accepts connections, so no
/// change committed after a connection's access was read can be missed. The task is
/// tracked by the hub and stops when the hub shuts down.
pub async fn follow(
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    settings: FeedSettings,
) -> Result<(), StoreError> {
    let cursor = Cursor(store.latest_event_id().await?);
    let shutdown = hub.shutdown_token();
    hub.tracker().spawn(async move {
        Follower {
            store,
            hub,
            settings,
            cursor,
        }
        .run(shutdown)
        .await;
    });
    Ok(())
}

struct Follower {
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    settings: FeedSettings,
    cursor: Cursor,
}

impl Follower {
    async fn run(mut self, shutdown: CancellationToken) {
        let mut listening: Option<Box<dyn Subscription>> = None;
        // Whether the backend can announce events at all (known after the first try).
        let mut announces = true;
        let mut reconnect_at = Instant::now();
        let mut reconnect_wait = self.settings.poll;
        let mut prune = tokio::time::interval(self.settings.prune_every);
        prune.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut next_read = Instant::now();
        loop {
            if announces && listening.is_none() && Instant::now() >= reconnect_at {
                let subscribed = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    subscribed = self.store.subscribe() => subscribed,
                };
                match subscribed {
                    Ok(Some(subscription)) => {
                        tracing::debug!("listening for change-feed announcements");
                        listening = Some(subscription);
                        reconnect_wait = self.settings.poll;
                        // Whatever was announced while nobody listened is read now.
                        next_read = Instant::now();
                        self.hub.recheck_logs();
                    }
                    Ok(None) => announces = false,
                    Err(e) => {
                        tracing::warn!(error = %crate::telemetry::chain(&e), "cannot listen for change-feed announcements; polling meanwhile");
                        reconnect_at = Instant::now() + reconnect_wait;
                        reconnect_wait = (reconnect_wait * 2).min(MAX_RECONNECT_WAIT);
                    }
                }
            }
            if Instant::now() >= next_read {
                let read = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    read = self.read() => read,
                };
                // A failed read is retried at the poll's pace even while announcements
                // arrive: they would not repeat what the failed read missed.
                let every = if listening.is_some() && read {
                    self.settings.backstop
                } else {
                    self.settings.poll
                };
                next_read = Instant::now() + every;
            }
            let wake = match (announces && listening.is_none()).then_some(reconnect_at) {
                Some(at) => next_read.min(at),
                None => next_read,
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                notice = next_notice(&mut listening) => match notice {
                    Ok(Notice::Event(id)) if id <= self.cursor.0 => {}
                    Ok(Notice::Event(_)) => next_read = Instant::now(),
                    Ok(Notice::Log { board, seq }) => self.hub.log_advanced(board, seq),
                    Ok(Notice::Relay(text)) => match PeerMessage::decode(&text) {
                        Some(message) => self.hub.from_peer(message),
                        None => tracing::debug!("ignoring a relayed message this version cannot read"),
                    },
                    Ok(Notice::Other) => {}
                    Err(e) => {
                        tracing::info!(error = %crate::telemetry::chain(&e), "lost the change-feed listener; reconnecting and catching up");
                        listening = None;
                        reconnect_at = Instant::now();
                        next_read = Instant::now();
                    }
                },
                _ = tokio::time::sleep_until(wake) => {}
                _ = prune.tick() => tokio::select! {
                    _ = shutdown.cancelled() => return,
                    () = self.prune() => {}
                },
            }
        }
    }

    /// Catches up; returns whether the feed could be read.
    async fn read(&mut self) -> bool {
        let from = self.cursor;
        match self
            .cursor
            .catch_up(&self.store, self.hub.as_ref(), PAGE)
            .await
        {
            Ok(0) => true,
            Ok(read) => {
                metrics().access_events.inc_by(read as u64);
                tracing::debug!(
                    read,
                    from = from.0,
                    to = self.cursor.0,
                    "applied change-feed events"
                );
                true
            }
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::chain(&e), "reading the change feed failed; retrying");
                false
            }
        }
    }

    async fn prune(&self) {
        let before = now_ms().saturating_sub(self.settings.retention.as_millis() as i64);
        match self.store.prune_events(before).await {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(pruned, "pruned old change-feed events"),
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::chain(&e), "pruning the change feed failed")
            }
        }
    }
}

/// The next announcement, or never when nobody listens.
async fn next_notice(listening: &mut Option<Box<dyn Subscription>>) -> Result<Notice, StoreError> {
    match listening {
        Some(subscription) => subscription.next().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use uuid::Uuid;

    use super::*;
    use crate::domain::Role;

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn member(board: BoardId, who: &str, role: Option<Role>) -> Event {
        Event::Member {
            board,
            user: user(who),
            role,
        }
    }

    fn rows(events: Vec<Event>) -> Vec<FeedEvent> {
        events
            .into_iter()
            .enumerate()
            .map(|(i, event)| FeedEvent {
                id: i as i64 + 1,
                at: 0,
                event,
            })
            .collect()
    }

    /// A feed in memory; it can fail its next reads.
    struct Memory {
        events: Vec<FeedEvent>,
        failures: Mutex<usize>,
    }

    #[async_trait]
    impl Source for Memory {
        async fn after(&self, after: i64, limit: u32) -> Result<Vec<FeedEvent>, StoreError> {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err(StoreError::Invalid("the database went away".into()));
            }
            Ok(self
                .events
                .iter()
                .filter(|e| e.id > after)
                .take(limit as usize)
                .cloned()
                .collect())
        }
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Apply>>);

    #[async_trait]
    impl Target for Recorder {
        async fn apply(&self, change: Apply) {
            self.0.lock().unwrap().push(change);
        }
    }

    #[test]
    fn each_event_goes_where_it_belongs() {
        let board = BoardId::new();
        let link = Uuid::new_v4();
        let bob = user("bob");
        assert_eq!(
            apply_of(&member(board, "bob", None)),
            Some(Apply::Board(
                board,
                AccessChange::Member {
                    user: bob.clone(),
                    role: None
                }
            ))
        );
        assert_eq!(
            apply_of(&Event::LinkRevoked { board, link }),
            Some(Apply::Board(board, AccessChange::LinkRevoked(link)))
        );
        assert_eq!(
            apply_of(&Event::UserDisabled {
                user: bob.clone(),
                disabled: true
            }),
            Some(Apply::Everywhere(AccessChange::UserDisabled(bob.clone())))
        );
        assert_eq!(
            apply_of(&Event::UserDisabled {
                user: bob.clone(),
                disabled: false
            }),
            None,
            "an enabled account has no connections to change"
        );
        assert_eq!(
            apply_of(&Event::Admin {
                user: bob.clone(),
                admin: false
            }),
            Some(Apply::Everywhere(AccessChange::Admin {
                user: bob.clone(),
                admin: false
            }))
        );
        assert_eq!(
            apply_of(&Event::TokenRevoked {
                user: bob.clone(),
                jti: "j1".into()
            }),
            Some(Apply::Everywhere(AccessChange::TokenRevoked {
                user: bob,
                jti: "j1".into()
            }))
        );
        assert_eq!(
            apply_of(&Event::BoardDeleted { board }),
            Some(Apply::Deleted(board))
        );
        assert_eq!(apply_of(&Event::Unknown), None);
    }

    #[test]
    fn a_later_event_of_the_same_subject_supersedes_an_earlier_one() {
        let (a, b) = (BoardId::new(), BoardId::new());
        let events = rows(vec![
            member(a, "bob", Some(Role::Editor)),
            member(b, "bob", Some(Role::Editor)),
            Event::Admin {
                user: user("carol"),
                admin: true,
            },
            member(a, "bob", Some(Role::Viewer)),
            Event::TokenRevoked {
                user: user("bob"),
                jti: "j1".into(),
            },
            Event::Admin {
                user: user("carol"),
                admin: false,
            },
            Event::TokenRevoked {
                user: user("bob"),
                jti: "j1".into(),
            },
        ]);
        let planned = plan(&events);
        let expected: Vec<Apply> = [
            member(b, "bob", Some(Role::Editor)),
            member(a, "bob", Some(Role::Viewer)),
            Event::TokenRevoked {
                user: user("bob"),
                jti: "j1".into(),
            },
            Event::Admin {
                user: user("carol"),
                admin: false,
            },
            Event::TokenRevoked {
                user: user("bob"),
                jti: "j1".into(),
            },
        ]
        .iter()
        .filter_map(apply_of)
        .collect();
        assert_eq!(planned, expected);
    }

    #[tokio::test]
    async fn catching_up_reads_every_page_in_order_and_resumes_after_a_failure() {
        let board = BoardId::new();
        let events = rows(
            (0..7)
                .map(|i| member(board, &format!("u{i}"), Some(Role::Viewer)))
                .chain([Event::Unknown, Event::BoardDeleted { board }])
                .collect(),
        );
        let feed = Memory {
            events: events.clone(),
            failures: Mutex::new(0),
        };
        let target = Recorder::default();

        // A notification was missed: the cursor alone says where to resume.
        let mut cursor = Cursor(2);
        assert_eq!(cursor.catch_up(&feed, &target, 3).await.unwrap(), 7);
        assert_eq!(cursor, Cursor(9));
        let expected: Vec<Apply> = events[2..]
            .iter()
            .filter_map(|e| apply_of(&e.event))
            .collect();
        assert_eq!(*target.0.lock().unwrap(), expected);

        // Nothing new: nothing applied, the cursor stays.
        assert_eq!(cursor.catch_up(&feed, &target, 3).await.unwrap(), 0);
        assert_eq!(cursor, Cursor(9));
        assert_eq!(target.0.lock().unwrap().len(), expected.len());

        // The store fails: nothing is skipped, the next call resumes where the last ended.
        let failing = Memory {
            events,
            failures: Mutex::new(1),
        };
        let target = Recorder::default();
        let mut cursor = Cursor(0);
        assert!(cursor.catch_up(&failing, &target, 4).await.is_err());
        assert_eq!(cursor, Cursor(0));
        assert_eq!(cursor.catch_up(&failing, &target, 4).await.unwrap(), 9);
        assert_eq!(cursor, Cursor(9));
        assert_eq!(
            target.0.lock().unwrap().len(),
            8,
            "7 members and the deletion"
        );
    }
}
