//! Attacks on the HTTP surface, replayed against the real server: an account locked out
//! by strangers' wrong passwords, control and invisible characters in client strings,
//! cross-site requests riding the session cookie, share-link secrets in the logs, a
//! squatted administrator email, and one account creating boards and versions without
//! end. Each test shows the attack now gets a clear JSON refusal and the server stays up.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use easel::store::{NewUser, Store};
use easel_tests::{ServerProcess, TestApp, spawn_app_with, spawn_pg_app_with, token};
use reqwest::header::{COOKIE, HeaderMap, ORIGIN, REFERER};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const HOUR: Duration = Duration::from_secs(3600);
const BIN: &str = env!("CARGO_BIN_EXE_easel-test-server");

/// A client whose connections come from `127.0.0.<last>`: another address to the server.
fn client_from(last: u8) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .expect("a client bound to a loopback address")
}

/// What a response said: status, headers and JSON body (`Null` when it has none).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    async fn of(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("a response body");
        Self {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// Asserts a refusal in the one JSON error shape.
    fn refused(&self, status: u16, code: &str, what: &str) {
        assert_eq!(self.status.as_u16(), status, "{what}: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{what}: {}", self.body);
        assert!(
            self.body["error"]["message"].is_string(),
            "{what}: {}",
            self.body
        );
    }

    /// Asserts a 429 with a sensible `Retry-After`.
    fn limited(&self, what: &str) {
        self.refused(429, "too_many_requests", what);
        let retry: u64 = self.headers["retry-after"]
            .to_str()
            .expect("Retry-After is text")
            .parse()
            .expect("Retry-After is whole seconds");
        assert!((1..=3600).contains(&retry), "{what}: Retry-After {retry}");
    }
}

/// Sends `method path` with an optional bearer token and JSON body.
async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = app.client.request(method, format!("{}{path}", app.address));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    Answer::of(req.send().await.expect("the server answers")).await
}

