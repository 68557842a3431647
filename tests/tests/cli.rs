//! The `easel` command line, run as a real process against both backends.

use std::path::Path;
use std::process::{Command, Output};

use easel::store::Store;
use easel_tests::{TEST_JWT_SECRET, TestDb};

struct Cli<'a> {
    data_dir: &'a Path,
    database_url: Option<String>,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_easel-test-server"));
        cmd.args(args)
            .env_clear()
            .env("EASEL_DATA_DIR", self.data_dir)
            .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
            .env("EASEL_LOG", "error")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(url) = &self.database_url {
            cmd.env("DATABASE_URL", url);
        }
        let mut child = cmd.spawn().expect("run easel");
        let mut input = child.stdin.take().expect("stdin");
        // A command that fails before reading stdin closes it: what it says is what counts.
        let _ = input.write_all(stdin.as_bytes());
        drop(input);
        child.wait_with_output().expect("run easel")
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok_with_stdin(args, "")
    }

    fn ok_with_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run_with_stdin(args, stdin);
        assert!(
            out.status.success(),
            "easel {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        self.fails_with_stdin(args, "")
    }

    fn fails_with_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run_with_stdin(args, stdin);
        assert!(!out.status.success(), "easel {args:?} should fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "one clear line: {err}");
        assert!(err.starts_with("error: "), "{err}");
        err
    }
}

fn board_lifecycle(cli: &Cli<'_>) {
    assert_eq!(cli.ok(&["migrate"]).trim(), "migrations applied");
    let id = cli
        .ok(&[
            "board",
            "create",
            "--name",
            "Launch plan",
            "--owner",
            "alice",
        ])
        .trim()
        .to_string();
    uuid::Uuid::parse_str(&id).expect("board create prints the id");

    assert!(
        cli.ok(&["board", "grant", &id, "bob", "viewer"])
            .contains("bob is now viewer")
    );
    assert!(
        cli.ok(&["board", "grant", &id, "bob", "editor"])
            .contains("bob is now editor"),
        "grant changes a role"
    );
    let listed = cli.ok(&["board", "list", "--member", "bob"]);
    let row: Vec<&str> = listed.trim().split('\t').collect();
    assert_eq!(row[..4], [id.as_str(), "Launch plan", "alice", "active"]);
    assert_eq!(cli.ok(&["board", "list", "--search", "nothing"]).trim(), "");

    assert!(
        cli.fails(&["board", "revoke", &id, "alice"])
            .contains("at least one owner")
    );
    cli.ok(&["board", "revoke", &id, "bob"]);
    assert!(
        cli.fails(&["board", "revoke", &id, "bob"])
            .contains("not found")
    );
    assert!(
        cli.fails(&["board", "grant", &id, "bob", "admin"])
            .contains("invalid role")
    );
    assert!(
        cli.fails(&["board", "create", "--name", "  ", "--owner", "alice"])
            .contains("invalid board name")
    );
    assert!(
        cli.fails(&["board", "delete", "not-a-uuid"])
            .contains("invalid board id")
    );

    cli.ok(&["board", "delete", &id]);
    assert!(
        cli.fails(&["board", "delete", &id])
            .contains("board not found")
    );
    assert_eq!(cli.ok(&["board", "list"]).trim(), "");
}

#[test]
fn board_commands_work_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    board_lifecycle(&Cli {
        data_dir: dir.path(),
        database_url: None,
    });
    assert!(dir.path().join("easel.db").exists());
}

#[tokio::test]
async fn board_commands_work_on_postgres() {
    let db = TestDb::create().await;
    let url = db.url();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        board_lifecycle(&Cli {
            data_dir: dir.path(),
            database_url: Some(url),
        });
    })
    .await
    .unwrap();
}

