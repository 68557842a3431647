//! `/healthz`, `/readyz` and the JSON error shape, over real HTTP against the real server.

use std::time::Duration;

use easel_tests::{spawn_app, spawn_app_behind_proxy, spawn_sqlite_app};
use serde_json::Value;

#[tokio::test]
async fn healthz_and_readyz_answer_on_postgres() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"], "postgres");
}

#[tokio::test]
async fn the_embedded_default_needs_no_database_server() {
    let app = spawn_sqlite_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["store"], "sqlite");
    assert!(app.data_dir.path().join("easel.db").exists());
}

#[tokio::test]
async fn unknown_routes_get_the_json_error_shape() {
    let app = spawn_sqlite_app().await;
    // Other GETs are the web client's routes (tests/tests/web.rs).
    let unknown = [
        app.get("/api/no/such/route").await,
        app.get("/ws/no/such/route").await,
        app.client
            .post(format!("{}/no/such/route", app.address))
            .send()
            .await
            .unwrap(),
    ];
    for res in unknown {
        assert_eq!(res.status(), 404);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert!(body["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn readiness_turns_503_while_the_database_is_unreachable_and_recovers() {
    let (app, proxy) = spawn_app_behind_proxy(&[("EASEL_DB_TIMEOUT_MS", "1000")]).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    proxy.cut();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness does not depend on the database"
    );

    proxy.restore();
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/readyz").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "readiness comes back once the database does");
}
