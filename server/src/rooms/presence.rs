//! Who is present on a board: the awareness states (cursors, names, selections) of the
//! room's connections, and the rule of who may change which.
//!
//! Owns the awareness states a room relays, in place of yrs's `Awareness`, whose states
//! anyone may overwrite and whose removed clients stay in memory for good. Here each
//! connection owns exactly one client id: the first it announces, unless another user's
//! connection owns it already (the same user's newer connection takes it over: a client
//! that reconnects keeps its id before the server has noticed the old socket died). Entries
//! for ids a connection does not own are dropped. A state set to `null`, or whose
//! connection left, is removed from memory once its removal has gone out.
//!
//! Other processes serving the board relay their members' states (see `cluster`): those
//! are kept per client id with the process they came from and when they were last heard
//! of, never override a local connection's own id, and expire when their process falls
//! silent ([`Presence::expire_remote`]). Only local states are relayed onwards
//! ([`Changes::local`], [`Presence::local`]), so nothing echoes between processes. Sans
//! I/O: it knows nothing of sockets, tasks or the document.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::time::Instant;

use yrs::ClientID;
use yrs::sync::AwarenessUpdate;
use yrs::sync::awareness::AwarenessUpdateEntry;

use super::ConnId;
use crate::domain::UserId;

/// The JSON text of a removed state.
const NULL: &str = "null";

/// One live awareness state.
struct State {
    clock: u32,
    json: Arc<str>,
}

/// Who owns a client id.
struct Owner {
    conn: ConnId,
    user: UserId,
}

/// The changes since the last [`Presence::take_changes`].
#[derive(Debug, Default)]
pub struct Changes {
    /// Every change, for this room's members.
    pub all: Option<AwarenessUpdate>,
    /// The changes of this process's own connections, for the other processes.
    pub local: Option<AwarenessUpdate>,
}

/// A room's awareness states and their owners.
#[derive(Default)]
pub struct Presence {
    /// States relayed by other processes, by client id, with when they were last relayed.
    remote: HashMap<ClientID, Instant>,
    /// Relayed ids removed since the last [`Presence::take_changes`].
    remote_gone: HashSet<ClientID>,
    states: HashMap<ClientID, State>,
    owners: HashMap<ClientID, Owner>,
    /// Each connection's own client id.
    ids: HashMap<ConnId, ClientID>,
    /// Ids removed since the last [`Presence::take_changes`], with the clock their removal
    /// goes out with.
    removed: HashMap<ClientID, u32>,
    /// Ids whose state changed since the last [`Presence::take_changes`].
    dirty: HashSet<ClientID>,
}

/// What [`Presence::apply`] did with an update.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Entries that changed a state.
    pub changed: usize,
    /// Entries dropped: for a client id this connection does not own.
    pub refused: usize,
}

impl Presence {
    /// Applies an awareness update from `conn` (of `user`): its entry for its own client id,
    /// if newer than what is held; every other entry is refused.
    pub fn apply(&mut self, conn: ConnId, user: &UserId, update: AwarenessUpdate) -> Applied {
        let mut applied = Applied::default();
        for (id, entry) in update.clients {
            if !self.claim(conn, user, id) {
                applied.refused += 1;
                continue;
            }
            if self.set(id, entry) {
                applied.changed += 1;
            }
        }
        applied
    }

    /// Whether `conn` owns `id`, making it its own when it owns none yet and no other
    /// user's connection holds it.
    fn claim(&mut self, conn: ConnId, user: &UserId, id: ClientID) -> bool {
        if let Some(own) = self.ids.get(&conn) {
            return *own == id;
        }
        if let Some(owner) = self.owners.get(&id)
            && owner.user != *user
        {
            return false;
        }
        self.remote.remove(&id);
        if let Some(previous) = self.owners.insert(
            id,
            Owner {
                conn,
                user: user.clone(),
            },
        ) {
            self.ids.remove(&previous.conn);
        }
        self.ids.insert(conn, id);
        true
    }

