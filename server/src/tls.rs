//! Serving HTTPS and WSS directly: reads the certificate chain and private key that
//! `EASEL_TLS_CERT` / `EASEL_TLS_KEY` name, builds the rustls server configuration (ring
//! provider), and reloads both files on `SIGHUP` without dropping a connection.
//!
//! Owns the TLS material and its reload only. It must not touch the listener, the HTTP
//! application or any other setting: `startup` binds with the configuration built here.
//! A reload swaps the certificate new handshakes get; connections already open keep the
//! keys they negotiated, and a bad new certificate leaves the old one in place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::TlsFiles;

/// Why the certificate or its key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{var}: cannot read {}: {source}", path.display())]
    Read {
        /// The variable naming the file.
        var: &'static str,
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The certificate file holds no readable PEM certificate.
    #[error("EASEL_TLS_CERT: {} holds no PEM certificate ({reason})", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// The key file holds no readable PEM private key.
    #[error("EASEL_TLS_KEY: {} holds no PEM private key ({reason})", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// The key is of an unsupported kind or does not belong to the certificate.
    #[error("EASEL_TLS_KEY: {} does not fit the certificate in EASEL_TLS_CERT: {source}", path.display())]
    Mismatch {
        /// The key file.
        path: PathBuf,
        /// What rustls found.
        source: rustls::Error,
    },
    /// rustls refused the configuration (no protocol version the provider supports).
    #[error("building the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Hands every new handshake the certificate loaded last.
#[derive(Debug)]
pub struct CertResolver {
    current: ArcSwap<CertifiedKey>,
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The TLS material of a server: where it comes from, and what handshakes are given now.
pub struct Tls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    resolver: Arc<CertResolver>,
}

impl Tls {
    /// Reads and checks the certificate chain and key; fails naming the variable at fault.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = certified_key(&files, &provider)?;
        Ok(Self {
            files,
            provider,
            resolver: Arc::new(CertResolver {
                current: ArcSwap::from_pointee(key),
            }),
        })
    }

    /// A server configuration whose handshakes get the current certificate.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        Ok(
            rustls::ServerConfig::builder_with_provider(self.provider.clone())
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_cert_resolver(self.resolver.clone()),
        )
    }

    /// Reads both files again and, when they hold a good certificate and key, serves them
    /// to new handshakes; otherwise keeps the current ones and says why.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = certified_key(&self.files, &self.provider)?;
        self.resolver.current.store(Arc::new(key));
        Ok(())
    }

    /// Reloads the certificate on every `SIGHUP` until the returned task is aborted; a bad
    /// new certificate is logged as an error and the old one stays.
    pub fn reload_on_sighup(self: Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match self.reload() {
                    Ok(()) => tracing::info!(
                        cert = %self.files.cert.display(),
                        "SIGHUP: reloaded the TLS certificate; new connections get it"
                    ),
                    Err(e) => tracing::error!(
                        error = %e,
                        "SIGHUP: the new TLS certificate was not loaded; the old one is still served"
                    ),
                }
            }
        }))
    }
}

fn certified_key(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let cert_pem = read("EASEL_TLS_CERT", &files.cert)?;
    let key_pem = read("EASEL_TLS_KEY", &files.key)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate {
            path: files.cert.clone(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: files.cert.clone(),
            reason: "no CERTIFICATE block".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Mismatch {
        path: files.key.clone(),
        source,
    })
}

fn read(var: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        var,
        path: path.to_owned(),
        source,
    })
}
