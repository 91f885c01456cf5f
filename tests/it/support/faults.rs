//! A fault-injection HTTP server on a raw `TcpListener`: servers that
//! misbehave on purpose, the way no well-behaved crate can.
//!
//! Every connection is served by its own thread and answers one request;
//! the path picks the fault. Hits per path are counted. Threads end when the
//! client goes away (a write or read fails) or after a bounded time.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest any fault keeps a connection open.
const MAX_HOLD: Duration = Duration::from_secs(30);

/// A misbehaving server for one test.
pub struct FaultServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    starts: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl FaultServer {
    /// Starts on 127.0.0.1:0.
    pub fn start() -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let starts: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s, t) = (Arc::clone(&hits), Arc::clone(&stop), Arc::clone(&starts));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (hits, starts) = (Arc::clone(&h), Arc::clone(&t));
                std::thread::spawn(move || serve(stream, &hits, &starts));
            }
        });
        FaultServer {
            addr,
            hits,
            stop,
            starts,
        }
    }

    /// Every request's path and arrival time, in order.
    pub fn starts(&self) -> Vec<(String, Instant)> {
        self.starts.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests seen for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads the request head; returns the path.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let target = text.split_whitespace().nth(1)?;
    Some(target.split('?').next().unwrap_or(target).to_string())
}

fn serve(
    mut stream: TcpStream,
    hits: &Mutex<HashMap<String, usize>>,
    starts: &Mutex<Vec<(String, Instant)>>,
) {
    let Some(path) = read_request(&mut stream) else {
        return;
    };
    starts.lock().unwrap().push((path.clone(), Instant::now()));
    let n = {
        let mut hits = hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let _ = respond(&mut stream, &path, n);
}

fn respond(s: &mut TcpStream, path: &str, hit: usize) -> std::io::Result<()> {
    match path {
        // Accepts, reads the request, never answers.
        "/hang" => hold(s),
        // Headers, a little body, then silence.
        "/stall" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<title>Stalled</title>")?;
            hold(s)
        }
        // One byte every 200 ms, forever.
        "/trickle" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")?;
            let start = Instant::now();
            while start.elapsed() < MAX_HOLD {
                s.write_all(b"x")?;
                s.flush()?;
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(())
        }
        // 5000 bytes of a promised 100000, then a TCP reset.
        "/reset-mid-body" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<title>Reset</title>")?;
            s.write_all(&[b'a'; 5000 - 20])?;
            s.flush()?;
            std::thread::sleep(Duration::from_millis(50));
            reset(s)
        }
        // A reset before any byte of a response: transient, retried.
        "/reset-before" => reset(s),
        // Fewer bytes than Content-Length, then a clean close.
        "/short" => s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nonly a hundred bytes or so",
        ),
        // A body without end.
        "/endless" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")?;
            let chunk = [b'z'; 64 * 1024];
            let start = Instant::now();
            while start.elapsed() < MAX_HOLD {
                s.write_all(&chunk)?;
            }
            Ok(())
        }
        // A gzip stream of zeros without end: a few KB on the wire per GB.
        "/gzip-bomb" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")?;
            let mut gz = flate2::write::GzEncoder::new(s, flate2::Compression::fast());
            let zeros = [0u8; 64 * 1024];
            let start = Instant::now();
            while start.elapsed() < MAX_HOLD {
                gz.write_all(&zeros)?;
            }
            Ok(())
        }
        // 429 with Retry-After: 1 on the first hit, then 200.
        "/429-once" if hit == 1 => s.write_all(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
        // 503 on the first two hits, then 200.
        "/503-twice" if hit <= 2 => s.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
        "/bad-chunked" => s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\nzz-not-hex\r\n",
        ),
        "/garbage" => s.write_all(b"HELLO THERE, THIS IS NOT HTTP\r\n\r\n"),
        _ => s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 21\r\nConnection: close\r\n\r\n<title>Fine</title>\r\n",
        ),
    }
}

/// Keeps the connection open, silent, until the client leaves.
fn hold(s: &mut TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(MAX_HOLD))?;
    let mut buf = [0u8; 1024];
    while s.read(&mut buf)? > 0 {}
    Ok(())
}

/// Closes with a TCP reset (SO_LINGER 0) instead of a clean FIN.
fn reset(s: &mut TcpStream) -> std::io::Result<()> {
    socket2::SockRef::from(&*s).set_linger(Some(Duration::ZERO))?;
    s.shutdown(std::net::Shutdown::Read).ok();
    Ok(())
}
