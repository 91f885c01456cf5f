//! What the other architecture would cost: the same requests as
//! `client_ceiling.rs`, but from async tasks on a tokio runtime with one
//! worker thread per core and reqwest's async client, instead of one OS
//! thread per request in flight. For comparing peak RSS and CPU at
//! thousands in flight (docs/performance.md): it fetches and discards,
//! nothing else.
//!
//! ```text
//! cargo run --release --example async_ceiling -- LIST IN_FLIGHT
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(list), Some(in_flight)) = (args.next(), args.next()) else {
        eprintln!("usage: async_ceiling LIST IN_FLIGHT");
        std::process::exit(2);
    };
    let in_flight: usize = in_flight.parse().unwrap_or(16).max(1);
    let urls: Arc<Vec<String>> = match std::fs::read_to_string(&list) {
        Ok(text) => Arc::new(text.lines().map(str::to_string).collect()),
        Err(e) => {
            eprintln!("async_ceiling: cannot read {list}: {e}");
            std::process::exit(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("async_ceiling: {e}");
            std::process::exit(1);
        }
    };
    let started = Instant::now();
    let failed = runtime.block_on(run(Arc::clone(&urls), in_flight));
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{} URLs in {wall:.3} s: {:.1} URLs/s ({failed} failed)",
        urls.len(),
        urls.len() as f64 / wall
    );
}

/// `in_flight` tasks, each taking the next URL until there are none.
async fn run(urls: Arc<Vec<String>>, in_flight: usize) -> usize {
    let client = match reqwest::Client::builder().build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("async_ceiling: {e}");
            return urls.len();
        }
    };
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..in_flight)
        .map(|_| {
            let (client, urls) = (client.clone(), Arc::clone(&urls));
            let (next, failed) = (Arc::clone(&next), Arc::clone(&failed));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(url) = urls.get(i) else { return };
                    let ok = match client.get(url).send().await {
                        Ok(resp) => resp.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    failed.load(Ordering::Relaxed)
}
