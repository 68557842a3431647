//! The store contract: the same test bodies run against Postgres and SQLite.
//!
//! Each test gets a fresh database (a new Postgres database, or a new SQLite file) and a
//! [`Fixture`] that can open a second, independent store on it, as a second node would.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use easel::domain::{BoardId, BoardName, DomainError, Role, UserId};
use easel::store::Encoding::{V1, V2};
use easel::store::{
    Admission, AdmissionCaller, ArchivedFilter, Asset, AuditQuery, Backend, BoardCursor,
    BoardQuery, Counts, Event, MAX_ADMISSIONS, NewAsset, NewAudit, NewBoard, NewLink, NewUser,
    NewVersion, Notice, PostgresStore, SqliteStore, Store, StoreError, StoredDoc, UserQuery,
    now_ms,
};
use easel_tests::TestDb;
use yrs::types::ToJson;
use yrs::{Doc, GetString, Map, ReadTxn, StateVector, Text, Transact};

/// A fresh database and a way to open stores on it.
enum Fixture {
    Postgres(TestDb),
    Sqlite(tempfile::TempDir),
}

impl Fixture {
    async fn postgres() -> Self {
        Fixture::Postgres(TestDb::create().await)
    }

    fn sqlite() -> Self {
        Fixture::Sqlite(tempfile::tempdir().unwrap())
    }

    /// Opens a store with its own connection pool, and migrates it.
    async fn open(&self) -> Arc<dyn Store> {
        let store: Arc<dyn Store> = match self {
            Fixture::Postgres(db) => {
                Arc::new(PostgresStore::connect(&db.url(), 10, Duration::from_secs(10)).unwrap())
            }
            Fixture::Sqlite(dir) => Arc::new(
                SqliteStore::open(&dir.path().join("easel.db"), 4, Duration::from_secs(10))
                    .await
                    .unwrap(),
            ),
        };
        store.migrate().await.unwrap();
        store
    }
}

/// Runs `body` once per backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let fx = super::Fixture::postgres().await;
                super::$name(&fx).await;
            })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let fx = super::Fixture::sqlite();
                super::$name(&fx).await;
            })*
        }
    };
}

contract!(
    boards_are_created_read_renamed_archived_and_deleted,
    board_listing_filters_and_paginates,
    members_are_granted_changed_and_revoked,
    a_board_always_keeps_an_owner,
    appended_updates_get_gap_free_sequence_numbers,
    concurrent_appenders_stay_gap_free_and_in_commit_order,
    two_pools_appending_to_one_board_stay_gap_free,
    compaction_keeps_the_document_identical,
    compaction_racing_appends_loses_and_duplicates_nothing,
    a_board_with_ten_thousand_logged_updates_loads,
    versions_are_saved_listed_and_fetched,
    users_are_created_found_listed_and_disabled,
    bad_input_gives_typed_errors,
    deleting_a_board_removes_all_its_data,
    migrations_are_idempotent,
    share_links_are_created_listed_and_found,
    deleting_a_link_removes_only_the_memberships_it_granted,
    a_join_racing_the_links_deletion_never_outlives_it,
    roles_on_many_boards_come_back_in_one_map,
    deleting_a_board_removes_its_links_but_not_its_audit_trail,
    the_audit_log_pages_newest_first_and_filters,
    revoking_a_token_is_idempotent_and_purges_expired_ones,
    counts_and_stored_sizes_follow_the_data,
    admins_and_passwords_are_set,
    admission_reads_everything_a_handshake_needs_at_once,
    admissions_of_many_callers_match_one_by_one,
    every_access_change_records_its_event_for_other_nodes,
    feed_readers_miss_no_event_of_concurrent_writers,
    old_events_are_pruned_and_ids_keep_growing,
    new_events_are_announced_where_the_backend_can,
    a_reader_behind_gets_the_rows_after_it_or_the_snapshot_that_replaced_them,
    appends_and_relayed_messages_are_announced_where_the_backend_can,
    a_board_holds_at_most_the_versions_asked_for,
    assets_are_stored_once_per_board_and_read_back,
    a_boards_assets_stay_within_their_bound,
);

