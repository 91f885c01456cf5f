//! `--max-host-errors N`: stop sending requests to a host that does not
//! answer.
//!
//! A host whose last N attempts in a row got no answer at all — its name
//! did not resolve, the connection was refused or never made, or no
//! response came before the deadline — is taken for down: its remaining
//! URLs are not fetched, and each gets a record with the error that shut
//! it (kind and message), `attempts: 0`. Any answer, even an error status,
//! resets the count. Once shut, a host stays shut for the run (as wget2 and
//! httpx do); `--resume --retry-errors` or a later run tries again. Without
//! it, every URL of a dead host costs the full deadline, `--retries` + 1
//! times.
//!
//! Only hosts with failures in a row are remembered, so memory follows the
//! dead hosts, not the list.

use std::sync::{Mutex, MutexGuard};

use url::Url;

use crate::error::{ErrorKind, FetchError};
use crate::urls::{HostMap, host_hash};

/// Failures in a row per host, and the hosts shut.
pub struct Breaker {
    limit: u32,
    hosts: Mutex<HostMap<Health>>,
}

enum Health {
    /// This many attempts in a row got no answer.
    Failing(u32),
    /// Shut, with the error to give its URLs.
    Shut(FetchError),
}

impl Breaker {
    /// A breaker that shuts a host after `limit` unanswered attempts in a
    /// row (at least 1).
    pub fn new(limit: u32) -> Breaker {
        Breaker {
            limit: limit.max(1),
            hosts: Mutex::new(HostMap::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HostMap<Health>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The error for `url` if its host is shut.
    pub fn check(&self, url: &Url) -> Option<FetchError> {
        match self.lock().get(&host_hash(url)) {
            Some(Health::Shut(error)) => Some(error.clone()),
            _ => None,
        }
    }

    /// An attempt on `url` ended: answered (`None`), or not, with this
    /// error. Returns whether the host may be tried again.
    pub fn record(&self, url: &Url, unanswered: Option<&FetchError>) -> bool {
        let host = host_hash(url);
        let mut hosts = self.lock();
        let Some(error) = unanswered.filter(|e| is_silence(e.kind)) else {
            if matches!(hosts.get(&host), Some(Health::Failing(_))) {
                hosts.remove(&host);
            }
            return !matches!(hosts.get(&host), Some(Health::Shut(_)));
        };
        let failures = match hosts.get(&host) {
            Some(Health::Shut(_)) => return false,
            Some(Health::Failing(n)) => n + 1,
            None => 1,
        };
        if failures < self.limit {
            hosts.insert(host, Health::Failing(failures));
            return true;
        }
        let message = format!(
            "not fetched: the host's last {failures} attempt(s) got no answer ({}: {}); \
             --max-host-errors 0 tries every URL",
            error.kind.as_str(),
            error.message
        );
        hosts.insert(host, Health::Shut(FetchError::new(error.kind, message)));
        false
    }
}

/// The failures that mean the host did not answer at all.
fn is_silence(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Dns | ErrorKind::Connect | ErrorKind::Timeout
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn timeout() -> FetchError {
        FetchError::new(ErrorKind::Timeout, "no complete response within 1 s")
    }

    #[test]
    fn a_host_is_shut_after_the_limit_in_a_row() {
        let b = Breaker::new(2);
        let a = url("http://a.example/1");
        assert!(b.record(&a, Some(&timeout())), "one failure: go on");
        assert!(b.check(&a).is_none());
        assert!(!b.record(&a, Some(&timeout())), "two: shut");
        let shut = b.check(&url("http://a.example/other")).unwrap();
        assert_eq!(shut.kind, ErrorKind::Timeout);
        assert!(
            shut.message.contains("last 2 attempt(s) got no answer"),
            "{}",
            shut.message
        );
        assert!(shut.message.contains("no complete response within 1 s"));
        assert!(
            b.check(&url("http://b.example/")).is_none(),
            "other hosts go on"
        );
        assert!(
            b.check(&url("https://a.example/")).is_none(),
            "another scheme is another host"
        );
    }

    #[test]
    fn an_answer_resets_the_count_and_other_errors_do_not_count() {
        let b = Breaker::new(2);
        let a = url("http://a.example/");
        b.record(&a, Some(&timeout()));
        b.record(&a, None);
        assert!(b.record(&a, Some(&timeout())), "the count started again");
        let body = FetchError::new(ErrorKind::Body, "reset mid-body");
        assert!(b.record(&a, Some(&body)), "a broken body is an answer");
        assert!(b.lock().is_empty(), "answered hosts are forgotten");
    }

    #[test]
    fn a_shut_host_stays_shut() {
        let b = Breaker::new(1);
        let a = url("http://a.example/");
        let refused = FetchError::new(ErrorKind::Connect, "Connection refused");
        assert!(!b.record(&a, Some(&refused)));
        assert!(!b.record(&a, None), "a late answer does not reopen it");
        assert_eq!(b.check(&a).unwrap().kind, ErrorKind::Connect);
    }
}
