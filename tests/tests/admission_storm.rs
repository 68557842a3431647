//! A reconnect storm: many different users open one board at the same moment. Their
//! admission reads are gathered per board into few store queries; every caller must still
//! get exactly its own answer. (A file of its own: it reads the process-wide metrics.)

use std::time::Duration;

use easel::domain::Role;
use easel_tests::yclient::YClient;
use easel_tests::{TestApp, board_with, spawn_app, spawn_sqlite_app, token};
use futures_util::future::join_all;

/// `name_sum` or `name_count` of a histogram in the Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

async fn storm(app: &TestApp) -> (f64, f64) {
    let editors: Vec<String> = (0..60).map(|i| format!("editor-{i}")).collect();
    let viewers: Vec<String> = (0..30).map(|i| format!("viewer-{i}")).collect();
    let strangers: Vec<String> = (0..30).map(|i| format!("stranger-{i}")).collect();
    let members: Vec<(&str, Role)> = editors
        .iter()
        .map(|u| (u.as_str(), Role::Editor))
        .chain(viewers.iter().map(|u| (u.as_str(), Role::Viewer)))
        .collect();
    let applied = |text: &str| metric(text, "easel_access_events_total");
    let before = applied(&app.get("/metrics").await.text().await.unwrap());
    let board = board_with(app, "alice", &members).await;
    // The server learns of the 90 memberships through the change feed; one it applies
    // while handshakes are in flight makes them read again (a change may have come
    // between their read and their join). Let the feed settle first.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while applied(&app.get("/metrics").await.text().await.unwrap()) < before + 90.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the feed never caught up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = app.get("/metrics").await.text().await.unwrap();
    let ttl = Duration::from_secs(600);
    let crowd: Vec<(&String, bool)> = editors
        .iter()
        .chain(&viewers)
        .map(|u| (u, true))
        .chain(strangers.iter().map(|u| (u, false)))
        .collect();
    let outcomes = join_all(crowd.iter().map(|(user, member)| {
        let url = app.ws_url(&board, &token(user, false, ttl));
        async move {
            let mut client = YClient::connect(&url).await;
            let outcome = if *member {
                client.until(Duration::from_secs(20), |c| c.synced).await;
                client.synced.then_some(0)
            } else {
                client.closed(Duration::from_secs(20)).await.map(|c| c.code)
            };
            (user.to_string(), *member, outcome, client)
        }
    }))
    .await;
    for (user, member, outcome, _) in &outcomes {
        if *member {
            assert_eq!(*outcome, Some(0), "{user} (a member) did not sync");
        } else {
            assert_eq!(*outcome, Some(4403), "{user} (no member) was not refused");
        }
    }
    let after = app.get("/metrics").await.text().await.unwrap();
    let callers = metric(&after, "easel_admission_batch_size_sum")
        - metric(&before, "easel_admission_batch_size_sum");
    let reads = metric(&after, "easel_admission_batch_size_count")
        - metric(&before, "easel_admission_batch_size_count");
    join_all(outcomes.into_iter().map(|(_, _, _, c)| c.close())).await;
    (callers, reads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crowd_of_different_users_is_admitted_each_by_its_own_rights() {
    for (backend, app) in [
        ("postgres", spawn_app().await),
        ("sqlite", spawn_sqlite_app().await),
    ] {
        let (callers, reads) = storm(&app).await;
        // Each handshake was read exactly once, whatever the batching did.
        assert_eq!(callers, 120.0, "{backend}");
        println!("{backend}: 120 handshakes admitted with {reads} store reads");
    }
}