    /// Applies one entry for an owned id, as y-protocols does: a newer clock wins, and a
    /// `null` state at the same clock removes a live one. Returns whether anything changed.
    fn set(&mut self, id: ClientID, entry: AwarenessUpdateEntry) -> bool {
        let current = self.states.get(&id).map(|s| s.clock);
        let is_null = &*entry.json == NULL;
        let newer = match current {
            Some(clock) => clock < entry.clock || (clock == entry.clock && is_null),
            None => !is_null,
        };
        if !newer {
            return false;
        }
        if is_null {
            self.states.remove(&id);
            self.removed.insert(id, entry.clock);
        } else {
            self.removed.remove(&id);
            self.states.insert(
                id,
                State {
                    clock: entry.clock,
                    json: entry.json,
                },
            );
        }
        self.dirty.insert(id);
        true
    }

    /// Forgets `conn`: its state is removed (the removal goes out with the next changes)
    /// and its id is free again.
    pub fn leave(&mut self, conn: ConnId) {
        let Some(id) = self.ids.remove(&conn) else {
            return;
        };
        self.owners.remove(&id);
        if let Some(state) = self.states.remove(&id) {
            self.removed.insert(id, state.clock.wrapping_add(1));
            self.dirty.insert(id);
        }
    }

    /// Whether changes wait to go out.
    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The changes since the last call, as one update (removals as `null` states), and
    /// forgets the removed ids for good.
    pub fn take_changes(&mut self) -> Changes {
        let dirty = std::mem::take(&mut self.dirty);
        let removed = std::mem::take(&mut self.removed);
        let remote_gone = std::mem::take(&mut self.remote_gone);
        let mut all = HashMap::new();
        let mut local = HashMap::new();
        for id in dirty {
            let change = match self.states.get(&id) {
                Some(state) => entry(state.clock, state.json.clone()),
                None => match removed.get(&id) {
                    Some(clock) => entry(*clock, NULL.into()),
                    None => continue,
                },
            };
            if !self.remote.contains_key(&id) && !remote_gone.contains(&id) {
                local.insert(id, change.clone());
            }
            all.insert(id, change);
        }
        Changes {
            all: (!all.is_empty()).then_some(AwarenessUpdate { clients: all }),
            local: (!local.is_empty()).then_some(AwarenessUpdate { clients: local }),
        }
    }

    /// Applies states relayed by another process, heard of at `now`: entries for ids a
    /// local connection owns are ignored; the others follow y-protocols' clock rule, and
    /// each renews its state's lease even when unchanged. Returns how many changed.
    pub fn apply_remote(&mut self, update: AwarenessUpdate, now: Instant) -> usize {
        let mut changed = 0;
        for (id, entry) in update.clients {
            if self.owners.contains_key(&id) {
                continue;
            }
            let is_null = &*entry.json == NULL;
            if !is_null {
                self.remote.insert(id, now);
            }
            if self.set(id, entry) {
                changed += 1;
                if is_null {
                    self.remote.remove(&id);
                    self.remote_gone.insert(id);
                }
            }
        }
        changed
    }

    /// Removes relayed states not heard of since `before` (their process stopped relaying:
    /// it died, or lost the database); the removals go out with the next changes. Returns
    /// how many were removed.
    pub fn expire_remote(&mut self, before: Instant) -> usize {
        let stale: Vec<ClientID> = self
            .remote
            .iter()
            .filter(|(_, seen)| **seen < before)
            .map(|(id, _)| *id)
            .collect();
        for id in &stale {
            self.remote.remove(id);
            self.remote_gone.insert(*id);
            if let Some(state) = self.states.remove(id) {
                self.removed.insert(*id, state.clock.wrapping_add(1));
                self.dirty.insert(*id);
            }
        }
        stale.len()
    }

    /// The live states of this process's own connections, to relay in full (a refresh of
    /// their lease elsewhere, or an answer to a process that asked).
    pub fn local(&self) -> Option<AwarenessUpdate> {
        let clients: HashMap<ClientID, AwarenessUpdateEntry> = self
            .states
            .iter()
            .filter(|(id, _)| !self.remote.contains_key(id))
            .map(|(id, state)| (*id, entry(state.clock, state.json.clone())))
            .collect();
        (!clients.is_empty()).then_some(AwarenessUpdate { clients })
    }

