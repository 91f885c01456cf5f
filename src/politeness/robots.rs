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
use crate::urls::{HostKey, host_key};

/// The most robots.txt a host may send that is read.
const MAX_ROBOTS: u64 = 512 * 1024;

/// What a host's robots.txt says for us.
pub enum Rules {
    /// Parsed rules, and the group they came from: `User-agent: NAME` for
    /// our name, else `*`, else none (everything allowed).
    Parsed(Box<Robot>, Group),
    /// No usable file: everything allowed.
    AllowAll,
    /// The server failed (5xx): everything disallowed, with the reason.
    DisallowAll(String),
}

impl Rules {
    /// Which rules apply, for `-v`.
    fn describe(&self) -> String {
        match self {
            Rules::Parsed(_, Group::Named(name)) => format!("the rules of User-agent: {name}"),
            Rules::Parsed(_, Group::Star) => {
                "the rules of User-agent: * (no group names us)".into()
            }
            Rules::Parsed(_, Group::None) => "no group for us or *, everything allowed".into(),
            Rules::AllowAll => "none usable, everything allowed".into(),
            Rules::DisallowAll(why) => format!("{why}, everything disallowed"),
        }
    }
}

/// Which group of a robots.txt applies to us.
#[derive(Debug, Clone, PartialEq)]
pub enum Group {
    /// A `User-agent:` line with our name (as written there).
    Named(String),
    /// `User-agent: *`.
    Star,
    /// Neither.
    None,
}

impl Group {
    /// The group `agent` falls in, by the `User-agent:` lines of `body`
    /// (names compared case-insensitively, as RFC 9309 says).
    fn of(agent: &str, body: &[u8]) -> Group {
        let mut star = false;
        for line in String::from_utf8_lossy(body).lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if !key.trim().eq_ignore_ascii_case("user-agent") {
                continue;
            }
            let value = value.trim();
            if value.eq_ignore_ascii_case(agent) {
                return Group::Named(value.to_string());
            }
            star |= value == "*";
        }
        if star { Group::Star } else { Group::None }
    }
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
    /// `-v`: say which group each host's rules came from.
    verbose: bool,
    hosts: Mutex<HashMap<HostKey, Arc<OnceLock<Rules>>>>,
}

impl RobotsCache {
    /// A cache that fetches with `client` and matches groups as `agent`
    /// (a product token, [`product_token`]).
    pub fn new(client: Client, agent: &str, timeout: Duration, verbose: bool) -> RobotsCache {
        RobotsCache {
            client,
            agent: agent.to_string(),
            timeout,
            verbose,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// May `url` be fetched?
    pub fn check(&self, url: &Url) -> Verdict {
        let cell = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(hosts.entry(host_key(url)).or_default())
        };
        let rules = cell.get_or_init(|| {
            let rules = self.fetch_rules(url);
            if self.verbose {
                let host = crate::urls::redact::url(url);
                let host = host.split('/').take(3).collect::<Vec<_>>().join("/");
                crate::log::verbose(format_args!(
                    "{host}/robots.txt: {} (matched as {:?})",
                    rules.describe(),
                    self.agent
                ));
            }
            rules
        });
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

/// The name a User-Agent is matched by in robots.txt, as crawlers take it:
/// the product of `compatible; NAME/…` (`Mozilla/5.0 (compatible;
/// mybot/1.0; +http://…)` → `mybot`), else the first product
/// (`scrape/0.1.0` → `scrape`); only the characters RFC 9309 allows in a
/// product token.
pub fn product_token(user_agent: &str) -> String {
    let token_of = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    };
    let lower = user_agent.to_ascii_lowercase();
    if let Some(at) = lower.find("compatible;") {
        let name = token_of(&user_agent[at + "compatible;".len()..]);
        if !name.is_empty() {
            return name;
        }
    }
    let first = token_of(user_agent);
    if first.is_empty() {
        "scrape".to_string()
    } else {
        first
    }
}

/// Parses robots.txt for the product token `agent`.
pub fn parse(agent: &str, body: &[u8]) -> Rules {
    match Robot::new(agent, body) {
        Ok(robot) => Rules::Parsed(Box::new(robot), Group::of(agent, body)),
        Err(_) => Rules::AllowAll,
    }
}

/// The verdict of `rules` for `url`.
pub fn verdict(rules: &Rules, url: &Url) -> Verdict {
    match rules {
        Rules::AllowAll => Verdict::Allowed(None),
        Rules::DisallowAll(why) => Verdict::Disallowed(why.clone()),
        Rules::Parsed(robot, _) => {
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
    fn the_product_token_is_taken_as_crawlers_take_it() {
        for (ua, token) in [
            (
                "Mozilla/5.0 (compatible; mybot/1.0; +http://example.com/bot)",
                "mybot",
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "Googlebot",
            ),
            ("Mozilla/5.0 (Compatible;  my_bot-2 )", "my_bot-2"),
            ("scrape/0.1.0", "scrape"),
            ("curl/8.5.0", "curl"),
            ("Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "Mozilla"),
            ("", "scrape"),
        ] {
            assert_eq!(product_token(ua), token, "{ua}");
        }
        let txt = b"User-agent: mybot\nDisallow: /\n\nUser-agent: *\nAllow: /\n";
        let ua = "Mozilla/5.0 (compatible; mybot/1.0; +http://example.com/bot)";
        let rules = parse(&product_token(ua), txt);
        assert!(matches!(
            verdict(&rules, &url("http://a/x")),
            Verdict::Disallowed(_)
        ));
        assert!(matches!(&rules, Rules::Parsed(_, Group::Named(n)) if n == "mybot"));
        assert!(matches!(
            parse("otherbot", txt),
            Rules::Parsed(_, Group::Star)
        ));
    }

    #[test]
    fn rules_for_our_agent_and_for_everyone() {
        let txt = b"User-agent: scrape\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n";
        let ours = parse("scrape", txt);
        assert_eq!(verdict(&ours, &url("http://a/x")), Verdict::Allowed(None));
        assert!(matches!(
            verdict(&ours, &url("http://a/private/1")),
            Verdict::Disallowed(_)
        ));
        let other = parse("otherbot", txt);
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
