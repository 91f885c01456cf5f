//! The demo's site: generated pages on 127.0.0.1, as a real site would
//! answer — most pages in a few tens of milliseconds, some slowly, a few
//! not found or failing, one that redirects, one that is not HTML.
//!
//! Served by a small HTTP/1.1 server on std threads (a thread per
//! connection, keep-alive, `Content-Length` bodies): the demo needs no
//! more, and every build of scrape would otherwise carry an HTTP server
//! framework and its async runtime for this one option.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::error::Fatal;

/// How many pages the site has.
pub const PAGES: u64 = 240;

/// The running site; it stops with the process.
pub struct Site {
    addr: SocketAddr,
}

impl Site {
    /// Starts the site on 127.0.0.1 (a free port).
    pub fn start() -> Result<Site, Fatal> {
        let setup = |e: io::Error| Fatal::Setup(format!("cannot start the demo site: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").map_err(setup)?;
        let addr = listener.local_addr().map_err(setup)?;
        std::thread::Builder::new()
            .name("scrape-demo-site".into())
            .spawn(move || accept(&listener))
            .map_err(setup)?;
        Ok(Site { addr })
    }

    /// The site's pages, one URL a line.
    pub fn list(&self) -> String {
        (0..PAGES)
            .map(|n| format!("http://{}/page/{n}\n", self.addr))
            .collect()
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// Accepts connections for as long as the process runs.
fn accept(listener: &TcpListener) {
    for stream in listener.incoming().flatten() {
        let _ = std::thread::Builder::new()
            .name("scrape-demo-conn".into())
            .stack_size(64 * 1024)
            .spawn(move || serve(stream));
    }
}

/// Answers the requests of one connection until the client closes it or
/// asks to.
fn serve(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let Some((path, close)) = read_request(&mut reader) else {
            return;
        };
        let (status, content_type, extra, body) = answer(&path);
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        // One write: a head and a body sent apart wait out the client's
        // delayed ACK (Nagle), 40 ms a page.
        let sent = out.write_all(format!("{head}{body}").as_bytes());
        if sent.is_err() || close {
            return;
        }
    }
}

/// The path of the next request's line, and whether it asks to close;
/// `None` at the end of the connection or on a request that is not HTTP.
fn read_request(reader: &mut impl BufRead) -> Option<(String, bool)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut close = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            return Some((path, close));
        }
        let lower = header.to_ascii_lowercase();
        close |= lower.starts_with("connection:") && lower.contains("close");
    }
}

/// The page `path` asks for, after that page's latency: status line,
/// Content-Type, extra header lines, body.
fn answer(path: &str) -> (&'static str, &'static str, String, String) {
    let n = path
        .strip_prefix("/page/")
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|&n| n < PAGES);
    let Some(n) = n else {
        return page("404 Not Found", "Not found", String::new());
    };
    std::thread::sleep(latency(n));
    match n % 60 {
        17 => page("404 Not Found", "Not found", String::new()),
        41 => page("500 Internal Server Error", "Server error", String::new()),
        29 => {
            let to = format!("Location: /page/{}\r\n", (n + 1) % PAGES);
            ("301 Moved Permanently", "text/html", to, String::new())
        }
        53 => (
            "200 OK",
            "application/json",
            String::new(),
            "{\"not\": \"html\"}".into(),
        ),
        _ => page("200 OK", &title(n), body(n)),
    }
}

/// Most pages answer in 10 to 30 ms; one in forty takes 400 ms.
fn latency(n: u64) -> Duration {
    if n % 40 == 7 {
        return Duration::from_millis(400);
    }
    Duration::from_millis(10 + (n * 7919) % 21)
}

fn title(n: u64) -> String {
    const TOPICS: [&str; 8] = [
        "Threads and waiting",
        "Why the network is slow",
        "A list of URLs",
        "JSON Lines",
        "Retries with jitter",
        "Redirect chains",
        "Character sets",
        "Reading a page as it streams",
    ];
    format!("{} (page {n})", TOPICS[(n % 8) as usize])
}

fn body(n: u64) -> String {
    let links: String = (1..=3)
        .map(|k| {
            format!(
                "<li><a href=\"/page/{}\">page {0}</a></li>",
                (n * 31 + k * 17) % PAGES
            )
        })
        .collect();
    format!(
        "<p>Page {n} of a site that scrape made up to show what threads buy.</p><ul>{links}</ul>"
    )
}

/// An HTML page.
fn page(
    status: &'static str,
    title: &str,
    body: String,
) -> (&'static str, &'static str, String, String) {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"description\" content=\"A page of the scrape demo\"></head><body>{body}</body></html>"
    );
    (status, "text/html", String::new(), html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_site_answers_pages_over_one_kept_connection() {
        let site = Site::start().unwrap();
        let mut conn = TcpStream::connect(site.addr).unwrap();
        conn.write_all(b"GET /page/2 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        conn.write_all(b"GET /page/999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut all = String::new();
        conn.read_to_string(&mut all).unwrap();
        assert!(all.starts_with("HTTP/1.1 200 OK\r\n"), "{all}");
        assert!(
            all.contains("<title>A list of URLs (page 2)</title>"),
            "{all}"
        );
        assert!(all.contains("HTTP/1.1 404 Not Found\r\n"), "{all}");
        assert_eq!(answer("/page/29").2, "Location: /page/30\r\n");
    }
}
