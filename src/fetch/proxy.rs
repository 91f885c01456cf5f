//! Proxies: `-x/--proxy URL` for every request, `--no-proxy` for none,
//! else the environment, as curl and the HTTP client read it:
//! `HTTP_PROXY`/`http_proxy` for http URLs, `HTTPS_PROXY`/`https_proxy` for
//! https, `ALL_PROXY`/`all_proxy` for both, and `NO_PROXY`/`no_proxy` for
//! the hosts that go direct (`*`, host names — `example.com` also covers
//! its subdomains, a leading dot changes nothing — and IP addresses or
//! networks such as `10.0.0.0/8`). The client does the proxying; this
//! module knows which proxy a URL goes through, so that an error the proxy
//! caused names it.

use std::net::IpAddr;

use url::Url;

use crate::urls::redact;

/// Which proxy requests go through.
#[derive(Debug, Clone, Default)]
pub enum Proxies {
    /// Direct (`--no-proxy`).
    #[default]
    Direct,
    /// One proxy for everything (`--proxy`).
    All(Url),
    /// From the environment.
    Env {
        /// For http URLs.
        http: Option<Url>,
        /// For https URLs.
        https: Option<Url>,
        /// The hosts that go direct.
        no_proxy: Vec<String>,
    },
}

impl Proxies {
    /// The proxies the environment names.
    pub fn from_env() -> Proxies {
        let var = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
        };
        let parse = |v: String| {
            Url::parse(v.trim())
                .or_else(|_| Url::parse(&format!("http://{}", v.trim())))
                .ok()
        };
        let all = var(&["ALL_PROXY", "all_proxy"]).and_then(parse);
        let http = var(&["HTTP_PROXY", "http_proxy"])
            .and_then(parse)
            .or_else(|| all.clone());
        let https = var(&["HTTPS_PROXY", "https_proxy"]).and_then(parse).or(all);
        let no_proxy = var(&["NO_PROXY", "no_proxy"])
            .map(|v| {
                v.split(',')
                    .map(|e| e.trim().to_ascii_lowercase())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Proxies::Env {
            http,
            https,
            no_proxy,
        }
    }

    /// The proxy `url` goes through, if any.
    pub fn for_url(&self, url: &Url) -> Option<&Url> {
        match self {
            Proxies::Direct => None,
            Proxies::All(proxy) => Some(proxy),
            Proxies::Env {
                http,
                https,
                no_proxy,
            } => {
                let proxy = if url.scheme() == "https" { https } else { http };
                let host = url.host_str()?;
                proxy.as_ref().filter(|_| !bypasses(no_proxy, host))
            }
        }
    }

    /// `message` saying the proxy that `url` went through, if any.
    pub fn name_in(&self, url: &Url, message: String) -> String {
        match self.for_url(url) {
            Some(proxy) => format!("via proxy {}: {message}", redact::url(proxy)),
            None => message,
        }
    }
}

/// Whether `host` is one `NO_PROXY` sends direct.
fn bypasses(no_proxy: &[String], host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let ip: Option<IpAddr> = host.parse().ok();
    no_proxy.iter().any(|entry| {
        if entry == "*" {
            return true;
        }
        if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
            return in_network(ip, net, bits);
        }
        let domain = entry.trim_start_matches('.');
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

/// Whether `ip` is in the network `net/bits`.
fn in_network(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    shift >= 128 || (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(http: &str, https: &str, no_proxy: &[&str]) -> Proxies {
        Proxies::Env {
            http: Url::parse(http).ok(),
            https: Url::parse(https).ok(),
            no_proxy: no_proxy.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn via(p: &Proxies, url: &str) -> Option<String> {
        p.for_url(&Url::parse(url).unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn the_scheme_picks_the_proxy() {
        let p = env("http://hp:1/", "http://sp:2/", &[]);
        assert_eq!(
            via(&p, "http://a.example/").as_deref(),
            Some("http://hp:1/")
        );
        assert_eq!(
            via(&p, "https://a.example/").as_deref(),
            Some("http://sp:2/")
        );
    }

    #[test]
    fn no_proxy_sends_hosts_domains_and_networks_direct() {
        let p = env(
            "http://hp:1/",
            "http://hp:1/",
            &["example.com", ".corp", "10.0.0.0/8", "::1"],
        );
        assert_eq!(via(&p, "http://example.com/"), None);
        assert_eq!(via(&p, "http://www.example.com/"), None);
        assert!(via(&p, "http://notexample.com/").is_some());
        assert_eq!(via(&p, "http://db.corp/"), None);
        assert_eq!(via(&p, "http://10.2.3.4/"), None);
        assert!(via(&p, "http://11.2.3.4/").is_some());
        assert_eq!(via(&p, "http://[::1]/"), None);
        assert_eq!(via(&env("http://hp:1/", "", &["*"]), "http://x/"), None);
    }

    #[test]
    fn errors_name_the_proxy_without_its_password() {
        let p = Proxies::All(Url::parse("http://me:pw@proxy.example:3128").unwrap());
        let m = p.name_in(
            &Url::parse("http://a/").unwrap(),
            "Connection refused".into(),
        );
        assert_eq!(
            m,
            "via proxy http://me:***@proxy.example:3128/: Connection refused"
        );
        assert_eq!(
            Proxies::Direct.name_in(&Url::parse("http://a/").unwrap(), "x".into()),
            "x"
        );
    }
}
