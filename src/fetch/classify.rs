//! From what the client reports to the record's error kinds (docs/record.md, error kinds): `dns`, `connect`, `tls`, `timeout`, `body`,
//! `http`, with a message a person can read.
//!
//! reqwest nests the cause several levels deep (hyper, io, rustls), so the
//! chain is walked; the first recognisable cause decides.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use super::FetchSettings;
use super::decode::DECODE_ERROR;
use crate::error::{ErrorKind, FetchError};

/// Maps a request error to a record error kind and a readable message.
pub fn classify(e: &reqwest::Error, settings: &FetchSettings) -> FetchError {
    if let Some(tls) = causes(e).find_map(tls_error) {
        return FetchError::new(ErrorKind::Tls, tls_message(tls, e.url()));
    }
    if e.is_builder() {
        return FetchError::new(
            ErrorKind::InvalidUrl,
            format!("not a URL an HTTP request can carry: {}", describe(e)),
        );
    }
    let message = describe(e);
    let kind = kind_of(e);
    let message = match kind {
        ErrorKind::Connect => connect_message(e, settings),
        ErrorKind::Dns => dns_message(e, settings),
        ErrorKind::Timeout if e.is_connect() => format!(
            "could not connect within {} (--connect-timeout)",
            secs(settings.connect_timeout)
        ),
        ErrorKind::Timeout => format!(
            "no complete response within {} (--timeout)",
            secs(settings.timeout)
        ),
        _ => message,
    };
    FetchError::new(kind, message)
}

/// A request that got no response, as the fetcher sees it.
pub struct SendFailure {
    /// For the record.
    pub error: FetchError,
    /// Another attempt may help: connect errors, timeouts, empty replies.
    pub transient: bool,
    /// The connection closed or was reset before any byte of a response.
    pub empty_reply: bool,
}

/// Maps the error of a request that got no response. A connection that
/// closed or was reset before any byte of a response is an `http` error,
/// "empty reply from server", as curl says; `body` is kept for a body that
/// broke after the response began.
pub fn classify_send(e: &reqwest::Error, settings: &FetchSettings) -> SendFailure {
    let mut error = classify(e, settings);
    let empty_reply = error.kind == ErrorKind::Body;
    if empty_reply {
        let how = if mentions_reset(e) {
            "the connection was reset"
        } else {
            "the connection closed"
        };
        error = FetchError::new(
            ErrorKind::Http,
            format!("empty reply from server: {how} before any byte of a response"),
        );
    }
    let transient = empty_reply || matches!(error.kind, ErrorKind::Connect | ErrorKind::Timeout);
    SendFailure {
        error,
        transient,
        empty_reply,
    }
}

/// Whether the cause of `e` is a reset rather than a clean close.
fn mentions_reset(e: &reqwest::Error) -> bool {
    causes(e).any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionReset)
    })
}

fn kind_of(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    let mut io_kind = None;
    for cause in causes(e) {
        if is_tls(cause) {
            return ErrorKind::Tls;
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return ErrorKind::Timeout;
            }
            if h.is_parse() || h.is_parse_status() {
                return ErrorKind::Http;
            }
            if h.is_incomplete_message() {
                return ErrorKind::Body;
            }
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            io_kind = io_kind.or(Some(io.kind()));
        }
    }
    if e.is_connect() {
        return if describe(e).contains("dns error") {
            ErrorKind::Dns
        } else {
            ErrorKind::Connect
        };
    }
    match io_kind {
        Some(io::ErrorKind::TimedOut) => ErrorKind::Timeout,
        Some(
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof,
        ) => ErrorKind::Body,
        _ if e.is_body() => ErrorKind::Body,
        _ => ErrorKind::Http,
    }
}

/// Maps an error while reading the body.
pub fn classify_read(e: &io::Error, settings: &FetchSettings) -> FetchError {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
        let mut error = classify(inner, settings);
        if !matches!(error.kind, ErrorKind::Timeout | ErrorKind::Http) {
            error.kind = ErrorKind::Body;
        }
        return error;
    }
    if e.to_string().starts_with(DECODE_ERROR) {
        return FetchError::new(ErrorKind::Http, e.to_string());
    }
    let kind = match e.kind() {
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::InvalidData => ErrorKind::Http,
        _ => ErrorKind::Body,
    };
    FetchError::new(kind, format!("while reading the body: {e}"))
}

/// Whether `cause` is, or wraps, a rustls error. The TLS connector nests it
/// in io::Errors (`Other` around `InvalidData`), whose `source()` skips the
/// wrapped error itself, so the wrapping is unwound by hand.
fn is_tls(cause: &(dyn StdError + 'static)) -> bool {
    tls_error(cause).is_some()
}

/// The rustls error `cause` is or wraps, if any.
fn tls_error<'a>(cause: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: &(dyn StdError + 'static) = cause;
    loop {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())?;
    }
}

/// What to do about a certificate scrape does not trust.
const TRUST_HINT: &str = "trust its CA with --cacert FILE (or SSL_CERT_FILE), or accept any \
                          certificate with --insecure";

