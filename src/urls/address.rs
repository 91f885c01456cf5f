//! Which addresses a crawl must not wander into from a link it found
//! (`--follow`, README "Crawling"): loopback, private (RFC 1918), shared
//! (RFC 6598), link-local (`169.254.0.0/16`, where clouds serve instance
//! credentials), unique-local (`fc00::/7`), unspecified and the like.
//!
//! A link is checked on the addresses its host resolves to, so a public
//! name that resolves to `10.0.0.5` is refused as the address itself is.
//! Through a proxy (`-x`), the proxy resolves names and scrape never sees
//! the addresses: only addresses written in the URL (and `localhost`) are
//! checked then.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::sync::Mutex;

use url::{Host, Url};

/// The most hosts whose answer is remembered; past it the memory starts
/// over (a crawl of the open web meets millions of hosts).
const REMEMBERED: usize = 100_000;

/// Whether an address is one a link found on a page may not lead to.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        // 100.64.0.0/10, carrier-grade NAT.
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24, IETF protocol assignments.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        // fc00::/7 unique-local, fe80::/10 link-local.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// Looks hosts up (once each) to tell whether a URL leads to an internal
/// address.
#[derive(Debug)]
pub struct Addresses {
    /// Requests go through a proxy: names are the proxy's to resolve.
    proxied: bool,
    /// `--resolve`: names the user sent to an address of their own.
    pinned: HashMap<String, IpAddr>,
    known: Mutex<HashMap<String, bool>>,
}

impl Addresses {
    /// A checker; `proxied` when requests go through `-x`.
    pub fn new(proxied: bool) -> Addresses {
        Addresses {
            proxied,
            pinned: HashMap::new(),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The checker, with the addresses `--resolve` gives names.
    pub fn pinned(mut self, pins: &[(String, std::net::SocketAddr)]) -> Addresses {
        self.pinned = pins.iter().map(|(h, a)| (h.clone(), a.ip())).collect();
        self
    }

    /// Whether requests go through a proxy.
    pub fn proxied(&self) -> bool {
        self.proxied
    }

    /// The internal address `url` leads to, said in words; `None` when it
    /// leads to none that scrape can see. A name that does not resolve is
    /// not refused here: its fetch says so.
    pub fn internal(&self, url: &Url) -> Option<String> {
        match url.host()? {
            Host::Ipv4(ip) => is_internal(IpAddr::V4(ip)).then(|| ip.to_string()),
            Host::Ipv6(ip) => is_internal(IpAddr::V6(ip)).then(|| ip.to_string()),
            Host::Domain(name) => self.name_internal(name, url.port_or_known_default()),
        }
    }

    fn name_internal(&self, name: &str, port: Option<u16>) -> Option<String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(ip) = self.pinned.get(&name) {
            return is_internal(*ip).then(|| format!("{name}, which --resolve sends to {ip}"));
        }
        let local = name == "localhost" || name.ends_with(".localhost");
        if local || self.proxied {
            return local.then_some(name);
        }
        let known = self.lock().get(&name).copied();
        let internal = match known {
            Some(internal) => internal,
            None => {
                let addrs = (name.as_str(), port.unwrap_or(80)).to_socket_addrs();
                let internal = addrs.is_ok_and(|mut a| a.any(|sa| is_internal(sa.ip())));
                let mut known = self.lock();
                if known.len() >= REMEMBERED {
                    known.clear();
                }
                known.insert(name.clone(), internal);
                internal
            }
        };
        internal.then(|| format!("{name}, which resolves to an internal address"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_told_from_public_ones() {
        for ip in [
            "127.0.0.1",
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::5",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2001:db8::1",
            "1.1.1.1",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn literals_and_localhost_are_checked_without_a_lookup() {
        let a = Addresses::new(true);
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(a.internal(&url("http://169.254.169.254/latest/")).is_some());
        assert!(a.internal(&url("http://[fd00::1]:8080/")).is_some());
        assert!(a.internal(&url("http://LOCALHOST./")).is_some());
        assert!(a.internal(&url("http://93.184.216.34/")).is_none());
        // Through a proxy, names are the proxy's: no lookup here.
        assert!(a.internal(&url("http://shop.test/")).is_none());
    }
}
