//! `--tls`: what an HTTPS server presented (docs/tls.md).
//!
//! - The certificate is the one of the connection that fetched the page:
//!   reqwest hands its DER over (`tls_info`), and `x509-parser` reads the
//!   subject, issuer, `notAfter` and subject alternative names.
//! - The TLS version and cipher suite of that connection are not exposed
//!   by reqwest, so they come from a handshake of scrape's own with the
//!   same rustls, to the address that answered and under the same server
//!   name and ALPN (`http/1.1`), once per address and name in a run
//!   ([`Negotiations`]). It verifies nothing (the real connection did) and
//!   sends no request. Through a proxy it is not made: `version` and
//!   `cipher` are null there.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use serde::Serialize;

use super::trust::AnyCertificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The record's `tls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tls {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: Option<&'static str>,
    /// The cipher suite, by its IANA name (`TLS_AES_128_GCM_SHA256`).
    pub cipher: Option<&'static str>,
    /// The certificate's subject (`CN=example.com, O=…`).
    pub subject: Option<String>,
    /// Its issuer.
    pub issuer: Option<String>,
    /// Its `notAfter`, RFC 3339 in UTC.
    pub not_after: Option<String>,
    /// Whole days from now to `not_after`; negative once it has passed.
    pub days_left: Option<i64>,
    /// Its subject alternative names: DNS names and IP addresses.
    pub sans: Vec<String>,
}

impl Tls {
    /// What the certificate `der` says; empty fields when it does not
    /// parse.
    pub fn of_certificate(der: &[u8], now: DateTime<Utc>) -> Tls {
        let Ok((_, cert)) = X509Certificate::from_der(der) else {
            return Tls::default();
        };
        let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0);
        Tls {
            subject: Some(cert.subject().to_string()),
            issuer: Some(cert.issuer().to_string()),
            not_after: not_after.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            days_left: not_after.map(|t| (t - now).num_seconds().div_euclid(86_400)),
            sans: sans(&cert),
            ..Tls::default()
        }
    }
}

fn sans(cert: &X509Certificate) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(dns.to_string()),
            GeneralName::IPAddress(bytes) => ip(bytes),
            _ => None,
        })
        .collect()
}

fn ip(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(std::net::Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| std::net::Ipv6Addr::from(v6).to_string())
}

/// A TLS version and cipher suite.
pub type Negotiated = Option<(&'static str, &'static str)>;

/// The handshakes of a run, one per (address, server name).
pub struct Negotiations {
    config: Arc<ClientConfig>,
    timeout: Duration,
    seen: Mutex<HashMap<Server, Arc<OnceLock<Negotiated>>>>,
}

/// An address, and the server name asked of it.
type Server = (SocketAddr, String);

/// Past this many, the handshakes remembered are forgotten (a list of
/// millions of hosts must not grow a map of millions).
const REMEMBERED: usize = 65_536;

impl Negotiations {
    /// Handshakes that give up after `timeout` (connect, then each read).
    pub fn new(timeout: Duration) -> Result<Negotiations, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Negotiations {
            config: Arc::new(config),
            timeout,
            seen: Mutex::default(),
        })
    }

    /// The version and cipher `addr` negotiates for `host`: from an
    /// earlier handshake of this run, or a new one.
    pub fn with(&self, addr: SocketAddr, host: &str) -> Negotiated {
        let cell = {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if seen.len() >= REMEMBERED {
                seen.clear();
            }
            let key = (addr, host.to_string());
            Arc::clone(seen.entry(key).or_default())
        };
        *cell.get_or_init(|| self.handshake(addr, host))
    }

    fn handshake(&self, addr: SocketAddr, host: &str) -> Negotiated {
        let name = ServerName::try_from(host.to_string()).ok()?;
        let mut conn = ClientConnection::new(Arc::clone(&self.config), name).ok()?;
        let mut sock = TcpStream::connect_timeout(&addr, self.timeout).ok()?;
        sock.set_read_timeout(Some(self.timeout)).ok()?;
        sock.set_write_timeout(Some(self.timeout)).ok()?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).ok()?;
        }
        let version = match conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
            _ => return None,
        };
        let suite = conn.negotiated_cipher_suite()?.suite().as_str()?;
        conn.send_close_notify();
        let _ = conn.write_tls(&mut sock);
        let _ = sock.flush();
        Some((version, iana_name(suite)))
    }
}

/// rustls names TLS 1.3 suites `TLS13_…`; IANA `TLS_…`.
fn iana_name(suite: &'static str) -> &'static str {
    match suite {
        "TLS13_AES_128_GCM_SHA256" => "TLS_AES_128_GCM_SHA256",
        "TLS13_AES_256_GCM_SHA384" => "TLS_AES_256_GCM_SHA384",
        "TLS13_CHACHA20_POLY1305_SHA256" => "TLS_CHACHA20_POLY1305_SHA256",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_reads_as_names_dates_and_days_left() {
        let mut params =
            rcgen::CertificateParams::new(vec!["example.test".into(), "127.0.0.1".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "example.test");
        params.not_after = rcgen::date_time_ymd(2030, 1, 2);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let now = DateTime::parse_from_rfc3339("2029-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let tls = Tls::of_certificate(cert.der(), now);
        assert_eq!(tls.subject.as_deref(), Some("CN=example.test"));
        assert_eq!(tls.issuer, tls.subject, "self-signed");
        assert_eq!(tls.not_after.as_deref(), Some("2030-01-02T00:00:00Z"));
        assert_eq!(tls.days_left, Some(31));
        assert_eq!(tls.sans, ["example.test", "127.0.0.1"]);
        let later = now + chrono::Duration::days(40);
        assert_eq!(Tls::of_certificate(cert.der(), later).days_left, Some(-9));
        assert_eq!(Tls::of_certificate(b"junk", now), Tls::default());
    }
}