fn user(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

async fn new_board(store: &dyn Store, name: &str, owner: &str) -> BoardId {
    let new = NewBoard {
        id: BoardId::new(),
        name: BoardName::parse(name).unwrap(),
        owner: user(owner),
    };
    store.create_board(&new).await.unwrap().id
}

fn payload(i: usize) -> Vec<u8> {
    format!("update-{i}").into_bytes()
}

async fn boards_are_created_read_renamed_archived_and_deleted(fx: &Fixture) {
    let store = fx.open().await;
    let new = NewBoard {
        id: BoardId::new(),
        name: BoardName::parse("Roadmap").unwrap(),
        owner: user("alice"),
    };
    let board = store.create_board(&new).await.unwrap();
    assert_eq!(board.id, new.id);
    assert_eq!(board.name, "Roadmap");
    assert_eq!(board.owner, user("alice"));
    assert_eq!(board.last_seq, 0);
    assert_eq!(board.archived_at, None);
    assert_eq!(store.get_board(board.id).await.unwrap(), board);
    assert!(
        matches!(store.create_board(&new).await, Err(StoreError::Conflict(_))),
        "same id twice"
    );

    let renamed = store
        .rename_board(board.id, &BoardName::parse("Roadmap 2027").unwrap())
        .await
        .unwrap();
    assert_eq!(renamed.name, "Roadmap 2027");
    assert!(renamed.updated_at >= board.updated_at);

    let archived = store.set_archived(board.id, true).await.unwrap();
    let when = archived.archived_at.expect("archived");
    assert_eq!(
        store
            .set_archived(board.id, true)
            .await
            .unwrap()
            .archived_at,
        Some(when),
        "archiving twice keeps the first time"
    );
    assert_eq!(
        store
            .set_archived(board.id, false)
            .await
            .unwrap()
            .archived_at,
        None
    );

    store.delete_board(board.id).await.unwrap();
    assert!(matches!(
        store.get_board(board.id).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.delete_board(board.id).await,
        Err(StoreError::NotFound("board"))
    ));
    let ghost = BoardId::new();
    assert!(matches!(
        store
            .rename_board(ghost, &BoardName::parse("x").unwrap())
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_archived(ghost, true).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn board_listing_filters_and_paginates(fx: &Fixture) {
    let store = fx.open().await;
    let mut alice_boards = BTreeSet::new();
    for i in 0..7 {
        alice_boards.insert(new_board(&*store, &format!("Sprint {i}"), "alice").await);
    }
    let bobs = new_board(&*store, "Bob's 100%_plan", "bob").await;
    store
        .add_member(bobs, &user("alice"), Role::Viewer)
        .await
        .unwrap();
    let archived = new_board(&*store, "Old sprint", "alice").await;
    store.set_archived(archived, true).await.unwrap();

    // Pages of 3 over alice's active boards: every board exactly once, newest change first.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_boards(&BoardQuery {
                member: Some(user("alice")),
                limit: 3,
                after,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|b| (b.updated_at, b.id)));
        match page.next {
            Some(c) => after = Some(BoardCursor::parse(&c.encode()).unwrap()),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        8,
        "7 own boards + bob's shared one, archived excluded"
    );
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "sorted by updated_at desc, id desc");
    let ids: BTreeSet<BoardId> = seen.iter().map(|s| s.1).collect();
    assert!(alice_boards.is_subset(&ids) && ids.contains(&bobs));

    let only_bob = store
        .list_boards(&BoardQuery {
            member: Some(user("bob")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        only_bob.items.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![bobs]
    );
    assert!(only_bob.next.is_none());

    let search = |q: &str| BoardQuery {
        name_contains: Some(q.into()),
        archived: ArchivedFilter::Include,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_boards(&search("SPRINT"))
            .await
            .unwrap()
            .items
            .len(),
        8,
        "case-insensitive"
    );
    assert_eq!(
        store
            .list_boards(&search("100%_"))
            .await
            .unwrap()
            .items
            .len(),
        1,
        "wildcards are literal"
    );
    assert_eq!(
        store.list_boards(&search("%")).await.unwrap().items.len(),
        1
    );
    assert_eq!(
        store
            .list_boards(&search("nothing like it"))
            .await
            .unwrap()
            .items
            .len(),
        0
    );

    let only_archived = store
        .list_boards(&BoardQuery {
            archived: ArchivedFilter::Only,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        only_archived.items.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![archived]
    );
    let all = store
        .list_boards(&BoardQuery {
            archived: ArchivedFilter::Include,
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 9);
}

async fn members_are_granted_changed_and_revoked(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Team", "alice").await;
    assert_eq!(
        store.role_of(board, &user("alice")).await.unwrap(),
        Some(Role::Owner),
        "creator owns it"
    );
    assert_eq!(store.role_of(board, &user("bob")).await.unwrap(), None);

    store
        .add_member(board, &user("bob"), Role::Viewer)
        .await
        .unwrap();
    store
        .add_member(board, &user("carol"), Role::Editor)
        .await
        .unwrap();
    assert!(matches!(
        store.add_member(board, &user("bob"), Role::Editor).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.role_of(board, &user("bob")).await.unwrap(),
        Some(Role::Viewer),
        "duplicate did not change it"
    );

    let changed = store
        .set_member_role(board, &user("bob"), Role::Editor)
        .await
        .unwrap();
    assert_eq!(changed.role, Role::Editor);
    assert_eq!(
        store.role_of(board, &user("bob")).await.unwrap(),
        Some(Role::Editor)
    );

    let members = store.list_members(board).await.unwrap();
    let summary: Vec<(String, Role)> = members
        .iter()
        .map(|m| (m.user.to_string(), m.role))
        .collect();
    assert_eq!(summary[0], ("alice".into(), Role::Owner), "owners first");
    assert_eq!(summary.len(), 3);

    store.remove_member(board, &user("bob")).await.unwrap();
    assert_eq!(store.role_of(board, &user("bob")).await.unwrap(), None);
    assert!(matches!(
        store.remove_member(board, &user("bob")).await,
        Err(StoreError::NotFound("member"))
    ));
    assert!(matches!(
        store
            .set_member_role(board, &user("dave"), Role::Viewer)
            .await,
        Err(StoreError::NotFound("member"))
    ));

    let ghost = BoardId::new();
    assert!(matches!(
        store.add_member(ghost, &user("bob"), Role::Viewer).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.role_of(ghost, &user("bob")).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.list_members(ghost).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.remove_member(ghost, &user("bob")).await,
        Err(StoreError::NotFound("board"))
    ));
}

async fn a_board_always_keeps_an_owner(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Owned", "alice").await;
    assert!(matches!(
        store.remove_member(board, &user("alice")).await,
        Err(StoreError::LastOwner)
    ));
    assert!(matches!(
        store
            .set_member_role(board, &user("alice"), Role::Editor)
            .await,
        Err(StoreError::LastOwner)
    ));
    store
        .add_member(board, &user("bob"), Role::Owner)
        .await
        .unwrap();
    store
        .set_member_role(board, &user("alice"), Role::Editor)
        .await
        .unwrap();
    assert!(matches!(
        store.remove_member(board, &user("bob")).await,
        Err(StoreError::LastOwner)
    ));
    store
        .set_member_role(board, &user("alice"), Role::Owner)
        .await
        .unwrap();
    store.remove_member(board, &user("bob")).await.unwrap();

    // Two owners demoting each other at once: exactly one succeeds.
    store
        .add_member(board, &user("bob"), Role::Owner)
        .await
        .unwrap();
    let other = fx.open().await;
    let (alice, bob) = (user("alice"), user("bob"));
    let (a, b) = tokio::join!(
        store.set_member_role(board, &alice, Role::Viewer),
        other.set_member_role(board, &bob, Role::Viewer),
    );
    assert!(
        a.is_ok() != b.is_ok(),
        "one demotion wins, the other sees LastOwner: {a:?} {b:?}"
    );
    let owners = store
        .list_members(board)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .count();
    assert_eq!(owners, 1);
}

async fn appended_updates_get_gap_free_sequence_numbers(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Log", "alice").await;
    let r1 = store.append_updates(board, &[payload(1)]).await.unwrap();
    assert_eq!((r1.first, r1.last), (1, 1));
    let r2 = store
        .append_updates(board, &[payload(2), payload(3), payload(4)])
        .await
        .unwrap();
    assert_eq!((r2.first, r2.last), (2, 4));
    let doc = store.load(board).await.unwrap();
    assert_eq!(doc.snapshot, None);
    assert_eq!(doc.last_seq, 4);
    let got: Vec<(i64, Vec<u8>)> = doc.updates.into_iter().map(|u| (u.seq, u.data)).collect();
    assert_eq!(
        got,
        (1..=4).map(|i| (i as i64, payload(i))).collect::<Vec<_>>()
    );
    assert_eq!(store.get_board(board).await.unwrap().last_seq, 4);

    // Other boards have their own numbering.
    let other = new_board(&*store, "Other", "alice").await;
    assert_eq!(
        store
            .append_updates(other, &[payload(9)])
            .await
            .unwrap()
            .first,
        1
    );

    assert!(matches!(
        store.append_updates(board, &[]).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.append_updates(BoardId::new(), &[payload(1)]).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.load(BoardId::new()).await,
        Err(StoreError::NotFound("board"))
    ));
    // Empty and large updates are stored byte for byte.
    let big = vec![7u8; 1 << 20];
    let r = store
        .append_updates(board, &[Vec::new(), big.clone()])
        .await
        .unwrap();
    let doc = store.load(board).await.unwrap();
    assert_eq!(doc.updates[(r.first - 1) as usize].data, Vec::<u8>::new());
    assert_eq!(doc.updates[(r.last - 1) as usize].data, big);
}

/// `writers` tasks append tagged batches (spread over `stores`) while a reader checks that
/// what it can see is always a gap-free prefix 1..=k. Afterwards every update is in the
/// log exactly once, each writer's in its own order, and the returned ranges tile 1..=N.
async fn append_concurrently(
    stores: Vec<Arc<dyn Store>>,
    board: BoardId,
    writers: usize,
    batches: usize,
) {
    let reader_store = stores[0].clone();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader_done = done.clone();
    let reader = tokio::spawn(async move {
        let mut checks = 0;
        while !reader_done.load(std::sync::atomic::Ordering::SeqCst) {
            let doc = reader_store.load(board).await.unwrap();
            for (i, u) in doc.updates.iter().enumerate() {
                assert_eq!(u.seq, i as i64 + 1, "a reader saw a gap");
            }
            assert!(doc.last_seq >= doc.updates.len() as i64);
            checks += 1;
        }
        checks
    });
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = stores[w % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut ranges = Vec::new();
            for b in 0..batches {
                let n = 1 + (w + b) % 3;
                let batch: Vec<Vec<u8>> = (0..n)
                    .map(|k| format!("{w}:{b}:{k}").into_bytes())
                    .collect();
                let r = store.append_updates(board, &batch).await.unwrap();
                assert_eq!(r.last - r.first + 1, n as i64);
                ranges.push(r);
            }
            ranges
        }));
    }
    let mut ranges = Vec::new();
    for t in tasks {
        ranges.extend(t.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let checks = reader.await.unwrap();
    assert!(checks > 0);

    ranges.sort_by_key(|r| r.first);
    let mut expect = 1;
    for r in &ranges {
        assert_eq!(r.first, expect, "ranges tile the log");
        expect = r.last + 1;
    }
    let doc = stores[0].load(board).await.unwrap();
    let total = (expect - 1) as usize;
    assert_eq!(doc.updates.len(), total);
    assert_eq!(doc.last_seq, total as i64);
    let mut per_writer: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    for (i, u) in doc.updates.iter().enumerate() {
        assert_eq!(u.seq, i as i64 + 1);
        let text = String::from_utf8(u.data.clone()).unwrap();
        let parts: Vec<usize> = text.split(':').map(|p| p.parse().unwrap()).collect();
        per_writer
            .entry(parts[0])
            .or_default()
            .push((parts[1], parts[2]));
    }
    assert_eq!(per_writer.len(), writers);
    for (w, seen) in per_writer {
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "writer {w}'s updates are in its own order");
        let expected: usize = (0..batches).map(|b| 1 + (w + b) % 3).sum();
        assert_eq!(seen.len(), expected, "writer {w} lost nothing");
    }
}

async fn concurrent_appenders_stay_gap_free_and_in_commit_order(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Busy", "alice").await;
    append_concurrently(vec![store], board, 8, 40).await;
}

async fn two_pools_appending_to_one_board_stay_gap_free(fx: &Fixture) {
    let (a, b) = (fx.open().await, fx.open().await);
    let board = new_board(&*a, "Two nodes", "alice").await;
    append_concurrently(vec![a, b], board, 8, 30).await;
}

/// Makes `n` real yrs updates: shapes in an `elements` map and words in a `Y.Text`.
fn yrs_updates(n: usize) -> Vec<Vec<u8>> {
    let doc = Doc::new();
    let elements = doc.get_or_insert_map("elements");
    let title = doc.get_or_insert_text("title");
    (0..n)
        .map(|i| {
            let mut txn = doc.transact_mut();
            elements.insert(
                &mut txn,
                format!("shape-{i}"),
                format!("rect {i} at {},{}", i * 10, i * 7),
            );
            if i % 3 == 0 {
                elements.remove(&mut txn, &format!("shape-{}", i / 2));
            }
            title.push(&mut txn, &format!("w{i} "));
            txn.encode_update_v1()
        })
        .collect()
}

/// Rebuilds a document from what the store returned: the snapshot (in the encoding it
/// names), then the log (v1), as rooms read them.
fn rebuild(stored: &StoredDoc) -> (serde_json::Value, String) {
    let doc = easel_tests::board::rebuild(stored);
    let elements = doc.get_or_insert_map("elements");
    let title = doc.get_or_insert_text("title");
    let txn = doc.transact();
    let mut json = String::new();
    elements.to_json(&txn).to_json(&mut json);
    (serde_json::from_str(&json).unwrap(), title.get_string(&txn))
}

fn state_v1(stored: &StoredDoc) -> Vec<u8> {
    easel_tests::board::rebuild(stored)
        .transact()
        .encode_state_as_update_v1(&StateVector::default())
}

fn state_v2(stored: &StoredDoc) -> Vec<u8> {
    easel_tests::board::rebuild(stored)
        .transact()
        .encode_state_as_update_v2(&StateVector::default())
}

async fn compaction_keeps_the_document_identical(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Compacted", "alice").await;
    let updates = yrs_updates(30);
    store.append_updates(board, &updates[..20]).await.unwrap();
    let before = store.load(board).await.unwrap();
    let expected_20 = rebuild(&before);

    // Compact the first 15 only: the rest of the log must survive.
    let first_15 = StoredDoc {
        updates: before.updates[..15].to_vec(),
        ..Default::default()
    };
    assert!(
        store
            .compact(board, &state_v1(&first_15), V1, 15)
            .await
            .unwrap()
    );
    let after = store.load(board).await.unwrap();
    let snapshot = after.snapshot.as_ref().unwrap();
    assert_eq!((snapshot.seq, snapshot.encoding), (15, V1));
    assert_eq!(
        after.updates.iter().map(|u| u.seq).collect::<Vec<_>>(),
        (16..=20).collect::<Vec<_>>()
    );
    assert_eq!(rebuild(&after), expected_20, "load before == load after");

    // An older or equal snapshot changes nothing; beyond the log is refused.
    assert!(!store.compact(board, b"stale", V2, 10).await.unwrap());
    assert!(!store.compact(board, b"stale", V2, 15).await.unwrap());
    assert!(matches!(
        store.compact(board, b"future", V2, 21).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.compact(BoardId::new(), b"x", V2, 0).await,
        Err(StoreError::NotFound("board"))
    ));
    assert_eq!(rebuild(&store.load(board).await.unwrap()), expected_20);

    // Appends continue the numbering after compaction, and a full compaction empties the log.
    let r = store.append_updates(board, &updates[20..]).await.unwrap();
    assert_eq!((r.first, r.last), (21, 30));
    let full = store.load(board).await.unwrap();
    let expected_30 = rebuild(&full);
    // The newer snapshot is in the v2 encoding rooms write, and says so.
    assert!(
        store
            .compact(board, &state_v2(&full), V2, 30)
            .await
            .unwrap()
    );
    let compacted = store.load(board).await.unwrap();
    assert_eq!(compacted.snapshot.as_ref().unwrap().encoding, V2);
    assert!(compacted.updates.is_empty());
    assert_eq!(compacted.last_seq, 30);
    assert_eq!(rebuild(&compacted), expected_30);
    let shapes = expected_30.0.as_object().unwrap().len();
    assert!(
        shapes > 10,
        "the document really holds shapes: {}",
        expected_30.0
    );
}

async fn compaction_racing_appends_loses_and_duplicates_nothing(fx: &Fixture) {
    // The "state" here is the JSON list of update ids it covers, so the test can check
    // that every id ends up exactly once in snapshot + log.
    let store = fx.open().await;
    let board = new_board(&*store, "Racing", "alice").await;
    let writer_store = fx.open().await;
    let writer = tokio::spawn(async move {
        for i in 0..200usize {
            writer_store
                .append_updates(board, &[i.to_string().into_bytes()])
                .await
                .unwrap();
        }
    });
    let covered = |doc: &StoredDoc| -> Vec<usize> {
        let mut ids: Vec<usize> = doc
            .snapshot
            .as_ref()
            .map_or_else(Vec::new, |s| serde_json::from_slice(&s.state).unwrap());
        ids.extend(
            doc.updates
                .iter()
                .map(|u| String::from_utf8_lossy(&u.data).parse::<usize>().unwrap()),
        );
        ids
    };
    let mut compactions = 0;
    while !writer.is_finished() {
        let doc = store.load(board).await.unwrap();
        let ids = covered(&doc);
        assert_eq!(
            ids,
            (0..ids.len()).collect::<Vec<_>>(),
            "every load is a gap-free, duplicate-free prefix"
        );
        if store
            .compact(board, &serde_json::to_vec(&ids).unwrap(), V1, doc.last_seq)
            .await
            .unwrap()
        {
            compactions += 1;
        }
    }
    writer.await.unwrap();
    let ids = covered(&store.load(board).await.unwrap());
    assert_eq!(ids, (0..200).collect::<Vec<_>>());
    assert!(compactions > 0);
}

async fn a_board_with_ten_thousand_logged_updates_loads(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Big", "alice").await;
    let updates = yrs_updates(10_000);
    let started = Instant::now();
    for chunk in updates.chunks(1000) {
        store.append_updates(board, chunk).await.unwrap();
    }
    let appended = started.elapsed();
    let started = Instant::now();
    let doc = store.load(board).await.unwrap();
    let loaded = started.elapsed();
    assert_eq!(doc.updates.len(), 10_000);
    assert!(
        doc.updates
            .iter()
            .enumerate()
            .all(|(i, u)| u.seq == i as i64 + 1 && u.data == updates[i])
    );
    let (_, title) = rebuild(&doc);
    assert!(title.ends_with("w9999 "));
    println!(
        "{:?}: appended 10,000 updates in {appended:?}, loaded them in {loaded:?}",
        store.backend()
    );
}

async fn versions_are_saved_listed_and_fetched(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Versioned", "alice").await;
    let alice = user("alice");
    let v1 = store
        .create_version(&NewVersion {
            board,
            label: "  Draft ",
            seq: 3,
            state: b"state-1",
            created_by: Some(&alice),
        })
        .await
        .unwrap();
    assert_eq!(v1.label, "Draft");
    let v2 = store
        .create_version(&NewVersion {
            board,
            label: "Final",
            seq: 9,
            state: b"state-2",
            created_by: None,
        })
        .await
        .unwrap();
    let listed = store.list_versions(board).await.unwrap();
    assert_eq!(
        listed.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![v2.id, v1.id],
        "newest first"
    );
    let (got, state) = store.get_version(board, v1.id).await.unwrap();
    assert_eq!(got, v1);
    assert_eq!(state, b"state-1");
    assert_eq!(got.created_by, Some(alice));

    let other = new_board(&*store, "Other", "bob").await;
    assert!(
        matches!(
            store.get_version(other, v1.id).await,
            Err(StoreError::NotFound("version"))
        ),
        "scoped to its board"
    );
    assert!(matches!(
        store.get_version(board, uuid::Uuid::new_v4()).await,
        Err(StoreError::NotFound("version"))
    ));
    for label in ["", "   ", &"x".repeat(201)] {
        let bad = NewVersion {
            board,
            label,
            seq: 1,
            state: b"s",
            created_by: None,
        };
        assert!(
            matches!(
                store.create_version(&bad).await,
                Err(StoreError::Invalid(_))
            ),
            "{label:?}"
        );
    }
    let ghost = NewVersion {
        board: BoardId::new(),
        label: "x",
        seq: 1,
        state: b"s",
        created_by: None,
    };
    assert!(matches!(
        store.create_version(&ghost).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.list_versions(BoardId::new()).await,
        Err(StoreError::NotFound("board"))
    ));
}

async fn users_are_created_found_listed_and_disabled(fx: &Fixture) {
    let store = fx.open().await;
    let new = |id: &str, email: &str| NewUser {
        id: user(id),
        email: email.into(),
        name: format!("User {id}"),
        password_hash: Some("$argon2id$fake".into()),
        admin: id == "u0",
    };
    let u0 = store
        .create_user(&new("u0", " Ada@Example.COM "))
        .await
        .unwrap();
    assert_eq!(u0.email, "ada@example.com");
    assert!(u0.admin && !u0.disabled);
    assert_eq!(store.get_user(&user("u0")).await.unwrap(), u0);
    assert_eq!(
        store.find_user_by_email("ADA@example.com").await.unwrap(),
        Some(u0.clone())
    );
    assert_eq!(
        store
            .find_user_by_email("nobody@example.com")
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store.create_user(&new("u1", "ada@EXAMPLE.com")).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_user(&new("u0", "other@example.com")).await,
        Err(StoreError::Conflict(_))
    ));
    for bad in ["", "no-at-sign", "@example.com", "a b@example.com"] {
        assert!(
            matches!(
                store.create_user(&new("u9", bad)).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    for i in 1..=6 {
        store
            .create_user(&new(&format!("u{i}"), &format!("u{i}@example.com")))
            .await
            .unwrap();
    }
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_users(&UserQuery { limit: 4, after })
            .await
            .unwrap();
        all.extend(page.items.into_iter().map(|u| u.id.to_string()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(all, (0..=6).map(|i| format!("u{i}")).collect::<Vec<_>>());
    assert!(
        store
            .set_user_disabled(&user("u3"), true)
            .await
            .unwrap()
            .disabled
    );
    assert!(store.get_user(&user("u3")).await.unwrap().disabled);
    assert!(
        !store
            .set_user_disabled(&user("u3"), false)
            .await
            .unwrap()
            .disabled
    );
    assert!(matches!(
        store.get_user(&user("ghost")).await,
        Err(StoreError::NotFound("user"))
    ));
    assert!(matches!(
        store.set_user_disabled(&user("ghost"), true).await,
        Err(StoreError::NotFound("user"))
    ));
}

async fn bad_input_gives_typed_errors(fx: &Fixture) {
    let store = fx.open().await;
    assert!(matches!(
        BoardName::parse(""),
        Err(DomainError::BoardName(_))
    ));
    assert!(matches!(
        BoardName::parse(&"n".repeat(201)),
        Err(DomainError::BoardName(_))
    ));
    assert!(matches!(UserId::parse(""), Err(DomainError::UserId(_))));
    assert!(matches!(
        Role::parse("superuser"),
        Err(DomainError::Role(_))
    ));
    assert!(matches!(
        BoardId::parse("not-a-uuid"),
        Err(DomainError::BoardId(_))
    ));
    assert!(matches!(
        BoardCursor::parse("garbage"),
        Err(StoreError::Invalid(_))
    ));
    let too_big = BoardQuery {
        limit: 501,
        ..Default::default()
    };
    assert!(matches!(
        store.list_boards(&too_big).await,
        Err(StoreError::Invalid(_))
    ));
    let board = new_board(&*store, &"n".repeat(200), "alice").await;
    assert_eq!(
        store.get_board(board).await.unwrap().name.chars().count(),
        200,
        "200 characters is the limit, not over it"
    );
    assert!(matches!(
        store.add_member(board, &user("alice"), Role::Editor).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.compact(board, b"x", V1, -1).await,
        Err(StoreError::Invalid(_))
    ));
    let huge_batch = vec![Vec::new(); easel::store::MAX_APPEND_BATCH + 1];
    assert!(matches!(
        store.append_updates(board, &huge_batch).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn deleting_a_board_removes_all_its_data(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Doomed", "alice").await;
    let keep = new_board(&*store, "Kept", "alice").await;
    store
        .add_member(board, &user("bob"), Role::Editor)
        .await
        .unwrap();
    store.append_updates(board, &yrs_updates(5)).await.unwrap();
    store.append_updates(keep, &yrs_updates(2)).await.unwrap();
    let doc = store.load(board).await.unwrap();
    store.compact(board, &state_v1(&doc), V1, 3).await.unwrap();
    let v = store
        .create_version(&NewVersion {
            board,
            label: "v",
            seq: 5,
            state: b"s",
            created_by: None,
        })
        .await
        .unwrap();
    let image = store
        .put_asset(&png_asset(board, b"doomed"), u64::MAX)
        .await
        .unwrap();
    let kept_image = store
        .put_asset(&png_asset(keep, b"doomed"), u64::MAX)
        .await
        .unwrap();
    store.delete_board(board).await.unwrap();
    assert!(matches!(
        store.load(board).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.get_asset(board, &image.id).await,
        Err(StoreError::NotFound("asset"))
    ));
    assert!(matches!(
        store.list_members(board).await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.get_version(board, v.id).await,
        Err(StoreError::NotFound("version"))
    ));
    assert!(matches!(
        store.role_of(board, &user("bob")).await,
        Err(StoreError::NotFound("board"))
    ));
    let listed = store
        .list_boards(&BoardQuery {
            member: Some(user("bob")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    // Recreating a board with the same id starts from nothing.
    let again = NewBoard {
        id: board,
        name: BoardName::parse("Reborn").unwrap(),
        owner: user("carol"),
    };
    store.create_board(&again).await.unwrap();
    let reborn = store.load(board).await.unwrap();
    assert_eq!(
        (reborn.snapshot, reborn.updates.len(), reborn.last_seq),
        (None, 0, 0)
    );
    assert_eq!(store.role_of(board, &user("bob")).await.unwrap(), None);
    assert!(
        matches!(
            store.get_asset(board, &image.id).await,
            Err(StoreError::NotFound("asset"))
        ),
        "the reborn board holds none of the old one's assets"
    );
    assert_eq!(
        store.load(keep).await.unwrap().updates.len(),
        2,
        "other boards untouched"
    );
    assert_eq!(
        store.get_asset(keep, &kept_image.id).await.unwrap().1,
        b"doomed",
        "other boards' assets untouched, even with the same bytes"
    );
}

async fn migrations_are_idempotent(fx: &Fixture) {
    let store = fx.open().await;
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    let board = new_board(&*store, "Survives", "alice").await;
    let again = fx.open().await;
    assert_eq!(again.get_board(board).await.unwrap().name, "Survives");
}

fn link<'a>(board: BoardId, token_hash: &'a [u8], role: Role) -> NewLink<'a> {
    NewLink {
        id: uuid::Uuid::now_v7(),
        board,
        token_hash,
        role,
        created_by: None,
        expires_at: None,
    }
}

async fn share_links_are_created_listed_and_found(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Shared", "alice").await;
    let alice = user("alice");
    let past = now_ms() - 60_000;
    let expired = store
        .create_link(&NewLink {
            created_by: Some(&alice),
            expires_at: Some(past),
            ..link(board, b"hash-expired", Role::Editor)
        })
        .await
        .unwrap();
    assert_eq!(expired.board, board);
    assert_eq!(expired.role, Role::Editor);
    assert_eq!(expired.created_by, Some(alice.clone()));
    assert_eq!(expired.expires_at, Some(past));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let viewer = store
        .create_link(&link(board, b"hash-viewer", Role::Viewer))
        .await
        .unwrap();
    assert_eq!((viewer.created_by.clone(), viewer.expires_at), (None, None));
    assert!(viewer.created_at >= expired.created_at);

    assert_eq!(
        store.list_links(board).await.unwrap(),
        vec![viewer.clone(), expired.clone()],
        "newest first, the expired one included"
    );
    assert_eq!(store.get_link(board, expired.id).await.unwrap(), expired);
    assert_eq!(
        store.find_link(b"hash-viewer").await.unwrap(),
        Some(viewer.clone())
    );
    assert_eq!(
        store.find_link(b"hash-expired").await.unwrap(),
        Some(expired.clone()),
        "expiry is the caller's to check"
    );
    assert_eq!(store.find_link(b"no such hash").await.unwrap(), None);

    let other = new_board(&*store, "Other", "bob").await;
    assert!(store.list_links(other).await.unwrap().is_empty());
    assert!(
        matches!(
            store.get_link(other, viewer.id).await,
            Err(StoreError::NotFound("link"))
        ),
        "scoped to its board"
    );
    assert!(matches!(
        store.get_link(board, uuid::Uuid::new_v4()).await,
        Err(StoreError::NotFound("link"))
    ));
    assert!(matches!(
        store
            .create_link(&link(board, b"hash-owner", Role::Owner))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store.find_link(b"hash-owner").await.unwrap(),
        None,
        "nothing stored"
    );
    assert!(matches!(
        store
            .create_link(&link(other, b"hash-viewer", Role::Viewer))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_link(&link(BoardId::new(), b"hash-ghost", Role::Viewer))
            .await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.list_links(BoardId::new()).await,
        Err(StoreError::NotFound("board"))
    ));
}

async fn deleting_a_link_removes_only_the_memberships_it_granted(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Links", "alice").await;
    let viewers = store
        .create_link(&link(board, b"viewers", Role::Viewer))
        .await
        .unwrap();
    let editors = store
        .create_link(&link(board, b"editors", Role::Editor))
        .await
        .unwrap();
    let join = |who: &str, link: uuid::Uuid, role: Role| {
        let store = store.clone();
        let who = user(who);
        async move { store.join_via_link(board, &who, link, role).await }
    };

    // Joined through the viewer link, and nothing else: these go with it.
    assert_eq!(
        join("bob", viewers.id, Role::Viewer).await.unwrap(),
        Role::Viewer
    );
    assert_eq!(
        join("gina", viewers.id, Role::Viewer).await.unwrap(),
        Role::Viewer
    );
    assert_eq!(
        join("bob", viewers.id, Role::Viewer).await.unwrap(),
        Role::Viewer,
        "joining twice is harmless"
    );
    // Already an editor: the viewer link does not lower the role, and does not own it.
    store
        .add_member(board, &user("carol"), Role::Editor)
        .await
        .unwrap();
    assert_eq!(
        join("carol", viewers.id, Role::Viewer).await.unwrap(),
        Role::Editor
    );
    // The owner stays owner.
    assert_eq!(
        join("alice", viewers.id, Role::Viewer).await.unwrap(),
        Role::Owner
    );
    // Joined by link, then given a role explicitly: no longer the link's.
    join("dave", viewers.id, Role::Viewer).await.unwrap();
    store
        .set_member_role(board, &user("dave"), Role::Editor)
        .await
        .unwrap();
    join("olga", viewers.id, Role::Viewer).await.unwrap();
    store
        .set_member_role(board, &user("olga"), Role::Owner)
        .await
        .unwrap();
    // Joined by link, removed, then added explicitly: not the link's either.
    join("hank", viewers.id, Role::Viewer).await.unwrap();
    store.remove_member(board, &user("hank")).await.unwrap();
    store
        .add_member(board, &user("hank"), Role::Viewer)
        .await
        .unwrap();
    // Raised by the editor link: now that link's membership.
    join("erin", viewers.id, Role::Viewer).await.unwrap();
    assert_eq!(
        join("erin", editors.id, Role::Editor).await.unwrap(),
        Role::Editor
    );
    assert_eq!(
        store.role_of(board, &user("erin")).await.unwrap(),
        Some(Role::Editor)
    );

    assert_eq!(
        store.delete_link(board, viewers.id).await.unwrap(),
        vec![user("bob"), user("gina")]
    );
    let roles: HashMap<String, Role> = store
        .list_members(board)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user.to_string(), m.role))
        .collect();
    let expected: HashMap<String, Role> = [
        ("alice", Role::Owner),
        ("carol", Role::Editor),
        ("dave", Role::Editor),
        ("olga", Role::Owner),
        ("hank", Role::Viewer),
        ("erin", Role::Editor),
    ]
    .into_iter()
    .map(|(u, r)| (u.to_owned(), r))
    .collect();
    assert_eq!(roles, expected);
    assert!(matches!(
        store.get_link(board, viewers.id).await,
        Err(StoreError::NotFound("link"))
    ));
    assert!(matches!(
        store.delete_link(board, viewers.id).await,
        Err(StoreError::NotFound("link"))
    ));
    assert!(matches!(
        join("ivan", viewers.id, Role::Viewer).await,
        Err(StoreError::NotFound("link"))
    ));
    assert_eq!(
        store.delete_link(board, editors.id).await.unwrap(),
        vec![user("erin")]
    );
    assert_eq!(store.role_of(board, &user("erin")).await.unwrap(), None);

    // A link only works on its own board, never grants owner, and needs a board.
    let other = new_board(&*store, "Other", "bob").await;
    let elsewhere = store
        .create_link(&link(other, b"elsewhere", Role::Editor))
        .await
        .unwrap();
    assert!(matches!(
        join("ivan", elsewhere.id, Role::Editor).await,
        Err(StoreError::NotFound("link"))
    ));
    assert!(matches!(
        store.delete_link(board, elsewhere.id).await,
        Err(StoreError::NotFound("link"))
    ));
    assert!(matches!(
        store
            .join_via_link(other, &user("ivan"), elsewhere.id, Role::Owner)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .join_via_link(BoardId::new(), &user("ivan"), elsewhere.id, Role::Viewer)
            .await,
        Err(StoreError::NotFound("board"))
    ));
    assert!(matches!(
        store.delete_link(BoardId::new(), elsewhere.id).await,
        Err(StoreError::NotFound("link"))
    ));
    assert_eq!(store.role_of(other, &user("ivan")).await.unwrap(), None);
}

async fn a_join_racing_the_links_deletion_never_outlives_it(fx: &Fixture) {
    let store = fx.open().await;
    let other = fx.open().await;
    let board = new_board(&*store, "Race", "alice").await;
    for i in 0..20 {
        let hash = format!("race-{i}").into_bytes();
        let shared = store
            .create_link(&link(board, &hash, Role::Editor))
            .await
            .unwrap();
        let who = user(&format!("racer-{i}"));
        let (joined, deleted) = tokio::join!(
            other.join_via_link(board, &who, shared.id, Role::Editor),
            store.delete_link(board, shared.id),
        );
        let deleted = deleted.unwrap();
        match joined {
            Ok(role) => {
                assert_eq!(role, Role::Editor);
                assert_eq!(deleted, vec![who.clone()], "joined first, so removed");
            }
            Err(StoreError::NotFound("link")) => assert!(deleted.is_empty()),
            Err(e) => panic!("unexpected error: {e:?}"),
        }
        assert_eq!(store.role_of(board, &who).await.unwrap(), None);
    }
}

async fn roles_on_many_boards_come_back_in_one_map(fx: &Fixture) {
    let store = fx.open().await;
    let owned = new_board(&*store, "Owned", "alice").await;
    let edited = new_board(&*store, "Edited", "bob").await;
    let viewed = new_board(&*store, "Viewed", "bob").await;
    let foreign = new_board(&*store, "Foreign", "bob").await;
    store
        .add_member(edited, &user("alice"), Role::Editor)
        .await
        .unwrap();
    store
        .add_member(viewed, &user("alice"), Role::Viewer)
        .await
        .unwrap();
    let ghost = BoardId::new();
    let roles = store
        .roles_on(&user("alice"), &[owned, edited, viewed, foreign, ghost])
        .await
        .unwrap();
    let expected: HashMap<BoardId, Role> = [
        (owned, Role::Owner),
        (edited, Role::Editor),
        (viewed, Role::Viewer),
    ]
    .into_iter()
    .collect();
    assert_eq!(roles, expected);
    assert!(
        store
            .roles_on(&user("alice"), &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .roles_on(&user("nobody"), &[owned, edited])
            .await
            .unwrap()
            .is_empty()
    );
    // A long list (more than fits one statement's parameters on every backend) still works.
    let mut many: Vec<BoardId> = (0..70_000).map(|_| BoardId::new()).collect();
    many.extend([owned, viewed]);
    let roles = store.roles_on(&user("alice"), &many).await.unwrap();
    assert_eq!(
        roles,
        [(owned, Role::Owner), (viewed, Role::Viewer)]
            .into_iter()
            .collect()
    );
}

async fn deleting_a_board_removes_its_links_but_not_its_audit_trail(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Doomed", "alice").await;
    let shared = store
        .create_link(&link(board, b"doomed", Role::Viewer))
        .await
        .unwrap();
    store
        .join_via_link(board, &user("bob"), shared.id, Role::Viewer)
        .await
        .unwrap();
    let entry = store
        .append_audit(&NewAudit {
            actor: Some("alice"),
            action: "board.delete",
            board: Some(board),
            target: None,
            details: Some(serde_json::json!({"name": "Doomed"})),
        })
        .await
        .unwrap();
    store.delete_board(board).await.unwrap();
    assert_eq!(store.find_link(b"doomed").await.unwrap(), None);
    assert!(matches!(
        store.get_link(board, shared.id).await,
        Err(StoreError::NotFound("link"))
    ));
    let trail = store
        .list_audit(&AuditQuery {
            board: Some(board),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        trail.items,
        vec![entry],
        "the audit entry outlives its board"
    );

    // Recreated under the same id, the board has no links and no link members.
    store
        .create_board(&NewBoard {
            id: board,
            name: BoardName::parse("Reborn").unwrap(),
            owner: user("carol"),
        })
        .await
        .unwrap();
    assert!(store.list_links(board).await.unwrap().is_empty());
    assert_eq!(store.role_of(board, &user("bob")).await.unwrap(), None);
    store
        .create_link(&link(board, b"doomed", Role::Viewer))
        .await
        .unwrap();
}

async fn the_audit_log_pages_newest_first_and_filters(fx: &Fixture) {
    let store = fx.open().await;
    let (b1, b2) = (BoardId::new(), BoardId::new());
    let started = now_ms();
    let mut appended = Vec::new();
    for i in 0..9 {
        let target = format!("target-{i}");
        let entry = store
            .append_audit(&NewAudit {
                actor: (i % 3 != 2).then_some(if i % 2 == 0 { "alice" } else { "bob" }),
                action: if i < 5 { "member.add" } else { "link.create" },
                board: match i % 3 {
                    0 => Some(b1),
                    1 => Some(b2),
                    _ => None,
                },
                target: (i != 4).then_some(target.as_str()),
                details: (i % 2 == 0).then(|| serde_json::json!({"n": i, "tags": ["a", "b"]})),
            })
            .await
            .unwrap();
        assert!(entry.at >= started);
        assert_eq!(entry.target.as_deref(), (i != 4).then_some(target.as_str()));
        assert_eq!(
            entry.details,
            (i % 2 == 0).then(|| serde_json::json!({"n": i, "tags": ["a", "b"]}))
        );
        appended.push(entry);
    }
    assert!(
        appended.windows(2).all(|w| w[0].id < w[1].id),
        "ids increase"
    );
    let newest_first: Vec<_> = appended.iter().rev().cloned().collect();

    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .list_audit(&AuditQuery {
                limit: 4,
                before,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 4);
        seen.extend(page.items);
        match page.next {
            Some(id) => before = Some(id),
            None => break,
        }
    }
    assert_eq!(seen, newest_first, "every entry once, newest first");

    let ids = |q: AuditQuery| {
        let store = store.clone();
        async move {
            store
                .list_audit(&q)
                .await
                .unwrap()
                .items
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    let expect = |keep: &dyn Fn(usize) -> bool| -> Vec<i64> {
        (0..9)
            .rev()
            .filter(|&i| keep(i))
            .map(|i| appended[i].id)
            .collect()
    };
    assert_eq!(
        ids(AuditQuery {
            board: Some(b1),
            ..Default::default()
        })
        .await,
        expect(&|i| i % 3 == 0)
    );
    assert_eq!(
        ids(AuditQuery {
            actor: Some("bob".into()),
            ..Default::default()
        })
        .await,
        expect(&|i| i % 3 != 2 && i % 2 == 1)
    );
    assert_eq!(
        ids(AuditQuery {
            action: Some("link.create".into()),
            ..Default::default()
        })
        .await,
        expect(&|i| i >= 5)
    );
    assert_eq!(
        ids(AuditQuery {
            board: Some(b2),
            actor: Some("alice".into()),
            action: Some("member.add".into()),
            ..Default::default()
        })
        .await,
        expect(&|i| i % 3 == 1 && i % 2 == 0 && i < 5)
    );
    assert_eq!(
        ids(AuditQuery {
            before: Some(appended[3].id),
            ..Default::default()
        })
        .await,
        expect(&|i| i < 3)
    );

    for _ in 0..52 {
        store
            .append_audit(&NewAudit {
                actor: None,
                action: "bulk",
                board: None,
                target: None,
                details: None,
            })
            .await
            .unwrap();
    }
    let default_page = store.list_audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(default_page.items.len(), 50, "0 means the default of 50");
    assert!(default_page.next.is_some());
    assert!(matches!(
        store
            .list_audit(&AuditQuery {
                limit: 501,
                ..Default::default()
            })
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .append_audit(&NewAudit {
                actor: None,
                action: "  ",
                board: None,
                target: None,
                details: None,
            })
            .await,
        Err(StoreError::Invalid(_))
    ));
}

async fn revoking_a_token_is_idempotent_and_purges_expired_ones(fx: &Fixture) {
    let store = fx.open().await;
    let later = now_ms() + 3_600_000;
    assert!(!store.is_token_revoked("jti-1").await.unwrap());
    store
        .revoke_token(&user("bob"), "jti-1", later)
        .await
        .unwrap();
    assert!(store.is_token_revoked("jti-1").await.unwrap());
    store
        .revoke_token(&user("bob"), "jti-1", later)
        .await
        .unwrap();
    assert!(
        store.is_token_revoked("jti-1").await.unwrap(),
        "revoking twice is harmless"
    );

    // A revocation whose token has already expired is kept until the next revocation purges it.
    store
        .revoke_token(&user("bob"), "jti-old", now_ms() - 1_000)
        .await
        .unwrap();
    assert!(store.is_token_revoked("jti-old").await.unwrap());
    store
        .revoke_token(&user("bob"), "jti-2", later)
        .await
        .unwrap();
    assert!(!store.is_token_revoked("jti-old").await.unwrap(), "purged");
    assert!(store.is_token_revoked("jti-1").await.unwrap());
    assert!(store.is_token_revoked("jti-2").await.unwrap());
    assert!(!store.is_token_revoked("jti-unknown").await.unwrap());
    assert!(matches!(
        store.revoke_token(&user("bob"), "", later).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn counts_and_stored_sizes_follow_the_data(fx: &Fixture) {
    let store = fx.open().await;
    let zero = Counts {
        boards: 0,
        archived_boards: 0,
        users: 0,
        disabled_users: 0,
    };
    assert_eq!(store.counts().await.unwrap(), zero);
    let board = new_board(&*store, "Sized", "alice").await;
    new_board(&*store, "Active", "alice").await;
    let archived = new_board(&*store, "Archived", "alice").await;
    store.set_archived(archived, true).await.unwrap();
    for i in 0..3 {
        store
            .create_user(&NewUser {
                id: user(&format!("u{i}")),
                email: format!("u{i}@example.com"),
                name: format!("User {i}"),
                password_hash: None,
                admin: false,
            })
            .await
            .unwrap();
    }
    store.set_user_disabled(&user("u1"), true).await.unwrap();
    assert_eq!(
        store.counts().await.unwrap(),
        Counts {
            boards: 3,
            archived_boards: 1,
            users: 3,
            disabled_users: 1,
        }
    );

    assert_eq!(store.stored_size(board).await.unwrap(), 0);
    store
        .append_updates(board, &[vec![1; 100], vec![2; 50]])
        .await
        .unwrap();
    assert_eq!(store.stored_size(board).await.unwrap(), 150);
    store.append_updates(board, &[vec![3; 25]]).await.unwrap();
    assert_eq!(store.stored_size(board).await.unwrap(), 175);
    store.compact(board, &[9; 40], V1, 2).await.unwrap();
    assert_eq!(
        store.stored_size(board).await.unwrap(),
        40 + 25,
        "the snapshot plus what the log still holds"
    );
    assert!(matches!(
        store.stored_size(BoardId::new()).await,
        Err(StoreError::NotFound("board"))
    ));
}

async fn admins_and_passwords_are_set(fx: &Fixture) {
    let store = fx.open().await;
    let created = store
        .create_user(&NewUser {
            id: user("ada"),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            password_hash: None,
            admin: false,
        })
        .await
        .unwrap();
    let promoted = store.set_user_admin(&user("ada"), true).await.unwrap();
    assert!(promoted.admin);
    assert_eq!(
        promoted,
        easel::store::User {
            admin: true,
            ..created.clone()
        }
    );
    assert!(store.get_user(&user("ada")).await.unwrap().admin);
    assert!(
        !store
            .set_user_admin(&user("ada"), false)
            .await
            .unwrap()
            .admin
    );

    store
        .set_password(&user("ada"), "$argon2id$new")
        .await
        .unwrap();
    assert_eq!(
        store
            .get_user(&user("ada"))
            .await
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$new")
    );
    assert!(matches!(
        store.set_password(&user("ada"), "").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.set_user_admin(&user("ghost"), true).await,
        Err(StoreError::NotFound("user"))
    ));
    assert!(matches!(
        store.set_password(&user("ghost"), "$argon2id$x").await,
        Err(StoreError::NotFound("user"))
    ));
}

async fn admission_reads_everything_a_handshake_needs_at_once(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Admitted", "alice").await;
    let unknown = store
        .admission(&user("nobody"), None, BoardId::new(), None)
        .await
        .unwrap();
    assert_eq!(unknown, Admission::default(), "no board, no account");

    let owner = store
        .admission(&user("alice"), Some("never-revoked"), board, None)
        .await
        .unwrap();
    assert!(owner.board_exists && !owner.revoked);
    assert_eq!(owner.member, Some(Role::Owner));
    assert_eq!(
        (owner.disabled, owner.admin),
        (None, None),
        "alice has no account"
    );

    store
        .create_user(&NewUser {
            id: user("bob"),
            email: "bob@example.com".into(),
            name: "Bob".into(),
            password_hash: None,
            admin: true,
        })
        .await
        .unwrap();
    store.set_user_disabled(&user("bob"), true).await.unwrap();
    store
        .revoke_token(&user("bob"), "bob-session", now_ms() + 60_000)
        .await
        .unwrap();
    let expires = now_ms() + 3_600_000;
    let link = store
        .create_link(&NewLink {
            id: uuid::Uuid::new_v4(),
            board,
            token_hash: b"hash-of-a-secret",
            role: Role::Editor,
            created_by: Some(&user("alice")),
            expires_at: Some(expires),
        })
        .await
        .unwrap();
    let bob = store
        .admission(&user("bob"), Some("bob-session"), board, Some(link.id))
        .await
        .unwrap();
    assert_eq!(
        bob,
        Admission {
            revoked: true,
            disabled: Some(true),
            admin: Some(true),
            board_exists: true,
            member: None,
            link: Some((Role::Editor, Some(expires))),
        }
    );
    let elsewhere = new_board(&*store, "Other", "alice").await;
    let wrong_board = store
        .admission(&user("bob"), None, elsewhere, Some(link.id))
        .await
        .unwrap();
    assert_eq!(wrong_board.link, None, "a link opens only its own board");
    assert!(!wrong_board.revoked);
}

async fn admissions_of_many_callers_match_one_by_one(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Crowd", "alice").await;
    let elsewhere = new_board(&*store, "Other", "alice").await;
    for (id, admin) in [("bob", false), ("carol", true)] {
        store
            .create_user(&NewUser {
                id: user(id),
                email: format!("{id}@example.com"),
                name: id.into(),
                password_hash: None,
                admin,
            })
            .await
            .unwrap();
    }
    store.set_user_disabled(&user("carol"), true).await.unwrap();
    store
        .add_member(board, &user("bob"), Role::Viewer)
        .await
        .unwrap();
    store
        .revoke_token(&user("bob"), "revoked", now_ms() + 60_000)
        .await
        .unwrap();
    let mut links = Vec::new();
    for (on, role) in [(board, Role::Editor), (elsewhere, Role::Viewer)] {
        let link = store
            .create_link(&NewLink {
                id: uuid::Uuid::new_v4(),
                board: on,
                token_hash: format!("hash-{}", links.len()).as_bytes(),
                role,
                created_by: Some(&user("alice")),
                expires_at: Some(now_ms() + 3_600_000),
            })
            .await
            .unwrap();
        links.push(link.id);
    }
    let users: Vec<UserId> = ["alice", "bob", "carol", "nobody"]
        .into_iter()
        .map(user)
        .collect();
    let jtis = [None, Some("revoked"), Some("fine")];
    let link_choices = [
        None,
        Some(links[0]),
        Some(links[1]),
        Some(uuid::Uuid::new_v4()),
    ];
    let mut callers = Vec::new();
    for u in &users {
        for jti in jtis {
            for link in link_choices {
                callers.push(AdmissionCaller { user: u, jti, link });
            }
        }
    }
    for on in [board, elsewhere, BoardId::new()] {
        let together = store.admissions(on, &callers).await.unwrap();
        assert_eq!(together.len(), callers.len());
        for (caller, batched) in callers.iter().zip(&together) {
            let alone = store
                .admission(caller.user, caller.jti, on, caller.link)
                .await
                .unwrap();
            assert_eq!(*batched, alone, "{caller:?} on {on}");
        }
    }
    // Spot checks that the comparison above compares something.
    let first = |u: &str, jti: Option<&str>, link| {
        callers
            .iter()
            .position(|c| c.user.as_str() == u && c.jti == jti && c.link == link)
            .unwrap()
    };
    let read = store.admissions(board, &callers).await.unwrap();
    assert_eq!(read[first("bob", None, None)].member, Some(Role::Viewer));
    assert!(read[first("bob", Some("revoked"), None)].revoked);
    assert_eq!(read[first("carol", None, None)].disabled, Some(true));
    assert_eq!(
        read[first("nobody", None, Some(links[0]))]
            .link
            .map(|l| l.0),
        Some(Role::Editor)
    );
    assert_eq!(read[first("nobody", None, Some(links[1]))].link, None);

    assert!(store.admissions(board, &[]).await.unwrap().is_empty());
    let too_many = vec![callers[0]; MAX_ADMISSIONS + 1];
    assert!(matches!(
        store.admissions(board, &too_many).await,
        Err(StoreError::Invalid(_))
    ));
    let most = vec![callers[0]; MAX_ADMISSIONS];
    assert_eq!(
        store.admissions(board, &most).await.unwrap().len(),
        MAX_ADMISSIONS
    );
}

/// Every event recorded after `after`, read through `store`.
async fn events_since(store: &dyn Store, after: i64) -> Vec<Event> {
    store
        .events_after(after, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

async fn every_access_change_records_its_event_for_other_nodes(fx: &Fixture) {
    let store = fx.open().await;
    let other = fx.open().await;
    let board = new_board(&*store, "Feed", "alice").await;
    store
        .create_user(&NewUser {
            id: user("bob"),
            email: "bob@example.com".into(),
            name: "Bob".into(),
            password_hash: None,
            admin: false,
        })
        .await
        .unwrap();
    let start = other.latest_event_id().await.unwrap();
    assert_eq!(
        events_since(&*other, start).await,
        [],
        "creating things changes no access"
    );

    let link = store
        .create_link(&link(board, b"feed-link", Role::Editor))
        .await
        .unwrap();
    store
        .add_member(board, &user("bob"), Role::Viewer)
        .await
        .unwrap();
    store
        .set_member_role(board, &user("bob"), Role::Editor)
        .await
        .unwrap();
    store
        .join_via_link(board, &user("carol"), link.id, Role::Editor)
        .await
        .unwrap();
    store
        .join_via_link(board, &user("bob"), link.id, Role::Editor)
        .await
        .unwrap();
    store.remove_member(board, &user("bob")).await.unwrap();
    assert!(matches!(
        store.remove_member(board, &user("alice")).await,
        Err(StoreError::LastOwner)
    ));
    assert_eq!(
        store.delete_link(board, link.id).await.unwrap(),
        [user("carol")]
    );
    store.set_user_admin(&user("bob"), true).await.unwrap();
    store.set_user_disabled(&user("bob"), true).await.unwrap();
    store.set_user_disabled(&user("bob"), false).await.unwrap();
    store
        .revoke_token(&user("bob"), "bob-token", now_ms() + 60_000)
        .await
        .unwrap();
    store.delete_board(board).await.unwrap();
    assert!(matches!(
        store.delete_board(board).await,
        Err(StoreError::NotFound(_))
    ));

    let member = |who: &str, role| Event::Member {
        board,
        user: user(who),
        role,
    };
    assert_eq!(
        events_since(&*other, start).await,
        [
            member("bob", Some(Role::Viewer)),
            member("bob", Some(Role::Editor)),
            member("carol", Some(Role::Editor)),
            member("bob", None),
            member("carol", None),
            Event::LinkRevoked {
                board,
                link: link.id
            },
            Event::Admin {
                user: user("bob"),
                admin: true
            },
            Event::UserDisabled {
                user: user("bob"),
                disabled: true
            },
            Event::UserDisabled {
                user: user("bob"),
                disabled: false
            },
            Event::TokenRevoked {
                user: user("bob"),
                jti: "bob-token".into()
            },
            Event::BoardDeleted { board },
        ],
        "in commit order; a join that changes nothing and refused changes record nothing"
    );
    let rows = other.events_after(start, 1000).await.unwrap();
    assert!(rows.windows(2).all(|w| w[0].id < w[1].id));
    assert!(rows.iter().all(|e| (now_ms() - e.at).abs() < 60_000));
    assert_eq!(
        other.events_after(start, 3).await.unwrap(),
        rows[..3],
        "pages"
    );
    assert_eq!(
        other.latest_event_id().await.unwrap(),
        rows.last().unwrap().id
    );
}

/// Writers on two pools change memberships while a reader follows the feed by id, as a
/// server does: the reader must see every event exactly once, even when a writer that drew
/// a lower id commits after one that drew a higher id would have.
async fn feed_readers_miss_no_event_of_concurrent_writers(fx: &Fixture) {
    const WRITERS: usize = 8;
    const CHANGES: usize = 15;
    let stores = [fx.open().await, fx.open().await];
    let reader = fx.open().await;
    let board = new_board(&*stores[0], "Busy", "alice").await;
    let start = reader.latest_event_id().await.unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follow = {
        let (reader, done) = (reader.clone(), done.clone());
        tokio::spawn(async move {
            let (mut cursor, mut seen) = (start, Vec::new());
            loop {
                // Read before the page: once the writers are done and a page comes back
                // empty, the follower has caught up (it may be several pages behind then).
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = reader.events_after(cursor, 7).await.unwrap();
                if page.is_empty() {
                    if finished {
                        return seen;
                    }
                    tokio::task::yield_now().await;
                }
                for e in page {
                    cursor = e.id;
                    seen.push(e.id);
                }
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = stores[w % 2].clone();
            tokio::spawn(async move {
                let who = user(&format!("writer-{w}"));
                for i in 0..CHANGES {
                    let role = [Role::Viewer, Role::Editor][i % 2];
                    if i == 0 {
                        store.add_member(board, &who, role).await.unwrap();
                    } else {
                        store.set_member_role(board, &who, role).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = follow.await.unwrap();
    let all: Vec<i64> = reader
        .events_after(start, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(all.len(), WRITERS * CHANGES);
    assert_eq!(seen, all, "the follower saw every event, once, in order");
}

async fn old_events_are_pruned_and_ids_keep_growing(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Old", "alice").await;
    store
        .add_member(board, &user("bob"), Role::Viewer)
        .await
        .unwrap();
    let first = store.latest_event_id().await.unwrap();
    assert!(first > 0);
    assert_eq!(store.prune_events(now_ms() - 60_000).await.unwrap(), 0);
    assert_eq!(store.events_after(0, 10).await.unwrap().len(), 1);
    assert_eq!(store.prune_events(now_ms() + 1).await.unwrap(), 1);
    assert_eq!(store.events_after(0, 10).await.unwrap(), []);
    store.remove_member(board, &user("bob")).await.unwrap();
    let after = store.events_after(first, 10).await.unwrap();
    assert_eq!(
        after.len(),
        1,
        "a new event gets an id past every pruned one"
    );
    assert!(after[0].id > first);
}

async fn new_events_are_announced_where_the_backend_can(fx: &Fixture) {
    let store = fx.open().await;
    let other = fx.open().await;
    let Some(mut subscription) = store.subscribe().await.unwrap() else {
        assert_eq!(
            store.backend(),
            Backend::Sqlite,
            "only SQLite cannot announce"
        );
        return;
    };
    assert_eq!(store.backend(), Backend::Postgres);
    let board = new_board(&*other, "Announced", "alice").await;
    other
        .add_member(board, &user("bob"), Role::Viewer)
        .await
        .unwrap();
    let id = other.latest_event_id().await.unwrap();
    let notice = tokio::time::timeout(Duration::from_secs(30), subscription.next())
        .await
        .expect("announced")
        .unwrap();
    assert_eq!(notice, Notice::Event(id));
}

async fn a_reader_behind_gets_the_rows_after_it_or_the_snapshot_that_replaced_them(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Behind", "alice").await;
    let updates: Vec<Vec<u8>> = (1..=10).map(|i| vec![i as u8]).collect();
    store.append_updates(board, &updates).await.unwrap();
    let seqs = |doc: &StoredDoc| doc.updates.iter().map(|u| u.seq).collect::<Vec<_>>();

    let after = store.load_after(board, 3, 1_000).await.unwrap();
    assert_eq!(seqs(&after), (4..=10).collect::<Vec<_>>());
    assert_eq!(after.updates[0].data, vec![4u8]);
    assert_eq!((after.last_seq, after.snapshot.is_none()), (10, true));
    let page = store.load_after(board, 3, 4).await.unwrap();
    assert_eq!(seqs(&page), vec![4, 5, 6, 7], "a page, in order");
    assert_eq!(page.last_seq, 10, "the last number says more remain");
    assert!(
        store
            .load_after(board, 10, 100)
            .await
            .unwrap()
            .updates
            .is_empty()
    );

    // Another process compacted up to 6: a reader at 3 gets the snapshot, then what follows.
    assert!(store.compact(board, b"state@6", V1, 6).await.unwrap());
    let behind = store.load_after(board, 3, 1_000).await.unwrap();
    let snapshot = behind
        .snapshot
        .clone()
        .expect("the snapshot that replaced rows 4-6");
    assert_eq!(
        (snapshot.seq, snapshot.state.as_slice()),
        (6, &b"state@6"[..])
    );
    assert_eq!(seqs(&behind), vec![7, 8, 9, 10]);
    // A reader at 8 is past the snapshot: only rows.
    let ahead = store.load_after(board, 8, 1_000).await.unwrap();
    assert!(ahead.snapshot.is_none());
    assert_eq!(seqs(&ahead), vec![9, 10]);

    store.delete_board(board).await.unwrap();
    assert!(matches!(
        store.load_after(board, 0, 10).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn appends_and_relayed_messages_are_announced_where_the_backend_can(fx: &Fixture) {
    let store = fx.open().await;
    let other = fx.open().await;
    let Some(mut subscription) = store.subscribe().await.unwrap() else {
        assert_eq!(store.backend(), Backend::Sqlite);
        // One process serves SQLite: relaying is accepted and goes nowhere.
        store.relay(&["q|anything".into()]).await.unwrap();
        return;
    };
    let board = new_board(&*other, "Announced log", "alice").await;
    let range = other
        .append_updates(board, &[vec![1], vec![2], vec![3]])
        .await
        .unwrap();
    other
        .relay(&["a|hello|world".into(), "q|second".into()])
        .await
        .unwrap();
    let mut heard = Vec::new();
    while heard.len() < 3 {
        let notice = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await
            .expect("announced")
            .unwrap();
        if !matches!(notice, Notice::Event(_)) {
            heard.push(notice);
        }
    }
    assert_eq!(
        heard,
        [
            Notice::Log {
                board,
                seq: range.last
            },
            Notice::Relay("a|hello|world".into()),
            Notice::Relay("q|second".into()),
        ],
        "in commit order, with the board's new last number"
    );
}

async fn a_board_holds_at_most_the_versions_asked_for(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Capped", "alice").await;
    let saves = (0..12).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let label = format!("v{i}");
            let new = NewVersion {
                board,
                label: &label,
                seq: 0,
                state: b"s",
                created_by: None,
            };
            store.create_version_within(&new, 5).await
        })
    });
    let results: Vec<_> = futures_util::future::join_all(saves)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let saved = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(saved, 5, "saves racing each other stop at the cap");
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(matches!(r, Err(StoreError::TooManyVersions(5))), "{r:?}");
    }
    assert_eq!(store.list_versions(board).await.unwrap().len(), 5);
    let other = new_board(&*store, "Other", "alice").await;
    let new = NewVersion {
        board: other,
        label: "first",
        seq: 0,
        state: b"s",
        created_by: None,
    };
    assert!(
        store.create_version_within(&new, 5).await.is_ok(),
        "per board"
    );
    let ghost = NewVersion {
        board: BoardId::new(),
        ..new
    };
    assert!(matches!(
        store.create_version_within(&ghost, 5).await,
        Err(StoreError::NotFound("board"))
    ));
}

/// A PNG-typed asset of `bytes` (the store does not look inside them).
fn png_asset(board: BoardId, bytes: &[u8]) -> NewAsset<'_> {
    NewAsset {
        board,
        mime: "image/png",
        width: 640,
        height: 480,
        bytes,
    }
}

async fn assets_are_stored_once_per_board_and_read_back(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Pictures", "alice").await;
    let bytes = b"\x89PNG pretend image bytes".to_vec();
    let stored = store
        .put_asset(&png_asset(board, &bytes), u64::MAX)
        .await
        .unwrap();
    assert_eq!(stored.id, easel::image::asset_id(&bytes));
    assert_eq!(stored.id.len(), 64);
    assert_eq!(
        (
            stored.board,
            stored.mime.as_str(),
            stored.width,
            stored.height,
            stored.size
        ),
        (board, "image/png", 640, 480, bytes.len() as i64)
    );
    let (read, read_bytes) = store.get_asset(board, &stored.id).await.unwrap();
    assert_eq!(read, stored);
    assert_eq!(read_bytes, bytes);

    // The same bytes again, even claimed as another type, change nothing.
    let again = NewAsset {
        mime: "image/gif",
        width: 1,
        height: 1,
        ..png_asset(board, &bytes)
    };
    assert_eq!(store.put_asset(&again, u64::MAX).await.unwrap(), stored);
    // Another board keeps its own copy, and one board's id does not open the other's.
    let other = new_board(&*store, "Elsewhere", "bob").await;
    assert!(matches!(
        store.get_asset(other, &stored.id).await,
        Err(StoreError::NotFound("asset"))
    ));
    let copy = store
        .put_asset(&png_asset(other, &bytes), u64::MAX)
        .await
        .unwrap();
    assert_eq!((copy.board, &copy.id), (other, &stored.id));

    // Each kind of image the store accepts, and the input it refuses.
    for mime in ["image/jpeg", "image/gif", "image/webp"] {
        let bytes = mime.as_bytes();
        let asset = NewAsset {
            mime,
            ..png_asset(board, bytes)
        };
        let stored = store.put_asset(&asset, u64::MAX).await.unwrap();
        assert_eq!(stored.mime, mime);
    }
    for bad in [
        NewAsset {
            mime: "image/svg+xml",
            ..png_asset(board, b"<svg/>")
        },
        NewAsset {
            width: 0,
            ..png_asset(board, b"x")
        },
        NewAsset {
            height: u32::MAX,
            ..png_asset(board, b"y")
        },
        png_asset(board, b""),
    ] {
        assert!(
            matches!(
                store.put_asset(&bad, u64::MAX).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        store
            .put_asset(&png_asset(BoardId::new(), b"ghost"), u64::MAX)
            .await,
        Err(StoreError::NotFound("board"))
    ));
    for id in ["nope", &"A".repeat(64), &"0".repeat(64)] {
        assert!(matches!(
            store.get_asset(board, id).await,
            Err(StoreError::NotFound("asset"))
        ));
    }
    assert!(matches!(
        store.get_asset(BoardId::new(), &stored.id).await,
        Err(StoreError::NotFound("asset"))
    ));
}

async fn a_boards_assets_stay_within_their_bound(fx: &Fixture) {
    let store = fx.open().await;
    let board = new_board(&*store, "Bounded", "alice").await;
    // Twelve distinct 100-byte images racing for room for five.
    let puts = (0..12u8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let bytes = vec![i; 100];
            store.put_asset(&png_asset(board, &bytes), 500).await
        })
    });
    let results: Vec<Result<Asset, StoreError>> = futures_util::future::join_all(puts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let stored: Vec<&Asset> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        stored.len(),
        5,
        "uploads racing each other stop at the bound"
    );
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(matches!(r, Err(StoreError::AssetsFull(500))), "{r:?}");
    }
    // Bytes already stored take no more room, so storing them again succeeds when full.
    let first = stored[0];
    let (_, bytes) = store.get_asset(board, &first.id).await.unwrap();
    assert_eq!(
        store
            .put_asset(&png_asset(board, &bytes), 500)
            .await
            .unwrap(),
        *first
    );
    // The bound is per board.
    let other = new_board(&*store, "Roomy", "alice").await;
    assert!(
        store
            .put_asset(&png_asset(other, &[7; 500]), 500)
            .await
            .is_ok()
    );
    assert!(matches!(
        store.put_asset(&png_asset(other, &[8; 1]), 500).await,
        Err(StoreError::AssetsFull(500))
    ));
}