#[test]
fn token_prints_a_jwt_the_server_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli {
        data_dir: dir.path(),
        database_url: None,
    };
    let token = cli.ok(&[
        "token", "--user", "alice", "--name", "Alice", "--admin", "--ttl", "2h",
    ]);
    let keys = easel::auth::JwtKeys::from_secret(&easel::config::Secret::new(TEST_JWT_SECRET));
    let principal = keys.verify(token.trim()).unwrap();
    assert_eq!(principal.user.as_str(), "alice");
    assert!(principal.admin);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 7100..=now + 7300).contains(&principal.expires_at));
    assert!(
        cli.fails(&["token", "--user", ""])
            .contains("invalid user id")
    );
    assert!(
        !cli.run(&["token", "--user", "a", "--ttl", "soon"])
            .status
            .success()
    );
}

#[test]
fn bad_configuration_names_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_easel-test-server"))
        .args(["migrate"])
        .env_clear()
        .env("EASEL_BIND", "nowhere")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("EASEL_BIND"), "{err}");
}

#[test]
fn development_mode_generates_and_keeps_a_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_easel-test-server"))
            .args(["token", "--user", "alice"])
            .env_clear()
            .env("EASEL_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let key = std::fs::read_to_string(dir.path().join("jwt_secret")).unwrap();
    assert!(run().status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("jwt_secret")).unwrap(),
        key,
        "generated once"
    );
    let prod = Command::new(env!("CARGO_BIN_EXE_easel-test-server"))
        .args(["token", "--user", "alice"])
        .env_clear()
        .env("EASEL_DATA_DIR", dir.path())
        .env("EASEL_ENV", "production")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&prod.stderr).contains("EASEL_JWT_SECRET"));
}

#[tokio::test]
async fn serve_migrates_postgres_answers_readyz_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_easel-test-server"))
        .arg("serve")
        .env_clear()
        .env("EASEL_BIND", "127.0.0.1:0")
        .env("EASEL_DATA_DIR", dir.path())
        .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
        .env("DATABASE_URL", db.url())
        .env("EASEL_LOG", "info")
        .env("EASEL_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let port = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        while let Some(Ok(line)) = lines.next() {
            let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines");
            if v["fields"]["message"] == "easel is listening" {
                std::thread::spawn(move || lines.for_each(drop));
                return v["fields"]["port"].as_u64().unwrap();
            }
        }
        panic!("the server never said it was listening");
    })
    .await
    .unwrap();
    let res = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["store"],
        "postgres"
    );
    let healthy = health(&format!("0.0.0.0:{port}"));
    assert!(healthy.status.success(), "{healthy:?}");
    assert_eq!(String::from_utf8_lossy(&healthy.stdout), "healthy\n");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let gone = health(&format!("0.0.0.0:{port}"));
    assert!(!gone.status.success(), "a stopped server is not healthy");
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(
        err.contains(&format!("http://127.0.0.1:{port}/healthz: ")),
        "{err}"
    );
}

/// `easel health` (the image's HEALTHCHECK) with the server's EASEL_BIND, as a container
/// runs it beside its server.
fn health(bind: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_easel-test-server"))
        .arg("health")
        .env_clear()
        .env("EASEL_BIND", bind)
        .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
        .env("EASEL_LOG", "error")
        .output()
        .unwrap()
}

fn create<'a>(email: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "admin",
        "create-user",
        "--email",
        email,
        "--name",
        "Ada",
        "--password-stdin",
    ];
    args.extend_from_slice(extra);
    args
}

fn create_user_lifecycle(cli: &Cli<'_>) -> String {
    let id = cli
        .ok_with_stdin(
            &create("Ada@Example.com", &["--admin"]),
            "correct horse battery\n",
        )
        .trim()
        .to_string();
    uuid::Uuid::parse_str(&id).expect("create-user prints the new id");

    assert!(
        cli.fails_with_stdin(&create("ada@example.com", &[]), "another good password\n")
            .contains("already exists"),
        "the same email, whatever its case"
    );
    assert!(
        cli.fails_with_stdin(&create("bob@example.com", &[]), "short\n")
            .contains("at least 8 characters")
    );
    assert!(
        cli.fails_with_stdin(&create("bob@example.com", &[]), "          \n")
            .contains("whitespace")
    );
    assert!(
        cli.fails_with_stdin(&create("not-an-email", &[]), "correct horse battery\n")
            .contains("email")
    );
    id
}

