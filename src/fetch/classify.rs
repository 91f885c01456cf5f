//! From what the client reports to the record's error kinds (README "The
//! record", error kinds): `dns`, `connect`, `tls`, `timeout`, `body`,
//! `http`, with a message a person can read.
//!
//! reqwest nests the cause several levels deep (hyper, io, rustls), so the
//! chain is walked; the first recognisable cause decides.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use super::FetchSettings;
use crate::error::{ErrorKind, FetchError};

/// Maps a request error to a record error kind and a readable message.
pub fn classify(e: &reqwest::Error, settings: &FetchSettings) -> FetchError {
    let message = describe(e);
    let kind = kind_of(e);
    let message = match kind {
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
        if error.kind == ErrorKind::Http && inner.is_decode() {
            error.message = format!("cannot decode the body: {}", error.message);
        } else if !matches!(error.kind, ErrorKind::Timeout | ErrorKind::Http) {
            error.kind = ErrorKind::Body;
        }
        return error;
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
    let mut current: &(dyn StdError + 'static) = cause;
    loop {
        if current.is::<rustls::Error>() {
            return true;
        }
        match current
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => current = inner,
            None => return false,
        }
    }
}

fn causes<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&c| c.source())
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
