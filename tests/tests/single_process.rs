//! One `easel serve` per embedded SQLite store: a second server on the same file refuses to
//! start and says why, while the one-shot commands keep working beside the running one, and
//! a killed server never blocks the next start. Postgres takes no such lock.
//!
//! Runs the real binary as separate processes; touches no server internals.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use easel_tests::{ServerProcess, TEST_JWT_SECRET, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_easel-test-server");

/// Runs `easel args...` on the SQLite store in `data_dir`, as an operator would beside a
/// running server.
fn easel(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("EASEL_DATA_DIR", data_dir)
        .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
        .env("EASEL_LOG", "error")
        .stdin(Stdio::null())
        .output()
        .expect("run easel")
}

/// Runs `easel args...` and returns its stdout, failing the test if it fails.
fn easel_ok(data_dir: &Path, args: &[&str]) -> String {
    let out = easel(data_dir, args);
    assert!(
        out.status.success(),
        "easel {args:?} failed beside a running server: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `easel serve` on `data_dir` as `ServerProcess` would, and waits up to `limit` for
/// it to exit; kills it and fails the test if it is still running then.
fn serve_expecting_exit(data_dir: &Path, limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("EASEL_DATA_DIR", data_dir)
        .env("EASEL_BIND", "127.0.0.1:0")
        .env("EASEL_JWT_SECRET", TEST_JWT_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the second easel serve");
    let started = Instant::now();
    while child.try_wait().expect("poll the second server").is_none() {
        if started.elapsed() > limit {
            child.kill().ok();
            let out = child
                .wait_with_output()
                .expect("the second server's output");
            panic!(
                "a second easel serve on the same SQLite store was still running after \
                 {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child
        .wait_with_output()
        .expect("the second server's output")
}

async fn healthy(port: u16) -> bool {
    reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_ok_and(|r| r.status() == 200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_store_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let data_s = data.display().to_string();
    let mut first = ServerProcess::start(BIN, &[("EASEL_DATA_DIR", &data_s)]).await;

    let second = tokio::task::spawn_blocking({
        let data = data.to_owned();
        move || serve_expecting_exit(&data, Duration::from_secs(10))
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "the second server exited 0: {stderr}"
    );
    let db = data.join("easel.db");
    let expected = format!(
        "error: another easel serve is using the SQLite store at {} (lock {}.lock); stop it, \
         or use Postgres (DATABASE_URL) to run several processes",
        db.display(),
        db.display()
    );
    assert!(
        stderr.lines().any(|l| l == expected),
        "stderr names the file, its lock and what to do: {stderr}"
    );
    assert!(healthy(first.port).await, "the first server keeps serving");

    // The one-shot commands work beside the running server.
    assert_eq!(easel_ok(data, &["migrate"]).trim(), "migrations applied");
    let id = easel_ok(
        data,
        &["board", "create", "--name", "Beside", "--owner", "alice"],
    );
    let id = id.trim();
    let listed = easel_ok(data, &["board", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(id) && l.contains("Beside")),
        "{listed}"
    );
    let token = easel_ok(data, &["token", "--user", "alice"]);
    let res = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/api/boards/{id}", first.port))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the server reads what the command wrote");

    // A server killed outright leaves no lock behind.
    first.kill9();
    let next = ServerProcess::start(BIN, &[("EASEL_DATA_DIR", &data_s)]).await;
    assert!(healthy(next.port).await);
    let listed = easel_ok(data, &["board", "list"]);
    assert!(listed.lines().any(|l| l.starts_with(id)), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_on_postgres_share_a_data_directory() {
    let db = TestDb::create().await;
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let data_s = dir.path().display().to_string();
    let env = [("DATABASE_URL", url.as_str()), ("EASEL_DATA_DIR", &data_s)];
    let one = ServerProcess::start(BIN, &env).await;
    let two = ServerProcess::start(BIN, &env).await;
    assert!(healthy(one.port).await);
    assert!(healthy(two.port).await);
}
