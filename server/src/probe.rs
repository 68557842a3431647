//! `easel health`: the liveness probe a container runs against its own server (the image's
//! `HEALTHCHECK`), so the runtime image needs no curl. One `GET /healthz` over loopback,
//! plain HTTP or, when `EASEL_TLS_CERT` is set, HTTPS.
//!
//! Owns that one request and nothing else: it must not open the store or read any other
//! setting than the address and whether TLS is on. Over HTTPS it checks that the server
//! holds the key of the certificate it presents but not who signed it: the probe talks to
//! its own process on loopback and sends nothing secret, and a certificate made for a
//! public name never names 127.0.0.1.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Why the probe failed; printed as the command's one error line.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No connection, a TLS failure or a timeout.
    #[error("{url}: {error}")]
    Io {
        /// What was probed.
        url: String,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The server answered something other than 200.
    #[error("{url}: answered {status:?}")]
    Status {
        /// What was probed.
        url: String,
        /// The response's status line.
        status: String,
    },
}

/// Where the server listening on `bind` is reached from inside its own host: the
/// unspecified address (0.0.0.0 or ::) becomes loopback.
pub fn local_address(bind: SocketAddr) -> SocketAddr {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bind.port())
}

/// Sends `GET /healthz` to `addr` (over TLS when `tls`), and succeeds on a 200 within
/// `timeout` for each of connect, write and read.
pub fn check(addr: SocketAddr, tls: bool, timeout: Duration) -> Result<(), ProbeError> {
    let url = format!("{}://{addr}/healthz", if tls { "https" } else { "http" });
    let io = |error| ProbeError::Io {
        url: url.clone(),
        error,
    };
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut response = Vec::new();
    if tls {
        let connection = rustls::ClientConnection::new(client_config(), server_name(addr))
            .map_err(|e| io(std::io::Error::other(e)))?;
        let mut stream = rustls::StreamOwned::new(connection, stream);
        stream.write_all(request.as_bytes()).map_err(io)?;
        read_head(&mut stream, &mut response).map_err(io)?;
    } else {
        let mut stream = stream;
        stream.write_all(request.as_bytes()).map_err(io)?;
        read_head(&mut stream, &mut response).map_err(io)?;
    }
    let status = String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status.split(' ').nth(1) == Some("200") {
        Ok(())
    } else {
        Err(ProbeError::Status { url, status })
    }
}

/// Reads until the status line is complete (or the peer closes).
fn read_head(stream: &mut impl Read, into: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 512];
    while !into.contains(&b'\n') {
        match stream.read(&mut buf)? {
            0 => break,
            n => into.extend_from_slice(&buf[..n]),
        }
    }
    Ok(())
}

fn server_name(addr: SocketAddr) -> ServerName<'static> {
    ServerName::IpAddress(addr.ip().into())
}

fn client_config() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(OwnServer(provider)))
        .with_no_client_auth();
    Arc::new(config)
}

/// Accepts whatever certificate the server presents, but still checks the handshake's
/// signatures against it (see the module comment for why that suffices here).
#[derive(Debug)]
struct OwnServer(Arc<CryptoProvider>);

impl ServerCertVerifier for OwnServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_binds_are_probed_on_loopback() {
        let probe = |s: &str| local_address(s.parse().unwrap()).to_string();
        assert_eq!(probe("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(probe("[::]:8080"), "[::1]:8080");
        assert_eq!(probe("10.0.0.5:9000"), "10.0.0.5:9000");
    }

    #[test]
    fn nothing_listening_is_an_error_naming_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let e = check(addr, false, Duration::from_secs(1)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("http://{addr}/healthz: "))
        );
    }
}
