//! `--robots`: obey each host's robots.txt (RFC 9309), off by default.
//!
//! The first URL of a host fetches `scheme://host:port/robots.txt` once
//! (other workers wanting the same host wait for that one fetch) and the
//! rules are kept for the rest of the run; `texting_robots` parses them for
//! our User-Agent. A URL they disallow gets a record with error kind
//! `robots` and is never fetched. A `Crawl-delay` becomes that host's
//! `--delay` (the larger of the two wins).
//!
//! What an unusable robots.txt means, as RFC 9309 says: 4xx (none there) →
//! everything allowed; 5xx → everything disallowed, since the site cannot
//! say; a network failure → allowed, so that the URL's own fetch reports
//! the real error. Redirects are followed up to 5 hops; at most 512 KiB are
//! read.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::blocking::Client;
use texting_robots::Robot;
use url::Url;

use crate::fetch::decode;
use crate::input::{HostKey, host_key};

/// The most robots.txt a host may send that is read.
const MAX_ROBOTS: u64 = 512 * 1024;

/// What a host's robots.txt says for us.
pub enum Rules {
    /// Parsed rules.
    Parsed(Box<Robot>),
    /// No usable file: everything allowed.
    AllowAll,
    /// The server failed (5xx): everything disallowed, with the reason.
    DisallowAll(String),
}

/// The verdict for one URL.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Fetch it; the host asks for this delay between requests, if any.
    Allowed(Option<Duration>),
    /// Do not fetch it: why.
    Disallowed(String),
}

/// robots.txt of every host seen, fetched once each.
pub struct RobotsCache {
    client: Client,
    agent: String,
    timeout: Duration,
    hosts: Mutex<HashMap<HostKey, Arc<OnceLock<Rules>>>>,
}

impl RobotsCache {
    /// A cache that fetches with `client` as `agent`.
    pub fn new(client: Client, agent: &str, timeout: Duration) -> RobotsCache {
        RobotsCache {
            client,
            agent: agent.to_string(),
            timeout,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// May `url` be fetched?
    pub fn check(&self, url: &Url) -> Verdict {
        let cell = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(hosts.entry(host_key(url)).or_default())
        };
        let rules = cell.get_or_init(|| self.fetch_rules(url));
        verdict(rules, url)
    }

    fn fetch_rules(&self, url: &Url) -> Rules {
        let Ok(mut at) = url.join("/robots.txt") else {
            return Rules::AllowAll;
        };
        for _ in 0..=5 {
            let resp = match self.client.get(at.clone()).timeout(self.timeout).send() {
                Ok(r) => r,
                Err(_) => return Rules::AllowAll,
            };
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| at.join(l).ok());
                match next {
                    Some(n) if matches!(n.scheme(), "http" | "https") => {
                        at = n;
                        continue;
                    }
                    _ => return Rules::AllowAll,
                }
            }
            if status.is_server_error() {
                return Rules::DisallowAll(format!("robots.txt answered {status}"));
            }
            if !status.is_success() {
                return Rules::AllowAll;
            }
            let encodings = resp.headers().get_all(reqwest::header::CONTENT_ENCODING);
            let Ok(codings) = decode::codings(encodings.iter().map(|v| v.as_bytes())) else {
                return Rules::AllowAll;
            };
            let mut body = Vec::new();
            let mut decoded = decode::decoder(Box::new(resp), &codings).take(MAX_ROBOTS);
            if decoded.read_to_end(&mut body).is_err() {
                return Rules::AllowAll;
            }
            return parse(&self.agent, &body);
        }
        Rules::AllowAll
    }
}

/// Parses robots.txt for `agent` (its product token, before any `/`).
pub fn parse(agent: &str, body: &[u8]) -> Rules {
    let token = agent.split(['/', ' ']).next().unwrap_or(agent);
    match Robot::new(token, body) {
        Ok(robot) => Rules::Parsed(Box::new(robot)),
        Err(_) => Rules::AllowAll,
    }
}

/// The verdict of `rules` for `url`.
pub fn verdict(rules: &Rules, url: &Url) -> Verdict {
    match rules {
        Rules::AllowAll => Verdict::Allowed(None),
        Rules::DisallowAll(why) => Verdict::Disallowed(why.clone()),
        Rules::Parsed(robot) => {
            if robot.allowed(url.as_str()) {
                let delay = robot
                    .delay
                    .filter(|d| d.is_finite() && *d > 0.0)
                    .map(|d| Duration::from_secs_f32(d.min(3600.0)));
                Verdict::Allowed(delay)
            } else {
                Verdict::Disallowed("disallowed by robots.txt".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn rules_for_our_agent_and_for_everyone() {
        let txt = b"User-agent: scrape\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n";
        let ours = parse("scrape/0.1.0", txt);
        assert_eq!(verdict(&ours, &url("http://a/x")), Verdict::Allowed(None));
        assert!(matches!(
            verdict(&ours, &url("http://a/private/1")),
            Verdict::Disallowed(_)
        ));
        let other = parse("otherbot/2", txt);
        assert!(matches!(
            verdict(&other, &url("http://a/x")),
            Verdict::Disallowed(_)
        ));
    }

    #[test]
    fn allow_beats_a_shorter_disallow_and_crawl_delay_is_read() {
        let txt = b"User-agent: *\nDisallow: /a\nAllow: /a/open\nCrawl-delay: 0.5\n";
        let rules = parse("scrape", txt);
        assert_eq!(
            verdict(&rules, &url("http://h/a/open/1")),
            Verdict::Allowed(Some(Duration::from_millis(500)))
        );
        assert!(matches!(
            verdict(&rules, &url("http://h/a/closed")),
            Verdict::Disallowed(_)
        ));
    }

    #[test]
    fn unusable_files_follow_the_rfc() {
        assert_eq!(
            verdict(&Rules::AllowAll, &url("http://h/")),
            Verdict::Allowed(None)
        );
        let down = Rules::DisallowAll("robots.txt answered 503".into());
        assert!(matches!(
            verdict(&down, &url("http://h/")),
            Verdict::Disallowed(_)
        ));
        let garbage = parse("scrape", b"\xff\xfe\x00 not robots at all {{{");
        assert_eq!(
            verdict(&garbage, &url("http://h/x")),
            Verdict::Allowed(None)
        );
    }
}
