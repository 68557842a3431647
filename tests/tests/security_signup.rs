//! Sign-up under a crowd, against the real server in this process: 160 registrations at
//! once from 40 addresses must hash at most as many passwords at a time as the server has
//! hashing slots (so memory stays bounded), a duplicate email must get the same answer for
//! the same work as a new one, and one address is rate-limited like login.
//!
//! One test in its own binary: the process's memory figures and the hash counters are
//! process-wide, so nothing else may run beside it.

use std::net::{IpAddr, Ipv4Addr};

use easel_tests::{TestApp, spawn_app_with};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// Memory one argon2 hash with the default parameters holds while it runs.
const HASH_MIB: u64 = 19;

fn client_from(last: u8) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .expect("a client bound to a loopback address")
}

/// This process's resident memory now and at its peak, in KiB (from /proc/self/status).
#[derive(Debug, Clone, Copy)]
struct Memory {
    rss_kib: u64,
    peak_kib: u64,
}

impl Memory {
    fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
        };
        Self {
            rss_kib: field("VmRSS:"),
            peak_kib: field("VmHWM:"),
        }
    }
}

/// A sample's value in the Prometheus text `/metrics` serves.
async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.expect("metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("{name} is not on /metrics"))
}

async fn register(
    client: &Client,
    app: &TestApp,
    email: &str,
    name: &str,
    pw: &str,
) -> (StatusCode, Value) {
    let res = client
        .post(format!("{}/api/auth/register", app.address))
        .json(&json!({"email": email, "name": name, "password": pw}))
        .send()
        .await
        .expect("the server answers");
    let status = res.status();
    let retry_after = res.headers().get("retry-after").cloned();
    let mut body: Value = res.json().await.unwrap_or(Value::Null);
    if let Some(v) = retry_after {
        body["retry_after"] = json!(v.to_str().unwrap_or_default());
    }
    (status, body)
}

#[tokio::test]
async fn a_crowd_of_signups_is_bounded_duplicates_look_new_and_addresses_are_limited() {
    let app = spawn_app_with(None, &[("EASEL_SIGNUP_ATTEMPTS_PER_MINUTE", "10")]).await;

    // 160 registrations at once: 40 addresses, 4 each.
    let clients: Vec<Client> = (0..40).map(|i| client_from(2 + i)).collect();
    let before = Memory::now();
    let signups = clients.iter().enumerate().flat_map(|(c, client)| {
        let app = &app;
        (0..4).map(move |n| async move {
            let email = format!("crowd-{c}-{n}@example.com");
            register(client, app, &email, "Crowd", "crowd password 123").await
        })
    });
    let answers = futures_util::future::join_all(signups).await;
    let after = Memory::now();
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused: Vec<String> = answers
        .iter()
        .filter(|(s, _)| *s != StatusCode::CREATED)
        .map(|(s, body)| format!("{s} {}", body["error"]["message"]))
        .collect();
    eprintln!(
        "160 concurrent sign-ups: {created} created, refused: {refused:?}; RSS {} MiB before, {} MiB after; \
         peak RSS {} MiB before, {} MiB after (+{} MiB)",
        before.rss_kib / 1024,
        after.rss_kib / 1024,
        before.peak_kib / 1024,
        after.peak_kib / 1024,
        (after.peak_kib - before.peak_kib) / 1024,
    );
    let slots = metric(&app, "easel_password_hash_slots").await;
    let peak = metric(&app, "easel_password_hashes_peak").await;
    let hashed = metric(&app, "easel_password_hashes_total").await;
    eprintln!("hashing slots {slots}, peak concurrent hashes {peak}, hashes so far {hashed}");
    assert_eq!(created, 160, "{answers:?}");
    assert!(slots >= 1);
    assert!(
        (1..=slots).contains(&peak),
        "at most {slots} hashes at a time, saw {peak}"
    );
    assert!(hashed >= 160, "every sign-up hashed: {hashed}");
    let bound_mib = (slots + 4) * (HASH_MIB + 1) + 64;
    let grew_mib = (after.peak_kib - before.peak_kib) / 1024;
    assert!(
        grew_mib <= bound_mib,
        "peak memory grew {grew_mib} MiB; {slots} slots of {HASH_MIB} MiB bound it near {bound_mib} MiB"
    );

    // A duplicate email: the same answer, after the same work, and nothing changes.
    let anyone = &app.client;
    let (first, new) = register(anyone, &app, "dup@example.com", "First", "first password 1").await;
    let hashed = metric(&app, "easel_password_hashes_total").await;
    let (second, dup) = register(
        anyone,
        &app,
        "DUP@example.com",
        "Second",
        "second password 2",
    )
    .await;
    let hashed_after = metric(&app, "easel_password_hashes_total").await;
    assert_eq!(first, StatusCode::CREATED, "{new}");
    assert_eq!(second, StatusCode::CREATED, "{dup}");
    let keys = |v: &Value| {
        let mut k: Vec<String> = v["user"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(&new), keys(&dup), "{new} / {dup}");
    assert_eq!(dup["user"]["email"], "dup@example.com");
    assert_eq!(dup["user"]["name"], "Second");
    assert_eq!(dup["user"]["admin"], false);
    assert_ne!(dup["user"]["id"], new["user"]["id"]);
    assert_eq!(
        hashed_after,
        hashed + 1,
        "a duplicate costs one hash, as a new account does"
    );
    let login = |pw: &'static str| {
        anyone
            .post(format!("{}/api/auth/login", app.address))
            .json(&json!({"email": "dup@example.com", "password": pw}))
            .send()
    };
    assert_eq!(
        login("first password 1").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        login("second password 2").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // One address: ten sign-ups a minute, then 429 with Retry-After (sent at once, so the
    // count does not depend on how fast the server is).
    let one = client_from(100);
    let attempts = (0..11).map(|n| {
        let (one, app) = (&one, &app);
        async move {
            register(
                one,
                app,
                &format!("one-{n}@example.com"),
                "One",
                "one password 123",
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let limited: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, body)| body)
        .collect();
    assert_eq!((created, limited.len()), (10, 1), "{answers:?}");
    assert_eq!(limited[0]["error"]["code"], "too_many_requests");
    let retry: u64 = limited[0]["retry_after"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}
