//! What the workers of one pass share, built from the configuration: the
//! fetcher (its client, connection budget, body and WARC budgets, `--tls`
//! handshakes), the politeness gate (host queues, robots.txt, the host
//! breaker), the extraction pool, and `--since`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crossbeam_channel::Sender;

use super::crawler::Crawler;
use super::worker::Crew;
use crate::budget::Budget;
use crate::config::Config;
use crate::crawl::frontier::Frontier;
use crate::error::Fatal;
use crate::extract::pool::Extractor;
use crate::fetch::Fetcher;
use crate::fetch::capture::RAW_PER_CORE;
use crate::fetch::client::{self, Clients, POOL_IDLE_TIMEOUT, Pooling};
use crate::fetch::proxy::Proxies;
use crate::fetch::sockets::Sockets;
use crate::fetch::timing::Connections;
use crate::fetch::tls::Negotiations;
use crate::flow::{Msg, Task};
use crate::politeness::Gate;
use crate::politeness::breaker::Breaker;
use crate::politeness::hosts::HostQueue;
use crate::politeness::rate::Rate;
use crate::politeness::robots::RobotsCache;
use crate::since::Since;
use crate::urls::address::Addresses;

/// The per-host queues, when politeness asks for them.
pub type Hosts = Arc<HostQueue<Task>>;

/// What `threads` workers share, and the host queue they take jobs from
/// (returned too: the pool feeds it).
pub fn assemble(
    config: &Config,
    (threads, keep_cap): (usize, usize),
    cancel: &Arc<AtomicBool>,
    since: Option<Arc<Since>>,
    msgs: Sender<Msg>,
    frontier: Option<Arc<Frontier>>,
) -> Result<(Crew, Option<Hosts>), Fatal> {
    let connections = Connections::new();
    let clients = Clients::build(&config.client, Clients::how_many(threads), &connections)?
        .by_host(config.politeness.map(|p| p.per_host));
    let sockets = Sockets::new(keep_cap, threads, POOL_IDLE_TIMEOUT);
    let sockets = Arc::new(sockets.multiplexed(clients.multiplexed()));
    let fetch = config.fetch.clone();
    let mut fetcher = Fetcher::new(clients, fetch, Arc::clone(cancel), sockets).timed(connections);
    if config.fetch.extraction.content.any() {
        fetcher = fetcher.with_budget(Budget::per_core());
    }
    if config.fetch.warc {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        fetcher = fetcher.with_raw_budget(Budget::new(RAW_PER_CORE * cores));
    }
    if config.fetch.tls {
        let negotiations = Negotiations::new(config.fetch.connect_timeout)
            .map_err(|e| Fatal::Setup(format!("--tls: {e}")))?;
        fetcher = fetcher.with_negotiations(negotiations);
    }
    let hosts = config.politeness.map(|rules| {
        let capacity = (threads * 256).max(4096);
        Arc::new(HostQueue::new(rules, capacity, config.robots))
    });
    let robots = match config.robots {
        true => Some(RobotsCache::new(
            client::build(&config.client, Pooling::None, None)?,
            &config.robots_agent,
            config.fetch.timeout,
            config.fetch.verbose,
        )),
        false => None,
    };
    let breaker = (config.max_host_errors > 0).then(|| Breaker::new(config.max_host_errors));
    let wanted = config.fetch.extraction.content;
    let extractor = match wanted.any() {
        true => Some(Arc::new(Extractor::per_core(wanted).map_err(Fatal::Setup)?)),
        false => None,
    };
    let crawler = crawler(config, frontier)?;
    let crew = Crew {
        crawler,
        since,
        fetcher: Arc::new(fetcher),
        gate: Arc::new(gate(config, hosts.clone(), robots, breaker, cancel)),
        msgs,
        extractor,
        cancel: Arc::clone(cancel),
    };
    Ok((crew, hosts))
}

/// The politeness gate: host queues, robots.txt, the breaker, `--rate`,
/// and the slowdown (with `--auto-throttle`).
fn gate(
    config: &Config,
    hosts: Option<Hosts>,
    robots: Option<RobotsCache>,
    breaker: Option<Breaker>,
    cancel: &Arc<AtomicBool>,
) -> Gate<Task> {
    let rate = config.rate.map(|n| Rate::new(n, Arc::clone(cancel)));
    Gate::new(hosts, robots, breaker)
        .with_rate(rate, Arc::clone(cancel))
        .with_auto_throttle(config.auto_throttle)
}

/// What the workers of a crawl share, when the run crawls.
fn crawler(
    config: &Config,
    frontier: Option<Arc<Frontier>>,
) -> Result<Option<Arc<Crawler>>, Fatal> {
    let (Some(frontier), Some(rules)) = (frontier, &config.crawl) else {
        return Ok(None);
    };
    Ok(Some(Arc::new(Crawler {
        frontier,
        rules: Arc::clone(rules),
        shard: config.shard,
        addresses: Addresses::new(proxied(&config.fetch.proxies)).pinned(&config.client.resolve),
        client: client::build(&config.client, Pooling::Reuse, None)?,
        settings: config.fetch.clone(),
    })))
}

/// Whether requests may go through a proxy (which then resolves names).
fn proxied(proxies: &Proxies) -> bool {
    match proxies {
        Proxies::Direct => false,
        Proxies::All(_) => true,
        Proxies::Env { http, https, .. } => http.is_some() || https.is_some(),
    }
}