async fn assert_account(
    store: &dyn easel::store::Store,
    email: &str,
    id: &str,
    admin: bool,
    password: &str,
) {
    let user = store
        .find_user_by_email(email)
        .await
        .unwrap()
        .expect("the account exists");
    assert_eq!(user.id.as_str(), id);
    assert_eq!(user.admin, admin);
    let hash = user.password_hash.expect("a password hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(easel::auth::verify_password(password, Some(&hash)).await);
}

#[tokio::test]
async fn create_user_reads_the_password_from_stdin_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let id = tokio::task::spawn_blocking(move || {
        create_user_lifecycle(&Cli {
            data_dir: &path,
            database_url: None,
        })
    })
    .await
    .unwrap();
    let store = easel::store::SqliteStore::open(
        &dir.path().join("easel.db"),
        2,
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_account(
        &store,
        "ada@example.com",
        &id,
        true,
        "correct horse battery",
    )
    .await;
    assert!(
        store
            .find_user_by_email("bob@example.com")
            .await
            .unwrap()
            .is_none(),
        "refused passwords create nothing"
    );
    store.close().await;
}

#[tokio::test]
async fn create_user_works_on_postgres() {
    let db = TestDb::create().await;
    let url = db.url();
    let id = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        create_user_lifecycle(&Cli {
            data_dir: dir.path(),
            database_url: Some(url),
        })
    })
    .await
    .unwrap();
    let store =
        easel::store::PostgresStore::connect(&db.url(), 2, std::time::Duration::from_secs(5))
            .unwrap();
    assert_account(
        &store,
        "ada@example.com",
        &id,
        true,
        "correct horse battery",
    )
    .await;
    store.close().await;
}

/// Starts `easel serve` with `env`, returns it with its log lines up to "easel is listening".
async fn serve(env: &[(&str, String)]) -> (std::process::Child, Vec<String>) {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_easel-test-server"));
    cmd.arg("serve")
        .env_clear()
        .env("EASEL_BIND", "127.0.0.1:0")
        .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
        .env("EASEL_LOG", "debug")
        .env("EASEL_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let mut lines = BufReader::new(stderr).lines();
        while let Some(Ok(line)) = lines.next() {
            let listening = line.contains("easel is listening");
            seen.push(line);
            if listening {
                std::thread::spawn(move || lines.for_each(drop));
                return seen;
            }
        }
        panic!("the server never said it was listening: {seen:#?}");
    })
    .await
    .unwrap();
    (child, lines)
}

fn stop(mut child: std::process::Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn serve_creates_the_first_admin_once_and_never_logs_its_password() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (url, data_dir) = (db.url(), dir.path().display().to_string());
    let env = |password: &str| {
        vec![
            ("DATABASE_URL", url.clone()),
            ("EASEL_DATA_DIR", data_dir.clone()),
            ("EASEL_ADMIN_EMAIL", "Root@Example.com".to_string()),
            ("EASEL_ADMIN_PASSWORD", password.to_string()),
        ]
    };

    let (child, lines) = serve(&env("first admin password")).await;
    stop(child);
    let logs = lines.join("\n");
    assert!(logs.contains("created the first administrator"), "{logs}");
    assert!(!logs.contains("first admin password"), "{logs}");

    let store =
        easel::store::PostgresStore::connect(&db.url(), 2, std::time::Duration::from_secs(5))
            .unwrap();
    let user = store
        .find_user_by_email("root@example.com")
        .await
        .unwrap()
        .expect("the first admin was created");
    assert_account(
        &store,
        "root@example.com",
        user.id.as_str(),
        true,
        "first admin password",
    )
    .await;

    let (child, lines) = serve(&env("a different password")).await;
    stop(child);
    let logs = lines.join("\n");
    assert!(logs.contains("first administrator exists"), "{logs}");
    assert!(!logs.contains("created the first administrator"), "{logs}");
    assert_account(
        &store,
        "root@example.com",
        user.id.as_str(),
        true,
        "first admin password",
    )
    .await;
    store.close().await;
}