async fn still_up(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

async fn register(app: &TestApp, email: &str, password: &str) {
    let res = call(
        app,
        "POST",
        "/api/auth/register",
        None,
        Some(json!({"email": email, "name": "Someone", "password": password})),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

async fn login_from(client: &Client, app: &TestApp, email: &str, password: &str) -> Answer {
    let res = client
        .post(format!("{}/api/auth/login", app.address))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("the server answers");
    Answer::of(res).await
}

/// Creates a board owned by `bearer` through the API and returns its id.
async fn new_board(app: &TestApp, bearer: &str, name: &str) -> String {
    let res = call(
        app,
        "POST",
        "/api/boards",
        Some(bearer),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["id"].as_str().expect("a board id").to_owned()
}

// Finding 7: the per-account login limit must not become a lockout.
#[tokio::test]
async fn wrong_passwords_from_ten_addresses_do_not_lock_the_victim_out() {
    let app = spawn_app_with(None, &[("EASEL_LOGIN_ATTEMPTS_PER_MINUTE", "10")]).await;
    let (email, password) = ("victim@example.com", "the-victims-password");
    register(&app, email, password).await;

    for last in 2..12 {
        let res = login_from(&client_from(last), &app, email, "a-wrong-guess").await;
        res.refused(401, "unauthorized", &format!("a guess from 127.0.0.{last}"));
    }
    let res = login_from(&app.client, &app, email, password).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "the victim is let in: {}",
        res.body
    );
    assert!(res.body["token"].is_string());

    // One address hammering the account is still slowed down
    // (sent at once, so the count does not depend on how fast the server is)...
    let attacker = client_from(20);
    let guesses = (0..11).map(|_| login_from(&attacker, &app, email, "another-wrong-guess"));
    let answers = futures_util::future::join_all(guesses).await;
    let limited: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(limited.len(), 1, "the eleventh guess a minute is refused");
    limited[0].limited("the eleventh guess");
    // ...and even then the victim gets in, from their own address.
    let res = login_from(&app.client, &app, email, password).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    still_up(&app).await;
}

// Finding 8: every string a client sends is checked once; a NUL is a 400, never a 500.
async fn control_characters_are_refused(app: &TestApp) {
    let owner = token("owner-1", false, HOUR);
    let admin = token("root", true, HOUR);
    let board = new_board(app, &owner, "Plan").await;
    let link = call(
        app,
        "POST",
        &format!("/api/boards/{board}/links"),
        Some(&owner),
        Some(json!({"role": "viewer"})),
    )
    .await;
    let secret = link.body["token"]
        .as_str()
        .expect("a link secret")
        .to_owned();
    let register = |email: &str, name: &str, password: &str| {
        Some(json!({"email": email, "name": name, "password": password}))
    };
    let pw = "long enough password";
    let cases: Vec<(&str, String, Option<&str>, Option<Value>)> = vec![
        (
            "POST",
            "/api/auth/register".into(),
            None,
            register("a\u{0}b@example.com", "A", pw),
        ),
        (
            "POST",
            "/api/auth/register".into(),
            None,
            register("a@exa\u{202e}mple.com", "A", pw),
        ),
        (
            "POST",
            "/api/auth/register".into(),
            None,
            register("b@example.com", "B\u{0}", pw),
        ),
        (
            "POST",
            "/api/auth/register".into(),
            None,
            register("c@example.com", "\u{202e}nimda", pw),
        ),
        (
            "POST",
            "/api/auth/register".into(),
            None,
            register("d@example.com", "ad\u{200b}min", pw),
        ),
        (
            "POST",
            "/api/auth/register".into(),
            None,
            register("e@example.com", "E", "pass\u{0}word-123"),
        ),
        (
            "POST",
            "/api/auth/login".into(),
            None,
            Some(json!({"email": "a\u{0}@example.com", "password": pw})),
        ),
        (
            "POST",
            "/api/auth/login".into(),
            None,
            Some(json!({"email": "a@example.com", "password": "pass\u{0}word"})),
        ),
        (
            "POST",
            "/api/boards".into(),
            Some(&owner),
            Some(json!({"name": "Plan\u{0}"})),
        ),
        (
            "POST",
            "/api/boards".into(),
            Some(&owner),
            Some(json!({"name": "\u{202e}nalP"})),
        ),
        (
            "POST",
            "/api/boards".into(),
            Some(&owner),
            Some(json!({"name": "Pl\u{200b}an"})),
        ),
        (
            "PATCH",
            format!("/api/boards/{board}"),
            Some(&owner),
            Some(json!({"name": "\u{2066}x"})),
        ),
        ("GET", "/api/boards?q=%00".into(), Some(&owner), None),
        ("GET", "/api/boards?q=a%1Bb".into(), Some(&owner), None),
        ("GET", "/api/boards?cursor=%00".into(), Some(&owner), None),
        (
            "POST",
            "/api/boards/import?format=json&name=a%00b".into(),
            Some(&owner),
            Some(json!({"schema": 1})),
        ),
        (
            "POST",
            format!("/api/boards/{board}/versions"),
            Some(&owner),
            Some(json!({"name": "v\u{0}1"})),
        ),
        (
            "POST",
            format!("/api/boards/{board}/versions"),
            Some(&owner),
            Some(json!({"name": "v\u{202e}1"})),
        ),
        (
            "POST",
            format!("/api/boards/{board}/versions"),
            Some(&owner),
            Some(json!({"name": "v\u{7f}1"})),
        ),
        ("POST", "/api/links/a%00b/join".into(), Some(&owner), None),
        (
            "POST",
            format!("/api/links/{secret}/join"),
            None,
            Some(json!({"name": "Vis\u{0}itor"})),
        ),
        (
            "POST",
            format!("/api/links/{secret}/join"),
            None,
            Some(json!({"name": "Visi\u{200d}tor"})),
        ),
        (
            "PUT",
            format!("/api/boards/{board}/members/a%00b"),
            Some(&owner),
            Some(json!({"role": "viewer"})),
        ),
        (
            "GET",
            "/api/admin/audit?actor=%00".into(),
            Some(&admin),
            None,
        ),
        (
            "GET",
            "/api/admin/audit?action=board.%00create".into(),
            Some(&admin),
            None,
        ),
        (
            "GET",
            "/api/admin/users?cursor=%00".into(),
            Some(&admin),
            None,
        ),
        (
            "PATCH",
            "/api/admin/users/a%00b".into(),
            Some(&admin),
            Some(json!({"disabled": true})),
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, bearer, body) in cases {
        let what = format!("{method} {path} {body:?}");
        let res = call(app, method, &path, bearer, body).await;
        if res.status != StatusCode::BAD_REQUEST || res.body["error"]["code"] != "bad_request" {
            wrong.push(format!("{what}: {} {}", res.status, res.body));
        }
    }
    assert!(
        wrong.is_empty(),
        "not refused with a 400:\n{}",
        wrong.join("\n")
    );
    // Names in any script, with emoji, are fine; the checks refuse only the invisible.
    let res = call(
        app,
        "POST",
        "/api/boards",
        Some(&owner),
        Some(json!({"name": "Café ☕ 計画 خطة"})),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    register_ok(app, "zoe@example.com", "Zoë 🎨", "pässwörd with spaces").await;
    still_up(app).await;
}

async fn register_ok(app: &TestApp, email: &str, name: &str, password: &str) {
    let res = call(
        app,
        "POST",
        "/api/auth/register",
        None,
        Some(json!({"email": email, "name": name, "password": password})),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["user"]["name"], name);
}

#[tokio::test]
async fn control_characters_in_client_strings_are_a_400_on_postgres() {
    let app = spawn_pg_app_with(&[("EASEL_GUEST_LINKS", "true")]).await;
    control_characters_are_refused(&app).await;
}

#[tokio::test]
async fn control_characters_in_client_strings_are_a_400_on_sqlite() {
    let app = spawn_app_with(None, &[("EASEL_GUEST_LINKS", "true")]).await;
    control_characters_are_refused(&app).await;
}

// Finding 9: a request riding the session cookie must come from an allowed origin.
#[tokio::test]
async fn cookie_requests_from_other_sites_are_refused() {
    let app = spawn_app_with(
        None,
        &[("EASEL_ALLOWED_ORIGINS", "https://app.example.com")],
    )
    .await;
    let (email, password) = ("csrf@example.com", "csrf-victim-password");
    register(&app, email, password).await;
    let session = login_from(&app.client, &app, email, password).await;
    let bearer = session.body["token"].as_str().expect("a token").to_owned();
    let cookie = format!("easel_token={bearer}");
    let own = format!("http://127.0.0.1:{}", app.port);

    let board = new_board(&app, &bearer, "Target").await;
    let version = call(
        &app,
        "POST",
        &format!("/api/boards/{board}/versions"),
        Some(&bearer),
        Some(json!({"name": "Before"})),
    )
    .await;
    let version = version.body["id"]
        .as_str()
        .expect("a version id")
        .to_owned();
    let other = token("someone-else", false, HOUR);
    let theirs = new_board(&app, &other, "Attacker's board").await;
    let link = call(
        &app,
        "POST",
        &format!("/api/boards/{theirs}/links"),
        Some(&other),
        Some(json!({"role": "editor"})),
    )
    .await;
    let secret = link.body["token"]
        .as_str()
        .expect("a link secret")
        .to_owned();

    let restore = format!(
        "{}/api/boards/{board}/versions/{version}/restore",
        app.address
    );
    let join = format!("{}/api/links/{secret}/join", app.address);
    let import = format!("{}/api/boards/import?format=json", app.address);
    let delete = format!("{}/api/boards/{board}", app.address);
    let export = br#"{"schema":1,"meta":{},"elements":{},"bindings":{},"assets":{}}"#;
    let with_cookie = |method: Method, url: &str| {
        app.client
            .request(method, url)
            .header(COOKIE, cookie.as_str())
    };

    // A form post from another site (or from nowhere a browser would say) is refused.
    for (what, req) in [
        ("restore, no Origin", with_cookie(Method::POST, &restore)),
        (
            "restore from evil.example",
            with_cookie(Method::POST, &restore).header(ORIGIN, "https://evil.example"),
        ),
        (
            "restore, Origin null",
            with_cookie(Method::POST, &restore).header(ORIGIN, "null"),
        ),
        (
            "join from evil.example",
            with_cookie(Method::POST, &join).header(ORIGIN, "https://evil.example"),
        ),
        (
            "join, Referer on evil.example",
            with_cookie(Method::POST, &join).header(REFERER, "https://evil.example/page"),
        ),
        (
            "import as a form",
            with_cookie(Method::POST, &import)
                .header(ORIGIN, "https://evil.example")
                .header("content-type", "text/plain")
                .body(export.to_vec()),
        ),
        (
            "delete from a look-alike host",
            with_cookie(Method::DELETE, &delete).header(
                ORIGIN,
                format!("http://127.0.0.1:{}.evil.example", app.port),
            ),
        ),
    ] {
        Answer::of(req.send().await.unwrap())
            .await
            .refused(403, "forbidden", what);
    }
    let members = call(
        &app,
        "GET",
        &format!("/api/boards/{theirs}/members"),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(
        members.body["items"].as_array().map(Vec::len),
        Some(1),
        "nobody joined"
    );
    let still_there = call(
        &app,
        "GET",
        &format!("/api/boards/{board}"),
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(
        still_there.status,
        StatusCode::OK,
        "the board was not deleted"
    );

    // Safe methods with the cookie, the server's own pages, allowed origins and bearer
    // tokens are unchanged.
    let reads = with_cookie(Method::GET, &format!("{}/api/boards", app.address));
    assert_eq!(reads.send().await.unwrap().status(), StatusCode::OK);
    for (what, req, want) in [
        (
            "restore from the server's own page",
            with_cookie(Method::POST, &restore).header(ORIGIN, own.as_str()),
            StatusCode::OK,
        ),
        (
            "restore with only a Referer of our own",
            with_cookie(Method::POST, &restore).header(REFERER, format!("{own}/boards/{board}")),
            StatusCode::OK,
        ),
        (
            "restore from an allowed origin",
            with_cookie(Method::POST, &restore).header(ORIGIN, "https://app.example.com"),
            StatusCode::OK,
        ),
        (
            "restore with a bearer token and no Origin",
            app.client.post(&restore).bearer_auth(&bearer),
            StatusCode::OK,
        ),
        (
            "join from the server's own page",
            with_cookie(Method::POST, &join).header(ORIGIN, own.as_str()),
            StatusCode::OK,
        ),
        (
            "import as JSON from the server's own page",
            with_cookie(Method::POST, &import)
                .header(ORIGIN, own.as_str())
                .header("content-type", "application/json")
                .body(export.to_vec()),
            StatusCode::CREATED,
        ),
    ] {
        let res = Answer::of(req.send().await.unwrap()).await;
        assert_eq!(res.status, want, "{what}: {}", res.body);
    }

    // The import reads no JSON extractor: it refuses the bodies an HTML form can send.
    for kind in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let req = app
            .client
            .post(&import)
            .bearer_auth(&bearer)
            .header("content-type", kind)
            .body(export.to_vec());
        Answer::of(req.send().await.unwrap())
            .await
            .refused(415, "unsupported_media_type", kind);
    }
    for kind in ["application/json", "application/octet-stream"] {
        let req = app
            .client
            .post(&import)
            .bearer_auth(&bearer)
            .header("content-type", kind)
            .body(export.to_vec());
        assert_eq!(
            req.send().await.unwrap().status(),
            StatusCode::CREATED,
            "{kind}"
        );
    }
    still_up(&app).await;
}

// Finding 10: a share link's secret never reaches the logs, even at debug level.
#[tokio::test]
async fn share_link_secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let server = ServerProcess::start(
        BIN,
        &[("EASEL_DATA_DIR", &data_dir), ("EASEL_LOG", "debug")],
    )
    .await;
    let base = format!("http://127.0.0.1:{}", server.port);
    let client = Client::new();
    let owner = token("owner-1", false, HOUR);
    let board: Value = client
        .post(format!("{base}/api/boards"))
        .bearer_auth(&owner)
        .json(&json!({"name": "Secret plans"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let board = board["id"].as_str().unwrap();
    let link: Value = client
        .post(format!("{base}/api/boards/{board}/links"))
        .bearer_auth(&owner)
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = link["token"].as_str().unwrap().to_owned();
    let guest = token("guest-1", false, HOUR);
    let joined = client
        .post(format!("{base}/api/links/{secret}/join"))
        .bearer_auth(&guest)
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::OK);
    // A secret that does not exist, spelled with percent-escapes, and a web-client link.
    let unknown = "N0tAReal-Secret_ButStillSecret";
    let escaped = "%4E0tAReal-Secret_ButStillSecret";
    for path in [
        format!("/api/links/{unknown}/join"),
        format!("/api/%6Cinks/{escaped}/join"),
    ] {
        let res = client
            .post(format!("{base}{path}"))
            .bearer_auth(&guest)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    client
        .get(format!("{base}/join/{secret}"))
        .send()
        .await
        .unwrap();

    let logs = || server.logs();
    let mut waited = 0;
    while !logs().iter().any(|l| l.contains("/join/[redacted]")) && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    let logs = logs();
    let requests: Vec<&String> = logs.iter().filter(|l| l.contains("/join")).collect();
    assert!(
        requests.len() >= 4,
        "the requests are logged at debug level: {logs:#?}"
    );
    for line in &logs {
        for leaked in [secret.as_str(), unknown, escaped, "StillSecret"] {
            assert!(!line.contains(leaked), "a link secret in the log: {line}");
        }
    }
    assert!(
        logs.iter()
            .any(|l| l.contains("/api/links/[redacted]/join")),
        "the redacted path is logged: {logs:#?}"
    );
}

// Finding 12: an account squatting EASEL_ADMIN_EMAIL is reported at start.
#[tokio::test]
async fn an_account_squatting_the_admin_email_is_a_warning_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        easel::store::SqliteStore::open(&dir.path().join("easel.db"), 2, Duration::from_secs(5))
            .await
            .unwrap();
    store.migrate().await.unwrap();
    store
        .create_user(&NewUser {
            id: easel::domain::UserId::parse("early-bird").unwrap(),
            email: "admin@example.com".into(),
            name: "Not the admin".into(),
            password_hash: Some(
                easel::auth::hash_password("squatters-password")
                    .await
                    .unwrap(),
            ),
            admin: false,
        })
        .await
        .unwrap();
    store.close().await;

    let data_dir = dir.path().display().to_string();
    let server = ServerProcess::start(
        BIN,
        &[
            ("EASEL_DATA_DIR", &data_dir),
            ("EASEL_ADMIN_EMAIL", "admin@example.com"),
            ("EASEL_ADMIN_PASSWORD", "the-operators-password"),
        ],
    )
    .await;
    let warnings: Vec<Value> = server
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["level"] == "WARN")
        .collect();
    let warning = warnings
        .iter()
        .find(|v| {
            v["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("EASEL_ADMIN_EMAIL")
        })
        .unwrap_or_else(|| panic!("no warning about EASEL_ADMIN_EMAIL: {:#?}", server.logs()));
    let message = warning["fields"]["message"].as_str().unwrap();
    assert!(message.contains("not an administrator"), "{message}");
    assert!(
        message.contains("easel admin create-user"),
        "says what to do: {message}"
    );
    assert_eq!(warning["fields"]["user_id"], "early-bird", "{warning}");
    // The squatter gained nothing: the operator's password does not open the account.
    let res = Client::new()
        .post(format!("http://127.0.0.1:{}/api/auth/login", server.port))
        .json(&json!({"email": "admin@example.com", "password": "the-operators-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

// Finding 13: per-user board creation and per-board versions are bounded.
#[tokio::test]
async fn one_account_cannot_create_boards_without_end() {
    let app = spawn_pg_app_with(&[("EASEL_BOARDS_PER_HOUR", "5")]).await;
    let greedy = token("greedy", false, HOUR);
    let creations = (0..30).map(|i| {
        let url = if i % 3 == 0 {
            format!(
                "{}/api/boards/import?format=json&name=Copy%20{i}",
                app.address
            )
        } else {
            format!("{}/api/boards", app.address)
        };
        let req = app.client.post(url).bearer_auth(&greedy);
        let req = if i % 3 == 0 {
            req.header("content-type", "application/json")
                .body(r#"{"schema":1,"meta":{},"elements":{},"bindings":{},"assets":{}}"#)
        } else {
            req.json(&json!({"name": format!("Board {i}")}))
        };
        async move { Answer::of(req.send().await.unwrap()).await }
    });
    let answers = futures_util::future::join_all(creations).await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let limited: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(created, 5, "five boards an hour");
    assert_eq!(limited.len(), 25);
    for a in limited {
        a.limited("the sixth board within the hour");
    }
    let listed = call(&app, "GET", "/api/boards?limit=100", Some(&greedy), None).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(5));
    // Someone else is not affected.
    new_board(&app, &token("modest", false, HOUR), "Mine").await;
    still_up(&app).await;
}

#[tokio::test]
async fn a_board_holds_a_bounded_number_of_versions() {
    let app = spawn_app_with(None, &[("EASEL_MAX_VERSIONS_PER_BOARD", "3")]).await;
    let owner = token("owner-1", false, HOUR);
    let board = new_board(&app, &owner, "Versioned").await;
    let path = format!("/api/boards/{board}/versions");
    let saves = (0..10).map(|i| {
        call(
            &app,
            "POST",
            &path,
            Some(&owner),
            Some(json!({"name": format!("v{i}")})),
        )
    });
    let answers = futures_util::future::join_all(saves).await;
    let saved = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(saved, 3, "three versions, even when saved all at once");
    for a in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        a.refused(409, "conflict", "a fourth version");
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(message.contains('3'), "says how many: {message}");
    }
    let listed = call(
        &app,
        "GET",
        &format!("/api/boards/{board}/versions"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(3));
    // Another board has room of its own.
    let other = new_board(&app, &owner, "Fresh").await;
    let res = call(
        &app,
        "POST",
        &format!("/api/boards/{other}/versions"),
        Some(&owner),
        Some(json!({"name": "first"})),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    still_up(&app).await;
}
