//! The floor under scrape's per-URL cost: the same HTTP client work with
//! nothing else (no parsing, no records, no channels).
//!
//! ```text
//! cargo run --release --example client_ceiling -- LIST THREADS [CLIENTS]
//! ```
//!
//! N threads share one `reqwest::blocking::Client` (or CLIENTS of them, the
//! threads spread over them) and split the list; each GETs its URLs and
//! reads every body into a sink. Prints URLs/s. The benchmark harness
//! (`bench/run.sh`) runs it beside scrape to show how much of scrape's time
//! is the blocking client itself. Each blocking client drives its
//! connections from one runtime thread of its own, so CLIENTS > 1 shows what
//! more of those threads would buy.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(list), Some(threads)) = (args.next(), args.next()) else {
        eprintln!("usage: client_ceiling LIST THREADS");
        std::process::exit(2);
    };
    let threads: usize = threads.parse().unwrap_or(16).max(1);
    let clients: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(1).max(1);
    let urls: Vec<String> = match std::fs::read_to_string(&list) {
        Ok(text) => text.lines().map(str::to_string).collect(),
        Err(e) => {
            eprintln!("client_ceiling: cannot read {list}: {e}");
            std::process::exit(1);
        }
    };
    let clients: Vec<reqwest::blocking::Client> = match (0..clients)
        .map(|_| reqwest::blocking::Client::builder().build())
        .collect()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("client_ceiling: {e}");
            std::process::exit(1);
        }
    };
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let client = &clients[t % clients.len()];
            let (next, failed, urls) = (&next, &failed, &urls);
            s.spawn(move || {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(url) = urls.get(i) else { return };
                    let ok = client.get(url).send().is_ok_and(|mut resp| {
                        while let Ok(n) = resp.read(&mut buf) {
                            if n == 0 {
                                return true;
                            }
                        }
                        false
                    });
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{} URLs in {wall:.3} s: {:.1} URLs/s ({} failed)",
        urls.len(),
        urls.len() as f64 / wall,
        failed.load(Ordering::Relaxed)
    );
}
