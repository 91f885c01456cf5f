//! A made-up site for crawl tests: `n` hosts (127.0.0.1, 127.0.0.2, …) on
//! one port, or any names when scrape goes through it as a proxy (`-x`:
//! requests then name their absolute URL). Pages come from the test's
//! function of (host, path-and-query); every request is counted by its
//! absolute URL. One thread per connection, keep-alive.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::many::host;

/// What a page is: status, content type, body (a 3xx's body is its
/// Location).
pub type Page = (u16, &'static str, Vec<u8>);

type Handler = dyn Fn(&str, &str) -> Page + Send + Sync;

/// A running site.
pub struct Site {
    /// The port every host listens on.
    pub port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    log: Arc<Mutex<Vec<Asked>>>,
}

/// One request as the site saw it.
#[derive(Debug, Clone)]
pub struct Asked {
    /// The method.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// The body.
    pub body: Vec<u8>,
    /// Its Content-Type, if any.
    pub content_type: Option<String>,
    /// Its `x-*` headers: name (lower case) and value, in order.
    pub x_headers: Vec<(String, String)>,
}

impl Site {
    /// `hosts` addresses on one port, answering with `handler(host, path)`.
    pub fn start(
        hosts: usize,
        handler: impl Fn(&str, &str) -> Page + Send + Sync + 'static,
    ) -> Site {
        let handler: Arc<Handler> = Arc::new(handler);
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let log: Arc<Mutex<Vec<Asked>>> = Arc::default();
        let listeners = bind_all(hosts);
        let port = listeners[0].local_addr().expect("addr").port();
        for listener in listeners {
            let (handler, hits, log) = (Arc::clone(&handler), Arc::clone(&hits), Arc::clone(&log));
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let (handler, hits, log) =
                        (Arc::clone(&handler), Arc::clone(&hits), Arc::clone(&log));
                    std::thread::spawn(move || serve(stream, &*handler, &hits, &log));
                }
            });
        }
        Site { port, hits, log }
    }

    /// Every request, in the order they came.
    pub fn asked(&self) -> Vec<Asked> {
        self.log.lock().unwrap().clone()
    }

    /// `http://127.0.0.{i+1}:PORT{path}`.
    pub fn url(&self, i: usize, path: &str) -> String {
        format!("http://{}:{}{}", host(i), self.port, path)
    }

    /// Requests for this absolute URL.
    pub fn hits(&self, url: &str) -> usize {
        self.hits.lock().unwrap().get(url).copied().unwrap_or(0)
    }

    /// Every URL requested, with its count.
    pub fn all_hits(&self) -> HashMap<String, usize> {
        self.hits.lock().unwrap().clone()
    }
}

fn bind_all(n: usize) -> Vec<TcpListener> {
    'port: loop {
        let first = TcpListener::bind(SocketAddr::new(host(0), 0)).expect("bind");
        let port = first.local_addr().expect("addr").port();
        let mut all = vec![first];
        for i in 1..n {
            match TcpListener::bind(SocketAddr::new(host(i), port)) {
                Ok(l) => all.push(l),
                Err(_) => continue 'port,
            }
        }
        return all;
    }
}

fn serve(
    stream: TcpStream,
    handler: &Handler,
    hits: &Mutex<HashMap<String, usize>>,
    log: &Mutex<Vec<Asked>>,
) {
    let local = stream.local_addr().expect("addr");
    let mut out = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let method = line.split_whitespace().next().unwrap_or("").to_string();
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut host_header = None;
        let mut content_type = None;
        let mut x_headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "host" => host_header = Some(v.trim().to_string()),
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "content-type" => content_type = Some(v.trim().to_string()),
                    k if k.starts_with("x-") => {
                        x_headers.push((k.to_string(), v.trim().to_string()))
                    }
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        let absolute = match target.starts_with("http") {
            true => target.clone(),
            false => format!(
                "http://{}{}",
                host_header.unwrap_or_else(|| local.to_string()),
                target
            ),
        };
        let (name, path) = split(&absolute);
        *hits.lock().unwrap().entry(absolute.clone()).or_default() += 1;
        log.lock().unwrap().push(Asked {
            method,
            url: absolute.clone(),
            body: body.clone(),
            content_type,
            x_headers,
        });
        let (status, kind, page) = handler(&name, &path);
        // A redirect's body is its Location.
        let location = match status {
            300..=399 => format!("Location: {}\r\n", String::from_utf8_lossy(&page)),
            _ => String::new(),
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\n{location}Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
            page.len()
        );
        // One write: a head and a body in two would meet Nagle and the
        // client's delayed ACK, 40 ms a page.
        let mut response = head.into_bytes();
        response.extend_from_slice(&page);
        if out.write_all(&response).is_err() {
            return;
        }
    }
}

/// An absolute URL's host (without port) and path with query.
fn split(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = match authority.rfind(':') {
        Some(i) if !authority.ends_with(']') => &authority[..i],
        _ => authority,
    };
    (host.to_string(), path.to_string())
}

/// An HTML page with these links (`<a href>`, and any extra markup).
pub fn html(title: &str, links: &[&str], extra: &str) -> Page {
    let mut body = format!("<html><head><title>{title}</title>{extra}</head><body>");
    for l in links {
        body.push_str(&format!("<a href=\"{l}\">x</a> "));
    }
    body.push_str("</body></html>");
    (200, "text/html", body.into_bytes())
}
