//! Convergence: 20 yrs clients edit one board concurrently, going offline and coming back
//! at random; every client, a fresh client and the stored board end identical.

use std::time::{Duration, Instant};

use easel::domain::Role;
use easel::store::Encoding;
use easel_tests::yclient::YClient;
use easel_tests::{board_with, spawn_app, token};
use yrs::types::ToJson;
use yrs::{Doc, Map, ReadTxn, Text, Transact};

const CLIENTS: usize = 20;
const HOUR: Duration = Duration::from_secs(3600);

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn snapshot(doc: &Doc) -> serde_json::Value {
    let elements = doc.get_or_insert_map("elements");
    let title = doc.get_or_insert_text("title");
    let txn = doc.transact();
    let mut json = String::new();
    elements.to_json(&txn).to_json(&mut json);
    serde_json::json!({ "elements": serde_json::from_str::<serde_json::Value>(&json).unwrap(), "title": title.get_string(&txn) })
}

fn edit(doc: &Doc, rng: &mut Lcg, who: usize, n: usize) -> Vec<u8> {
    let elements = doc.get_or_insert_map("elements");
    let title = doc.get_or_insert_text("title");
    let mut txn = doc.transact_mut();
    match rng.next(4) {
        0 | 1 => {
            let key = format!("shape-{}", rng.next(40));
            elements.insert(&mut txn, key, format!("by {who} #{n}"));
        }
        2 => {
            let key = format!("shape-{}", rng.next(40));
            elements.remove(&mut txn, &key);
        }
        _ => {
            let len = title.len(&txn);
            let at = if len == 0 {
                0
            } else {
                rng.next(len as u64 + 1) as u32
            };
            title.insert(&mut txn, at, &format!("{who}"));
        }
    }
    txn.encode_update_v1()
}

use yrs::GetString;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_clients_with_random_disconnects_converge() {
    let app = spawn_app().await;
    let members: Vec<(String, Role)> = (0..CLIENTS)
        .map(|i| (format!("u{i}"), Role::Editor))
        .collect();
    let refs: Vec<(&str, Role)> = members.iter().map(|(u, r)| (u.as_str(), *r)).collect();
    let board = board_with(&app, "owner", &refs).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for who in 0..CLIENTS {
        let url = app.ws_url(&board, &token(&format!("u{who}"), false, HOUR));
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(who as u64 * 7919 + 1);
            let mut client = YClient::connect(&url).await;
            let mut n = 0;
            let mut closes: Vec<u16> = Vec::new();
            while started.elapsed() < Duration::from_secs(4) {
                if let Some(closed) = client.closed.clone() {
                    // The server dropped us (e.g. too slow, 1013): reconnect, as stock clients do.
                    closes.push(closed.code);
                    client = YClient::reconnect(&url, client.go_offline().await).await;
                    continue;
                }
                if rng.next(40) == 0 {
                    // Offline for a moment, editing all the while, then back.
                    let awareness = client.go_offline().await;
                    for _ in 0..rng.next(5) {
                        edit(awareness.doc(), &mut rng, who, n);
                        n += 1;
                    }
                    client = YClient::reconnect(&url, awareness).await;
                    continue;
                }
                let update = edit(client.doc(), &mut rng, who, n);
                n += 1;
                client
                    .send_raw(easel_tests::yclient::sync_frame(2, &update))
                    .await;
                client.pump(Duration::from_millis(rng.next(20))).await;
            }
            (client, closes)
        }));
    }
    let mut clients = Vec::new();
    let mut closes = Vec::new();
    for t in tasks {
        let (client, codes) = t.await.unwrap();
        clients.push(client);
        closes.extend(codes);
    }
    println!("server-side closes during the run: {closes:?}");
    assert!(
        closes.iter().all(|c| *c == 1013),
        "only slow-consumer closes are expected: {closes:?}"
    );
    // Let in-flight traffic settle; then every client must agree with a fresh client (the
    // server's view). Clients the server dropped reconnect, as stock clients do.
    let owner_url = app.ws_url(&board, &token("owner", false, HOUR));
    let deadline = Instant::now() + Duration::from_secs(30);
    let expected = loop {
        let mut settled = Vec::with_capacity(clients.len());
        for (i, mut c) in clients.into_iter().enumerate() {
            if c.closed.is_some() {
                let url = app.ws_url(&board, &token(&format!("u{i}"), false, HOUR));
                c = YClient::reconnect(&url, c.go_offline().await).await;
            }
            c.pump(Duration::from_millis(20)).await;
            settled.push(c);
        }
        clients = settled;
        let mut fresh = YClient::connect(&owner_url).await;
        assert!(fresh.until(Duration::from_secs(10), |c| c.synced).await);
        let expected = snapshot(fresh.doc());
        let diverged: Vec<usize> = (0..clients.len())
            .filter(|i| !clients[*i].synced || snapshot(clients[*i].doc()) != expected)
            .collect();
        if diverged.is_empty() {
            break expected;
        }
        let first = &clients[diverged[0]];
        assert!(
            Instant::now() < deadline,
            "clients {diverged:?} never converged; first: synced {}, {} frames on this socket, \
             holds updates it cannot integrate: {}, state {:?}\nserver: {:?}",
            first.synced,
            first.frames(),
            first.doc().transact().has_missing_updates(),
            first.doc().transact().state_vector(),
            fresh.doc().transact().state_vector()
        );
    };
    assert!(
        expected["title"].as_str().unwrap().len() > 10,
        "real edits happened: {expected}"
    );

    // The stored board is the same document.
    let stored = app.load(&board).await;
    if let Some(snapshot) = &stored.snapshot {
        // Boards like this one are where yrs's direct v2 encoder goes wrong.
        assert_eq!(snapshot.encoding, Encoding::V2, "snapshots are v2");
    }
    let doc = easel_tests::board::rebuild(&stored);
    assert_eq!(
        snapshot(&doc),
        expected,
        "the store holds what every client holds"
    );
    println!(
        "converged: {} shapes, title of {} chars, {} logged updates after a snapshot of seq {:?}",
        expected["elements"].as_object().unwrap().len(),
        expected["title"].as_str().unwrap().len(),
        stored.updates.len(),
        stored.snapshot.as_ref().map(|s| s.seq)
    );
}
