//! The options that shape requests and their pace (README "Options"):
//! method and body, names pinned to addresses, HTTP/2, `--rate` and
//! `--auto-throttle`; flattened into [`super::Cli`] under their heading.

use clap::Args;

/// What each request is, and how fast they go.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Requests and pace")]
pub struct RequestArgs {
    /// The request method (GET; POST when --data or --json is given
    /// without -X): any token, as curl's -X. Records then carry `method`.
    /// POST and PATCH are never retried (--retries): the server may have
    /// acted on the first.
    #[arg(short = 'X', long = "method", value_name = "METHOD", value_parser = parse_method)]
    pub method: Option<reqwest::Method>,

    /// Send this body with every request, as
    /// application/x-www-form-urlencoded unless -H says otherwise (curl's
    /// --data); @FILE sends the file's bytes.
    #[arg(long, value_name = "STRING|@FILE", conflicts_with = "json")]
    pub data: Option<String>,

    /// Send this JSON with every request (Content-Type and Accept
    /// application/json); @FILE reads it from the file. Text that is not
    /// JSON is a usage error.
    #[arg(long, value_name = "STRING|@FILE")]
    pub json: Option<String>,

    /// Send requests for HOST to ADDR instead of resolving it, as curl's
    /// --resolve does (repeatable): HOST:PORT:ADDR, ADDR an IPv4 or
    /// [IPv6] address. The URL keeps its name (Host header, TLS name).
    /// PORT must be given; every port of HOST goes to ADDR.
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<(String, std::net::SocketAddr)>,

    /// Set each host's gap between requests from its latency, as Scrapy's
    /// AutoThrottle does: latency to the response's headers ÷ the target
    /// concurrency (--per-host, else 1), moved halfway at each answer, at
    /// most 60 s; error answers never narrow it.
    #[arg(long)]
    pub auto_throttle: bool,

    /// Offer HTTP/2 on HTTPS (by ALPN): a server that takes it gets the
    /// requests to it multiplexed over one connection, up to its stream
    /// limit (`http_version` says "HTTP/2"); others speak HTTP/1.1. Plain
    /// http stays HTTP/1.1. Off by default: HTTP/1.1 with --per-host
    /// connections is what scrape is measured with.
    #[arg(long)]
    pub http2: bool,

    /// At most N requests a second for the whole run, all hosts together,
    /// spread evenly (no burst; fractions allowed: 0.5 is one every two
    /// seconds). A URL's retries and redirects follow its first request
    /// without waiting again.
    #[arg(long, value_name = "N", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: Option<f64>,
}

/// A method: an HTTP token, upper-cased.
fn parse_method(s: &str) -> Result<reqwest::Method, String> {
    let token = s.trim();
    let ok = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    match ok {
        true => reqwest::Method::from_bytes(token.to_ascii_uppercase().as_bytes())
            .map_err(|e| format!("'{s}' is not a method: {e}")),
        false => Err(format!(
            "'{s}' is not a method (a token such as GET, POST, PUT)"
        )),
    }
}

/// `HOST:PORT:ADDR`, the host lower-cased.
fn parse_resolve(s: &str) -> Result<(String, std::net::SocketAddr), String> {
    let bad = || format!("'{s}' is not HOST:PORT:ADDR (shop.test:443:127.0.0.1, or [::1] as ADDR)");
    let (host, rest) = s.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok((
        host.to_ascii_lowercase(),
        std::net::SocketAddr::new(ip, port),
    ))
}

/// Requests a second: above 0, at most a million.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n <= 1e6 => Ok(n),
        _ => Err(format!(
            "'{s}' is not a rate: a number of requests a second above 0 and at most 1000000 (50, or 0.5 for one every two seconds)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_takes_host_port_and_an_address() {
        let (host, addr) = parse_resolve("Shop.test:8443:127.0.0.2").unwrap();
        assert_eq!(
            (host.as_str(), addr.to_string().as_str()),
            ("shop.test", "127.0.0.2:8443")
        );
        let (_, v6) = parse_resolve("a.test:443:[::1]").unwrap();
        assert_eq!(v6.to_string(), "[::1]:443");
        for bad in [
            "a.test",
            "a.test:443",
            "a.test:x:127.0.0.1",
            ":443:127.0.0.1",
            "a.test:443:host",
        ] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }
}
