//! `--shard K/N`: split one list across N machines by host.
//!
//! A URL belongs to shard `fnv1a64(host) mod N`, where `host` is the URL's
//! host as the `url` crate writes it (lowercase; international names in
//! punycode; IPv6 in brackets) and FNV-1a is the 64-bit variant (offset
//! basis 0xcbf29ce484222325, prime 0x100000001b3) over its UTF-8 bytes. The
//! hash is fixed: every machine and every version of scrape agrees, so
//! shards 0..N-1 of one list cover it exactly once, and all URLs of a host
//! land on one machine (per-host politeness holds across the cluster). A
//! line that is not a URL belongs to `fnv1a64(line) mod N`.
//!
//! `--shard auto` takes K and N from the batch engine running the task
//! instead ([`engine`]): a Slurm array task or a Kubernetes Indexed Job pod.

pub mod engine;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use url::Url;

/// Shard K of N, and who said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// K: this machine's shard, 0-based.
    pub index: u64,
    /// N: how many shards in all.
    pub count: u64,
    /// Where K and N came from.
    pub from: Source,
}

/// Where a shard's K and N came from (the summary says, so a merge can
/// tell a hand-typed count from an engine's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `--shard K/N`.
    Flag,
    /// `--shard auto` in a Slurm array task.
    Slurm,
    /// `--shard auto` in a Kubernetes Indexed Job pod.
    Kubernetes,
}

impl Source {
    /// The name the summary gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "--shard",
            Source::Slurm => "Slurm",
            Source::Kubernetes => "Kubernetes",
        }
    }
}

/// What `--shard` says: K/N as typed, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// `--shard K/N`.
    Fixed(Shard),
    /// `--shard auto`: ask the engine ([`engine::resolve`]).
    Auto,
}

impl FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ShardSpec, String> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(ShardSpec::Auto);
        }
        s.parse().map(ShardSpec::Fixed).map_err(|e| {
            format!("{e}; or 'auto' to take K and N from a Slurm array or Kubernetes Indexed Job")
        })
    }
}

impl Shard {
    /// Whether the line with this URL (or, when it is not a URL, this
    /// input) belongs to this shard.
    pub fn owns(&self, url: Option<&Url>, input: &str) -> bool {
        let key = match url.and_then(Url::host_str) {
            Some(host) => host,
            None => input,
        };
        self.owns_key(key)
    }

    /// Whether a crawl's link with this key (its host, or registrable
    /// domain with `--scope domain`) belongs to this shard.
    pub fn owns_key(&self, key: &str) -> bool {
        fnv1a64(key.as_bytes()) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not of the form K/N (e.g. 0/4)"))?;
        let index: u64 = k
            .trim()
            .parse()
            .map_err(|_| format!("'{k}' is not a shard number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("'{n}' is not a shard count"))?;
        if count == 0 {
            return Err("N must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "K must be below N: the shards of {count} are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard {
            index,
            count,
            from: Source::Flag,
        })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn parses_k_of_n() {
        let flag = |index, count| Shard {
            index,
            count,
            from: Source::Flag,
        };
        assert_eq!("0/4".parse(), Ok(flag(0, 4)));
        assert_eq!(" 3 / 4 ".parse(), Ok(flag(3, 4)));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("a/b".parse::<Shard>().is_err());
        assert_eq!(flag(1, 3).to_string(), "1/3");
        assert_eq!("auto".parse(), Ok(ShardSpec::Auto));
        assert_eq!(" AUTO ".parse(), Ok(ShardSpec::Auto));
        assert_eq!("2/3".parse(), Ok(ShardSpec::Fixed(flag(2, 3))));
        let err = "auot".parse::<ShardSpec>().unwrap_err();
        assert!(err.contains("K/N") && err.contains("'auto'"), "{err}");
    }

    #[test]
    fn shards_partition_a_list_exactly_and_keep_hosts_together() {
        let n = 7;
        let shards: Vec<Shard> = (0..n)
            .map(|k| Shard {
                index: k,
                count: n,
                from: Source::Flag,
            })
            .collect();
        for i in 0..2000 {
            let url = Url::parse(&format!("https://host{}.example/page/{i}", i % 97)).unwrap();
            let owners = shards.iter().filter(|s| s.owns(Some(&url), "")).count();
            assert_eq!(owners, 1, "{url}");
            let same_host = Url::parse(&format!("http://host{}.example/other", i % 97)).unwrap();
            let a = shards.iter().position(|s| s.owns(Some(&url), "")).unwrap();
            let b = shards
                .iter()
                .position(|s| s.owns(Some(&same_host), ""))
                .unwrap();
            assert_eq!(a, b, "one host, one shard");
        }
        let owners = shards.iter().filter(|s| s.owns(None, "not a url")).count();
        assert_eq!(owners, 1);
    }

    #[test]
    fn the_assignment_is_stable() {
        // Pinned: changing these breaks running clusters.
        let url = Url::parse("https://example.com/").unwrap();
        let s = |k| Shard {
            index: k,
            count: 16,
            from: Source::Flag,
        };
        let owner = (0..16).find(|&k| s(k).owns(Some(&url), "")).unwrap();
        assert_eq!(fnv1a64(b"example.com"), 0x576846634e2714c6);
        assert_eq!(owner, 6);
    }
}
