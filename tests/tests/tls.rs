//! HTTPS and WSS served directly by `easel serve` (`EASEL_TLS_CERT` / `EASEL_TLS_KEY`),
//! with certificates the test makes, and the certificate reloaded on `SIGHUP`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use easel::domain::Role;
use easel_tests::yclient::{Ws, YClient};
use easel_tests::{ServerProcess, TestDb, pg_board_with, token};
use tokio_tungstenite::Connector;
use yrs::{Map, Transact};

const HOUR: Duration = Duration::from_secs(3600);
const BIN: &str = env!("CARGO_BIN_EXE_easel-test-server");

/// A self-signed certificate for `127.0.0.1` and `localhost`, and its key, both PEM.
struct TestCert {
    cert: String,
    key: String,
}

impl TestCert {
    /// A fresh certificate (new key, new serial) with `name` as its common name.
    fn new(name: &str) -> Self {
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("certificate parameters");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().expect("a key pair");
        let cert = params.self_signed(&key).expect("a self-signed certificate");
        Self {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// Writes the certificate and key where the server reads them.
    fn install(&self, dir: &Path) {
        std::fs::write(dir.join("cert.pem"), &self.cert).expect("write cert.pem");
        std::fs::write(dir.join("key.pem"), &self.key).expect("write key.pem");
    }

    /// An HTTPS client trusting this certificate alone.
    fn https_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.cert.as_bytes()).expect("a PEM certificate"),
            )
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTPS client")
    }

    /// A WebSocket TLS connector trusting this certificate alone.
    fn connector(&self) -> Connector {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.cert.as_bytes()) {
            roots.add(cert.expect("a PEM certificate")).expect("a root");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Connector::Rustls(Arc::new(config))
    }

    /// Opens a `wss://` socket to `url` trusting this certificate, and syncs a client on it.
    async fn client(&self, url: &str) -> YClient {
        let (ws, _): (Ws, _) = tokio_tungstenite::connect_async_tls_with_config(
            url,
            None,
            true,
            Some(self.connector()),
        )
        .await
        .expect("a wss:// handshake");
        let mut client = YClient::over(ws).await;
        assert!(client.until(Duration::from_secs(5), |c| c.synced).await);
        client
    }
}

fn wss_url(server: &ServerProcess, board: &str, user: &str) -> String {
    format!(
        "wss://127.0.0.1:{}/ws/boards/{board}?token={}",
        server.port,
        token(user, false, HOUR)
    )
}

fn shape(client: &YClient, key: &str) -> bool {
    let elements = client.doc().get_or_insert_map("elements");
    elements.get(&client.doc().transact(), key).is_some()
}

fn hang_up(server: &ServerProcess) {
    let pid = libc::pid_t::try_from(server.child.id()).expect("a pid");
    // SAFETY: `kill` only sends a signal; `pid` is our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0, "SIGHUP sent");
}

