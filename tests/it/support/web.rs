//! A raw server that answers as sites on the web do, quirks included:
//! content codings in any spelling, raw bytes in headers, cookies set on a
//! redirect, keep-alive connections closed without a word. Every request's
//! head is kept for the test to inspect. One thread per connection, on
//! 127.0.0.1:0.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A server for one test.
pub struct Web {
    pub addr: SocketAddr,
    heads: Arc<Mutex<Vec<(String, String)>>>,
}

impl Web {
    /// Starts on 127.0.0.1:0.
    pub fn start() -> Web {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let heads: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let seen = Arc::clone(&heads);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, &seen));
            }
        });
        Web { addr, heads }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The heads of the requests for `path`, lower-cased.
    pub fn heads(&self, path: &str) -> Vec<String> {
        let heads = self.heads.lock().unwrap();
        heads
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// How many requests came for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.heads(path).len()
    }
}

/// Reads one request head; returns its path and the head, lower-cased.
fn read_head(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let target = text.split_whitespace().nth(1)?;
    let path = target.split('?').next().unwrap_or(target).to_string();
    Some((path, text.to_ascii_lowercase()))
}

fn serve(mut stream: TcpStream, seen: &Mutex<Vec<(String, String)>>) {
    // Several requests per connection, until a route closes it.
    while let Some((path, head)) = read_head(&mut stream) {
        let hit = {
            let mut seen = seen.lock().unwrap();
            seen.push((path.clone(), head.clone()));
            seen.iter().filter(|(p, _)| *p == path).count()
        };
        match answer(&mut stream, &path, &head, hit) {
            Ok(true) => continue,
            _ => return,
        }
    }
}

/// A whole response with a body; `keep` says whether the connection stays.
fn send(
    s: &mut TcpStream,
    status: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
    keep: bool,
) -> std::io::Result<bool> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len()).into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !keep {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    s.write_all(&out)?;
    s.flush()?;
    Ok(keep)
}

fn page(title: &str) -> Vec<u8> {
    format!(
        "<!doctype html><html><head><title>{title}</title></head><body><p>{title}</p></body></html>"
    )
    .into_bytes()
}

const HTML: (&str, &[u8]) = ("Content-Type", b"text/html; charset=utf-8");

fn answer(s: &mut TcpStream, path: &str, head: &str, hit: usize) -> std::io::Result<bool> {
    if let Some(coding) = path.strip_prefix("/enc/") {
        return encoded(s, coding);
    }
    match path {
        "/echo-accept-encoding" => {
            let value = header(head, "accept-encoding")
                .unwrap_or("none")
                .to_string();
            send(s, "200 OK", &[HTML], &page(&value), false)
        }
        "/raw-location" => send(
            s,
            "302 Found",
            &[("Location", "/landing-é/✓".as_bytes())],
            b"",
            false,
        ),
        "/landing-%c3%a9/%e2%9c%93" | "/landing-%C3%A9/%E2%9C%93" => {
            send(s, "200 OK", &[HTML], &page("Landed"), false)
        }
        "/set-cookie" => send(
            s,
            "302 Found",
            &[
                ("Location", b"/need-cookie"),
                ("Set-Cookie", b"session=abc123; Path=/; HttpOnly"),
            ],
            b"",
            false,
        ),
        "/need-cookie" if header(head, "cookie").is_some_and(|c| c.contains("session=abc123")) => {
            send(s, "200 OK", &[HTML], &page("Welcome back"), false)
        }
        "/need-cookie" => send(s, "403 Forbidden", &[HTML], &page("No cookie"), false),
        "/auth" if header(head, "authorization").is_some() => {
            send(s, "200 OK", &[HTML], &page("Authorized"), false)
        }
        "/auth" => send(s, "401 Unauthorized", &[HTML], &page("Who are you"), false),
        // Answers as if the connection stayed open, then closes it: the
        // client learns only when it tries the next request.
        p if p.starts_with("/keepalive-close") => {
            send(s, "200 OK", &[HTML], &page("Kept"), true)?;
            Ok(false)
        }
        // Reads the request, closes without a byte.
        "/empty" => Ok(false),
        "/reset-first" if hit == 1 => {
            socket2::SockRef::from(&*s).set_linger(Some(Duration::ZERO))?;
            Ok(false)
        }
        "/robots.txt" => send(
            s,
            "200 OK",
            &[("Content-Type", b"text/plain")],
            b"User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n",
            false,
        ),
        _ => send(s, "200 OK", &[HTML], &page("Page"), false),
    }
}

/// A request header's value, from the lower-cased head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::trim)
}

/// A page titled after its coding, encoded as the path says.
fn encoded(s: &mut TcpStream, coding: &str) -> std::io::Result<bool> {
    let body = page(&format!("Encoded {coding}"));
    let (header_value, bytes): (&str, Vec<u8>) = match coding {
        "x-gzip" => ("x-gzip", gzip(&body)),
        "GZIP" => ("GZIP", gzip(&body)),
        "deflate-raw" => ("deflate", deflate_raw(&body)),
        "br" => ("br", brotli(&body)),
        "zstd" => (
            "zstd",
            ruzstd::encoding::compress_to_vec(
                &body[..],
                ruzstd::encoding::CompressionLevel::Fastest,
            ),
        ),
        "gzip-then-br" => ("gzip, br", brotli(&gzip(&body))),
        "compress" => ("compress", body.clone()),
        _ => ("identity", body.clone()),
    };
    send(
        s,
        "200 OK",
        &[HTML, ("Content-Encoding", header_value.as_bytes())],
        &bytes,
        false,
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 20);
        w.write_all(data).unwrap();
    }
    out
}