    /// Every live state, for a joiner or a query.
    pub fn everyone(&self) -> Option<AwarenessUpdate> {
        let clients: HashMap<ClientID, AwarenessUpdateEntry> = self
            .states
            .iter()
            .map(|(id, state)| (*id, entry(state.clock, state.json.clone())))
            .collect();
        (!clients.is_empty()).then_some(AwarenessUpdate { clients })
    }

    /// Live states held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.states.len()
    }

    /// Client ids remembered for any reason (live states, owners, removals not yet sent):
    /// what the room's presence costs in memory.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.states.len()
            + self.owners.len()
            + self.ids.len()
            + self.removed.len()
            + self.remote.len()
            + self.remote_gone.len()
    }
}

fn entry(clock: u32, json: Arc<str>) -> AwarenessUpdateEntry {
    AwarenessUpdateEntry { clock, json }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    fn update(entries: &[(u64, u32, &str)]) -> AwarenessUpdate {
        AwarenessUpdate {
            clients: entries
                .iter()
                .map(|(id, clock, json)| (ClientID::new(*id), entry(*clock, (*json).into())))
                .collect(),
        }
    }

    fn state_of(p: &Presence, id: u64) -> Option<String> {
        p.everyone()?
            .clients
            .get(&ClientID::new(id))
            .map(|e| e.json.to_string())
    }

    #[test]
    fn a_connection_owns_the_first_id_it_announces() {
        let mut p = Presence::default();
        let ada = user("ada");
        let applied = p.apply(1, &ada, update(&[(10, 1, r#"{"n":"Ada"}"#)]));
        assert_eq!(
            applied,
            Applied {
                changed: 1,
                refused: 0
            }
        );
        let applied = p.apply(1, &ada, update(&[(11, 1, r#"{"n":"Ghost"}"#)]));
        assert_eq!(applied.refused, 1, "a second id is refused");
        assert_eq!(state_of(&p, 11), None);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn nobody_may_overwrite_remove_or_claim_another_users_id() {
        let mut p = Presence::default();
        p.apply(1, &user("ada"), update(&[(10, 1, r#"{"n":"Ada"}"#)]));
        p.take_changes();
        let mallory = user("mallory");
        for attack in [
            update(&[(10, 9, r#"{"n":"Mallory"}"#)]),
            update(&[(10, 1, "null")]),
            update(&[(10, 99, "null")]),
        ] {
            let applied = p.apply(2, &mallory, attack);
            assert_eq!(
                applied,
                Applied {
                    changed: 0,
                    refused: 1
                }
            );
        }
        assert_eq!(state_of(&p, 10).as_deref(), Some(r#"{"n":"Ada"}"#));
        assert!(!p.has_changes());
        // Mallory's own id still works.
        assert_eq!(p.apply(2, &mallory, update(&[(20, 1, "{}")])).changed, 1);
    }

    #[test]
    fn the_same_user_reconnecting_takes_its_id_over() {
        let mut p = Presence::default();
        let ada = user("ada");
        p.apply(1, &ada, update(&[(10, 1, r#"{"v":1}"#)]));
        assert_eq!(
            p.apply(2, &ada, update(&[(10, 2, r#"{"v":2}"#)])).changed,
            1
        );
        // The old connection no longer owns it: leaving removes nothing.
        p.take_changes();
        p.leave(1);
        assert!(!p.has_changes());
        assert_eq!(state_of(&p, 10).as_deref(), Some(r#"{"v":2}"#));
    }

    #[test]
    fn clocks_order_states_like_y_protocols() {
        let mut p = Presence::default();
        let ada = user("ada");
        p.apply(1, &ada, update(&[(10, 5, r#"{"v":5}"#)]));
        assert_eq!(
            p.apply(1, &ada, update(&[(10, 4, r#"{"v":4}"#)])).changed,
            0
        );
        assert_eq!(
            p.apply(1, &ada, update(&[(10, 5, r#"{"v":"same"}"#)]))
                .changed,
            0
        );
        assert_eq!(p.apply(1, &ada, update(&[(10, 5, "null")])).changed, 1);
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn removals_go_out_once_and_are_then_forgotten() {
        let mut p = Presence::default();
        let ada = user("ada");
        p.apply(1, &ada, update(&[(10, 3, "{}")]));
        p.apply(2, &user("bob"), update(&[(20, 1, "{}")]));
        p.take_changes();
        p.apply(1, &ada, update(&[(10, 4, "null")]));
        p.leave(2);
        let changes = p.take_changes().all.unwrap();
        assert_eq!(changes.clients[&ClientID::new(10)].clock, 4);
        assert_eq!(&*changes.clients[&ClientID::new(20)].json, "null");
        assert_eq!(
            changes.clients[&ClientID::new(20)].clock,
            2,
            "a leaver's removal outranks its last state"
        );
        assert!(p.take_changes().all.is_none());
        p.leave(1);
        assert_eq!(p.remembered(), 0, "nothing accumulates");
        assert!(p.everyone().is_none());
    }

    #[test]
    fn announcing_null_first_claims_nothing_visible() {
        let mut p = Presence::default();
        let ada = user("ada");
        assert_eq!(p.apply(1, &ada, update(&[(10, 1, "null")])).changed, 0);
        assert!(p.take_changes().all.is_none());
        p.leave(1);
        assert_eq!(p.remembered(), 0);
    }

    #[test]
    fn relayed_states_expire_with_their_process_and_never_echo() {
        let mut p = Presence::default();
        let start = Instant::now();
        p.apply(1, &user("ada"), update(&[(10, 1, r#"{"n":"Ada"}"#)]));
        let first = p.take_changes();
        assert_eq!(first.local, first.all, "a local change is relayed");

        let relayed = update(&[(20, 3, r#"{"n":"Bob"}"#), (10, 9, r#"{"n":"Fake"}"#)]);
        assert_eq!(p.apply_remote(relayed, start), 1, "ada's id stays hers");
        assert_eq!(state_of(&p, 10).as_deref(), Some(r#"{"n":"Ada"}"#));
        assert_eq!(state_of(&p, 20).as_deref(), Some(r#"{"n":"Bob"}"#));
        let changes = p.take_changes();
        assert!(changes.all.is_some());
        assert!(
            changes.local.is_none(),
            "a relayed state is not relayed back"
        );
        assert_eq!(p.local().unwrap().clients.len(), 1);

        // A refresh with the same clock changes nothing but renews the lease.
        let later = start + std::time::Duration::from_secs(10);
        assert_eq!(
            p.apply_remote(update(&[(20, 3, r#"{"n":"Bob"}"#)]), later),
            0
        );
        assert_eq!(
            p.expire_remote(later - std::time::Duration::from_secs(1)),
            0
        );
        assert_eq!(
            p.expire_remote(later + std::time::Duration::from_secs(1)),
            1
        );
        let changes = p.take_changes();
        let gone = &changes.all.unwrap().clients[&ClientID::new(20)];
        assert_eq!((&*gone.json, gone.clock), ("null", 4));
        assert!(changes.local.is_none(), "nor is its removal");
        assert_eq!(state_of(&p, 20), None);

        // A relayed removal removes at once; a local connection may take a relayed id.
        p.apply_remote(update(&[(30, 1, "{}")]), later);
        assert_eq!(p.apply_remote(update(&[(30, 1, "null")]), later), 1);
        assert_eq!(state_of(&p, 30), None);
        p.apply_remote(update(&[(40, 1, "{}")]), later);
        p.take_changes();
        assert_eq!(
            p.apply(2, &user("cy"), update(&[(40, 2, r#"{"n":"Cy"}"#)]))
                .changed,
            1
        );
        assert!(p.take_changes().local.is_some());
        assert_eq!(
            p.expire_remote(later + std::time::Duration::from_secs(60)),
            0
        );
        p.leave(1);
        p.leave(2);
        p.take_changes();
        assert_eq!(p.remembered(), 0, "nothing accumulates");
    }
}
