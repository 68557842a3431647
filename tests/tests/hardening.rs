//! What the server exposes and leaves on disk: metrics kept off the public port when
//! `EASEL_METRICS_BIND` asks for it, and a fresh SQLite data directory only its user can
//! read (findings 14 and 11).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use easel_tests::{spawn_app, spawn_app_with};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn metrics_can_live_on_a_private_port_only() {
    let public = spawn_app().await;
    assert_eq!(public.metrics_port, None);
    let res = public.get("/metrics").await;
    assert_eq!(
        res.status(),
        200,
        "unset: served on the public port as before"
    );
    assert!(res.text().await.unwrap().contains("easel_connections"));

    let app = spawn_app_with(None, &[("EASEL_METRICS_BIND", "127.0.0.1:0")]).await;
    let port = app.metrics_port.expect("a metrics port");
    assert_ne!(port, app.port);
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 404, "the public port hides metrics");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let res = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(res.text().await.unwrap().contains("easel_rooms"));
    let res = reqwest::get(format!("http://127.0.0.1:{port}/api/openapi.json"))
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "the metrics port serves metrics only");
    assert_eq!(app.get("/healthz").await.status(), 200);

    app.stop().await;
    public.stop().await;
}

#[tokio::test]
async fn a_fresh_sqlite_data_directory_is_private() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("easel-data");
    let app = spawn_app_with(
        None,
        &[
            ("EASEL_DATA_DIR", data.to_str().unwrap()),
            // Unset: development mode generates the signing key into the data directory.
            ("EASEL_JWT_SECRET", ""),
        ],
    )
    .await;
    // A write, so the WAL holds something; the shared-memory file exists while it is open.
    let res = app
        .client
        .post(format!("{}/api/auth/register", app.address))
        .json(&serde_json::json!({
            "email": "ada@example.com", "name": "Ada", "password": "correct horse battery"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in ["easel.db", "easel.db-wal", "easel.db-shm", "jwt_secret"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    app.stop().await;
}

#[tokio::test]
async fn files_an_older_version_left_readable_are_tightened_at_start() {
    let data = tempfile::tempdir().unwrap();
    let first = spawn_app_with(None, &[("EASEL_DATA_DIR", data.path().to_str().unwrap())]).await;
    first.stop().await;
    let db = data.path().join("easel.db");
    for file in [&db, &data.path().join("easel.db-wal")] {
        if file.exists() {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    assert_eq!(mode(&db), 0o644);
    let second = spawn_app_with(None, &[("EASEL_DATA_DIR", data.path().to_str().unwrap())]).await;
    assert_eq!(mode(&db), 0o600);
    for side in ["easel.db-wal", "easel.db-shm"] {
        let path = data.path().join(side);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{side}");
        }
    }
    second.stop().await;
}