/// Waits until the server has logged a line containing `text`, `count` times in all.
async fn logged(server: &ServerProcess, text: &str, count: usize) {
    for _ in 0..250 {
        if server.logs().iter().filter(|l| l.contains(text)).count() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server never logged {text:?}: {:#?}", server.logs());
}

/// `GET /healthz` over a new connection trusting `cert` alone.
async fn healthz(cert: &TestCert, port: u16) -> Result<reqwest::StatusCode, reqwest::Error> {
    let res = cert
        .https_client()
        .get(format!("https://127.0.0.1:{port}/healthz"))
        .send()
        .await?;
    Ok(res.status())
}

#[tokio::test]
async fn https_and_wss_are_served_and_a_new_certificate_is_taken_on_sighup() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (first, second) = (TestCert::new("easel-first"), TestCert::new("easel-second"));
    first.install(dir.path());
    let db = TestDb::create().await;
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let data_dir = dir.path().join("data");
    let mut server = ServerProcess::start(
        BIN,
        &[
            ("DATABASE_URL", &db.url()),
            ("EASEL_DATA_DIR", data_dir.to_str().unwrap()),
            ("EASEL_TLS_CERT", cert.to_str().unwrap()),
            ("EASEL_TLS_KEY", key.to_str().unwrap()),
        ],
    )
    .await;
    let port = server.port;

    assert_eq!(healthz(&first, port).await.unwrap(), 200);
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert!(
        plain
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_err(),
        "plain HTTP is not answered on the TLS port"
    );
    let probe = |tls: bool| {
        let mut cmd = Command::new(BIN);
        cmd.arg("health")
            .env_clear()
            .env("EASEL_BIND", format!("0.0.0.0:{port}"))
            .env("EASEL_JWT_SECRET", easel_tests::TEST_JWT_SECRET)
            .env("EASEL_DATA_DIR", data_dir.to_str().unwrap());
        if tls {
            cmd.env("EASEL_TLS_CERT", &cert).env("EASEL_TLS_KEY", &key);
        }
        cmd.output().expect("easel health")
    };
    let over_tls = probe(true);
    assert!(
        over_tls.status.success(),
        "easel health over HTTPS: {over_tls:?}"
    );
    assert!(
        !probe(false).status.success(),
        "easel health without the TLS settings speaks plain HTTP, which is not answered"
    );

    let board = pg_board_with(&db.url(), "alice", &[("bob", Role::Editor)]).await;
    let mut alice = first.client(&wss_url(&server, &board, "alice")).await;
    let mut bob = first.client(&wss_url(&server, &board, "bob")).await;
    alice.draw("before-reload", 16).await;
    assert!(
        bob.until(Duration::from_secs(5), |c| shape(c, "before-reload"))
            .await,
        "a shape drawn over wss:// reaches the other client"
    );

    second.install(dir.path());
    hang_up(&server);
    logged(&server, "reloaded the TLS certificate", 1).await;
    assert_eq!(
        healthz(&second, port).await.unwrap(),
        200,
        "a new connection gets the new certificate"
    );
    assert!(
        healthz(&first, port).await.is_err(),
        "the old certificate is no longer served"
    );

    alice.draw("after-reload", 16).await;
    assert!(
        bob.until(Duration::from_secs(5), |c| shape(c, "after-reload"))
            .await,
        "sockets opened before the reload stay open and keep syncing"
    );
    let newcomer = second.client(&wss_url(&server, &board, "alice")).await;
    assert!(shape(&newcomer, "before-reload") && shape(&newcomer, "after-reload"));

    std::fs::write(&cert, "not a certificate").unwrap();
    hang_up(&server);
    logged(&server, "the old one is still served", 1).await;
    assert_eq!(
        healthz(&second, port).await.unwrap(),
        200,
        "a bad new certificate leaves the current one served"
    );
    bob.draw("after-bad-reload", 16).await;
    assert!(
        alice
            .until(Duration::from_secs(5), |c| shape(c, "after-bad-reload"))
            .await
    );

    assert!(server.stop().await.success(), "graceful shutdown exits 0");
}

fn serve_refused(env: &[(&str, &str)]) -> String {
    let data = tempfile::tempdir().expect("a temp dir");
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .env_clear()
        .env("EASEL_BIND", "127.0.0.1:0")
        .env("EASEL_DATA_DIR", data.path())
        .env("EASEL_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run easel serve");
    assert!(!out.status.success(), "easel serve should refuse to start");
    String::from_utf8(out.stderr).expect("utf-8")
}

#[test]
fn a_certificate_without_its_key_or_an_unreadable_one_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let cert = TestCert::new("easel-config");
    cert.install(dir.path());
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (cert_path, key_path) = (cert_path.to_str().unwrap(), key_path.to_str().unwrap());

    let err = serve_refused(&[("EASEL_TLS_CERT", cert_path)]);
    assert!(err.contains("EASEL_TLS_KEY"), "{err}");
    let err = serve_refused(&[("EASEL_TLS_KEY", key_path)]);
    assert!(err.contains("EASEL_TLS_CERT"), "{err}");

    let missing = dir.path().join("missing.pem");
    let err = serve_refused(&[
        ("EASEL_TLS_CERT", missing.to_str().unwrap()),
        ("EASEL_TLS_KEY", key_path),
    ]);
    assert!(
        err.contains("EASEL_TLS_CERT") && err.contains("missing.pem"),
        "{err}"
    );
    let other = TestCert::new("easel-other");
    let other_key = dir.path().join("other-key.pem");
    std::fs::write(&other_key, &other.key).unwrap();
    let err = serve_refused(&[
        ("EASEL_TLS_CERT", cert_path),
        ("EASEL_TLS_KEY", other_key.to_str().unwrap()),
    ]);
    assert!(
        err.contains("EASEL_TLS_KEY"),
        "a key of another certificate: {err}"
    );
}