/// A TLS failure in words, with what to do about it.
fn tls_message(e: &rustls::Error, url: Option<&url::Url>) -> String {
    use rustls::CertificateError as C;
    let host = url.and_then(url::Url::host_str).unwrap_or("the host");
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => format!(
                "the certificate of {host} is not signed by a CA scrape trusts: {TRUST_HINT}"
            ),
            C::Expired | C::ExpiredContext { .. } => {
                format!("the certificate of {host} has expired (--insecure accepts it anyway)")
            }
            C::NotValidYet | C::NotValidYetContext { .. } => format!(
                "the certificate of {host} is not valid yet; is this machine's clock right?"
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "the certificate {host} presented is for another name (--insecure accepts it anyway)"
            ),
            C::Revoked => format!("the certificate of {host} has been revoked"),
            C::BadSignature | C::BadEncoding => {
                format!("the certificate of {host} is malformed or its signature is wrong")
            }
            other if format!("{other:?}").contains("CaUsedAsEndEntity") => format!(
                "{host} presented a CA certificate as its own (a self-signed one, as \
                 `openssl req -x509` makes): give that certificate itself with --cacert FILE \
                 (a certificate listed there is trusted as the server's own), or accept any \
                 certificate with --insecure"
            ),
            other => format!("the certificate of {host} was refused: {other:?}; {TRUST_HINT}"),
        },
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            let port = url.and_then(url::Url::port_or_known_default).unwrap_or(443);
            format!(
                "{host} answered in plain HTTP, not TLS: try http://{host}:{port}/ instead of https://"
            )
        }
        rustls::Error::AlertReceived(alert) => {
            format!("{host} refused the TLS handshake (it sent the alert {alert:?})")
        }
        rustls::Error::PeerIncompatible(why) => {
            format!("{host} and scrape have no TLS version or cipher in common ({why:?})")
        }
        other => format!("the TLS handshake with {host} failed: {other}"),
    }
}

fn causes<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&c| c.source())
}

/// Where a request connects: the proxy it goes through, else its URL's
/// host, as `host:port`.
fn endpoint(e: &reqwest::Error, settings: &FetchSettings) -> (String, String) {
    let Some(url) = e.url() else {
        return ("the server".into(), "the server".into());
    };
    let to = settings.proxies.for_url(url).unwrap_or(url);
    let host = to.host_str().unwrap_or("the server").to_string();
    let port = to.port_or_known_default().unwrap_or(0);
    (format!("{host}:{port}"), host)
}

/// A connection that failed, in words: "connection refused by
/// 127.0.0.1:8080".
fn connect_message(e: &reqwest::Error, settings: &FetchSettings) -> String {
    let (at, _) = endpoint(e, settings);
    let io = causes(e).find_map(|c| c.downcast_ref::<io::Error>());
    match io.map(io::Error::kind) {
        Some(io::ErrorKind::ConnectionRefused) => format!("connection refused by {at}"),
        Some(io::ErrorKind::HostUnreachable) => format!("no route to {at} (host unreachable)"),
        Some(io::ErrorKind::NetworkUnreachable) => format!("network unreachable for {at}"),
        Some(io::ErrorKind::ConnectionReset) => {
            format!("connection reset by {at} while connecting")
        }
        Some(io::ErrorKind::PermissionDenied) => {
            format!("connecting to {at} was not permitted (a firewall rule?)")
        }
        Some(io::ErrorKind::AddrNotAvailable) => {
            format!("cannot connect to {at}: no local address or port free")
        }
        _ => format!(
            "could not connect to {at}: {}",
            without_os_error(&last_cause(e))
        ),
    }
}

/// A name that did not resolve, in words: "no such host: foo.invalid".
fn dns_message(e: &reqwest::Error, settings: &FetchSettings) -> String {
    let (_, host) = endpoint(e, settings);
    dns_words(&host, &describe(e), &last_cause(e))
}

/// [`dns_message`] from the resolver's words (`text`: the whole chain,
/// `last`: its innermost cause).
fn dns_words(host: &str, text: &str, last: &str) -> String {
    let missing = [
        "Name or service not known",
        "No address associated with hostname",
        "nodename nor servname provided",
        "Name does not resolve",
        "No such host",
    ];
    if missing.iter().any(|m| text.contains(m)) {
        format!("no such host: {host}")
    } else if text.contains("Temporary failure in name resolution") {
        format!("could not resolve {host}: no DNS server answered (temporary failure)")
    } else {
        format!("could not resolve {host}: {}", without_os_error(last))
    }
}

/// The innermost cause's words.
fn last_cause(e: &reqwest::Error) -> String {
    causes(e)
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// "Connection refused (os error 111)" → "Connection refused".
fn without_os_error(text: &str) -> String {
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// The error chain as one line, without reqwest's leading "error sending
/// request for url (...)" (the record already has the URL).
fn describe(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(e).skip(1) {
        let text = cause.to_string();
        if parts.last().is_none_or(|p| !p.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        let mut top = e.to_string();
        if let Some(i) = top.find(" for url (") {
            top.truncate(i);
        }
        parts.push(top);
    }
    parts.join(": ")
}

pub fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_words_become_sentences() {
        let chain = "client error (Connect): dns error: failed to lookup address \
                     information: Name or service not known";
        assert_eq!(
            dns_words("foo.invalid", chain, ""),
            "no such host: foo.invalid"
        );
        let busy =
            "dns error: failed to lookup address information: Temporary failure in name resolution";
        assert!(dns_words("a.example", busy, "").contains("no DNS server answered"));
        assert_eq!(
            dns_words("a.example", "dns error: odd", "odd (os error 5)"),
            "could not resolve a.example: odd"
        );
        assert_eq!(
            without_os_error("Connection refused (os error 111)"),
            "Connection refused"
        );
    }
}
