//! The frontier: jobs found and not yet fetched, the pages seen, and the
//! counts `--max-pages` and `--max-per-host` go by.
//!
//! **Levels.** A job's level is its depth. A level is handed out only when
//! every job of the levels below it has finished, so a page is always
//! first met by its shortest path from a seed: `depth` is that distance,
//! exactly, as README promises, whatever the number of threads (a page met
//! first at depth 3 and then at depth 1 cannot happen). The cost is the
//! wait for a level's slowest page before the next begins.
//!
//! **Never blocking a worker.** Workers hand in what a page led to with
//! [`Frontier::finished`], which only takes a lock: each level's
//! [`queue::Queue`] spills to a file past its share of
//! `--frontier-memory`, so the loop worker → frontier → reader → pool →
//! worker cannot deadlock when every queue is full.
//!
//! **Seen.** Every URL admitted (seeds included) is kept as a 56-bit
//! fingerprint ([`seen::Seen`], about 5.3 bytes each): the same page
//! reached twice is fetched once.
//!
//! **Journal** (`-o FILE` only, for `--resume`): every admitted job is
//! appended to `FILE.frontier/journal` before the record of the page that
//! found it is written, one `write` per page. A resumed run reads it back:
//! what has a record in FILE is seen and counted, the rest is queued
//! again. The directory goes when a crawl ends whole; with the output on
//! standard output, spill files live in a temporary directory removed at
//! exit.

pub mod entry;
pub mod queue;
mod seen;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use url::Url;

use super::admit::Candidate;
use super::normalize::normalize;
use super::{Dropped, Kind, Lineage, Origin, Rules, Seed};
use crate::error::Fatal;
use crate::input::resume::Crawled;
use crate::urls::{HostMap, host_hash};
use entry::Entry;
use queue::Queue;
use seen::Seen;

/// How often a reader waiting for jobs looks at Ctrl-C.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// The frontier, shared by the reader (which takes jobs) and the workers
/// (which hand in what pages led to).
pub struct Frontier {
    state: Mutex<State>,
    wake: Condvar,
    max_pages: Option<u64>,
    max_per_host: Option<u64>,
    /// Bytes of queued jobs kept in memory, per level.
    budget: usize,
    dir: Dir,
}

/// Where spill files and the journal live.
enum Dir {
    /// Beside the output: kept until the crawl ends whole.
    Beside(PathBuf),
    /// A temporary directory, removed when the frontier is dropped.
    Temporary(tempfile::TempDir),
}

impl Dir {
    fn path(&self) -> &Path {
        match self {
            Dir::Beside(p) => p,
            Dir::Temporary(t) => t.path(),
        }
    }
}

#[derive(Default)]
struct State {
    levels: BTreeMap<u32, Queue>,
    /// Jobs handed out and not finished, per level.
    outstanding: BTreeMap<u32, u64>,
    seen: Seen,
    pages: u64,
    per_host: HostMap<u64>,
    dropped: Dropped,
    /// Seeds by number; a resumed run knows some from the journal before
    /// the reader registers them.
    seeds: Vec<Option<Arc<Seed>>>,
    /// Seeds the reader registered.
    registered: usize,
    /// Seeds the journal has named.
    journaled: Vec<bool>,
    journal: Option<File>,
    /// Why a spill or journal write failed, said once.
    warned: bool,
    /// `--resume`: the pages the earlier run wrote records of.
    crawled: Option<Crawled>,
}

impl Frontier {
    /// A frontier for `rules`; its files go beside `output` (then with a
    /// journal), or in a temporary directory. With `crawled` (`--resume`),
    /// the journal of the earlier run is read back first.
    pub fn open(
        rules: &Rules,
        output: Option<&Path>,
        crawled: Option<Crawled>,
    ) -> Result<Frontier, Fatal> {
        let setup = |what: &str, e: io::Error| Fatal::Setup(format!("{what}: {e}"));
        let dir = match output {
            Some(out) => {
                let mut name = out.as_os_str().to_owned();
                name.push(".frontier");
                let path = PathBuf::from(name);
                std::fs::create_dir_all(&path)
                    .map_err(|e| setup(&format!("cannot create {}", path.display()), e))?;
                Dir::Beside(path)
            }
            None => Dir::Temporary(
                tempfile::Builder::new()
                    .prefix("scrape-frontier-")
                    .tempdir()
                    .map_err(|e| setup("cannot create a temporary directory", e))?,
            ),
        };
        let mut state = State {
            crawled,
            ..State::default()
        };
        let budget = usize::try_from(rules.frontier_memory).unwrap_or(usize::MAX);
        if let (true, Dir::Beside(path)) = (state.crawled.is_some(), &dir) {
            state.replay(&path.join("journal"), budget)?;
        }
        if let Dir::Beside(path) = &dir {
            let journal = path.join("journal");
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&journal)
                .map_err(|e| setup(&format!("cannot open {}", journal.display()), e))?;
            state.journal = Some(file);
        }
        Ok(Frontier {
            state: Mutex::new(state),
            wake: Condvar::new(),
            max_pages: rules.max_pages,
            max_per_host: rules.max_per_host,
            budget,
            dir,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers the next list line as a seed, in list order (a resumed
    /// run registers the same lines in the same order). A `page` seed
    /// (not a sitemap) is seen and counted; `fetching` when it is handed
    /// to the pool now (not done by an earlier run).
    pub fn seed(&self, url: &Url, origin: Origin, page: bool, fetching: bool) -> Arc<Seed> {
        let mut s = self.lock();
        let index = s.registered;
        s.registered += 1;
        let seed = match s.seeds.get(index) {
            Some(Some(known)) => Arc::clone(known),
            _ => {
                let seed = Arc::new(Seed::new(url.clone(), index as u32).from(origin));
                s.put_seed(index, Arc::clone(&seed));
                seed
            }
        };
        let url = normalize(url);
        if page && s.seen.insert(url.as_str()) {
            s.pages += 1;
            *s.per_host.entry(host_hash(&url)).or_default() += 1;
        }
        if fetching {
            *s.outstanding.entry(0).or_default() += 1;
        }
        seed
    }

    /// The next job, once every job of the levels below it has finished;
    /// `None` when nothing is queued or in flight (the crawl is over), or
    /// the run stops.
    pub fn next(&self, cancel: &AtomicBool) -> Option<(Url, Lineage)> {
        let mut s = self.lock();
        loop {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            s.levels.retain(|_, q| !q.is_empty());
            match s.levels.keys().next().copied() {
                Some(level) => {
                    let below: u64 = s.outstanding.range(..level).map(|(_, n)| n).sum();
                    if below == 0 {
                        if let Some(entry) = s.pop(level, self.budget) {
                            *s.outstanding.entry(level).or_default() += 1;
                            return Some((entry.url, entry.lineage));
                        }
                        continue;
                    }
                }
                None if s.outstanding.values().all(|n| *n == 0) => return None,
                None => {}
            }
            s = match self.wake.wait_timeout(s, CANCEL_POLL) {
                Ok((s, _)) => s,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// A job of level `depth` is done: what it led to is admitted (repeats
    /// dropped silently, `--max-per-host` and `--max-pages` applied), and
    /// `dropped` counted. Never blocks on anything but the lock.
    pub fn finished(&self, depth: u32, found: Vec<Candidate>, dropped: &Dropped) {
        let mut s = self.lock();
        s.dropped.add(dropped);
        let mut journal = String::new();
        for Candidate { url, lineage } in found {
            if s.seen.contains(url.as_str()) {
                continue;
            }
            let done = s.crawled.as_ref().is_some_and(|c| c.contains(&url));
            if lineage.kind == Kind::Page {
                let host = host_hash(&url);
                let on_host = s.per_host.get(&host).copied().unwrap_or(0);
                if self.max_per_host.is_some_and(|max| on_host >= max) {
                    s.dropped.max_per_host += 1;
                    continue;
                }
                if self.max_pages.is_some_and(|max| s.pages >= max) {
                    s.dropped.max_pages += 1;
                    continue;
                }
                s.pages += 1;
                *s.per_host.entry(host).or_default() += 1;
            }
            s.seen.insert(url.as_str());
            if done {
                // An earlier run (--resume) wrote its record.
                s.dropped.resumed += 1;
                continue;
            }
            let entry = Entry { url, lineage };
            if s.journal.is_some() {
                s.journal_seed(&entry.lineage.seed, &mut journal);
                journal.push_str(&entry.line());
            }
            s.push(entry, self.dir.path(), self.budget);
        }
        s.write_journal(&journal);
        if let Some(n) = s.outstanding.get_mut(&depth) {
            *n = n.saturating_sub(1);
        }
        drop(s);
        self.wake.notify_all();
    }

    /// A seed answered from an internal address: noted for a resumed run.
    pub fn mark_internal(&self, seed: &Seed) {
        if !seed.is_internal() {
            seed.mark_internal();
            let mut s = self.lock();
            let mut text = String::new();
            if s.journal.is_some() {
                s.journal_seed(seed, &mut text);
                text.push_str(&entry::internal_line(seed.index));
            }
            s.write_journal(&text);
        }
    }

    /// Whether `url` (normalised) was admitted already.
    pub fn has_seen(&self, url: &Url) -> bool {
        self.lock().seen.contains(url.as_str())
    }

    /// The links not followed so far, by rule.
    pub fn dropped(&self) -> Dropped {
        self.lock().dropped
    }

    /// The crawl ended whole: its files beside the output are no longer
    /// needed.
    pub fn completed(&self) {
        let mut s = self.lock();
        s.journal = None;
        s.levels.clear();
        if let Dir::Beside(path) = &self.dir {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

impl State {
    fn put_seed(&mut self, index: usize, seed: Arc<Seed>) {
        if self.seeds.len() <= index {
            self.seeds.resize(index + 1, None);
        }
        self.seeds[index] = Some(seed);
    }

    /// Names `seed` in the journal (before its first job there).
    fn journal_seed(&mut self, seed: &Seed, journal: &mut String) {
        let index = seed.index as usize;
        if self.journaled.get(index) == Some(&true) {
            return;
        }
        if self.journaled.len() <= index {
            self.journaled.resize(index + 1, false);
        }
        self.journaled[index] = true;
        journal.push_str(&entry::seed_line(seed));
    }

    fn pop(&mut self, level: u32, budget: usize) -> Option<Entry> {
        let queue = self.levels.get_mut(&level)?;
        match queue.pop(&self.seeds, budget) {
            Ok(entry) => entry,
            Err(e) => {
                crate::log::warn(format_args!(
                    "the crawl's frontier file cannot be read ({e}): the jobs in it are lost"
                ));
                self.levels.remove(&level);
                None
            }
        }
    }

    fn push(&mut self, entry: Entry, dir: &Path, budget: usize) {
        let level = entry.lineage.depth;
        let queue = self
            .levels
            .entry(level)
            .or_insert_with(|| Queue::new(dir.join(format!("level-{level}"))));
        if let Err(e) = queue.push(entry, budget)
            && !self.warned
        {
            self.warned = true;
            crate::log::warn(format_args!(
                "the crawl's frontier cannot spill to {} ({e}): it stays in memory",
                dir.display()
            ));
        }
    }

    fn write_journal(&mut self, text: &str) {
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        if text.is_empty() {
            return;
        }
        if let Err(e) = journal.write_all(text.as_bytes()) {
            self.journal = None;
            crate::log::warn(format_args!(
                "the crawl's journal cannot be written ({e}): --resume will not know what was found"
            ));
        }
    }

    /// Reads an earlier run's journal: every job is seen and counted; those
    /// without a record are queued again.
    fn replay(&mut self, path: &Path, budget: usize) -> Result<(), Fatal> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Fatal::Setup(format!("cannot read {}: {e}", path.display()))),
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        let mut parent = None;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) if line.ends_with('\n') => {}
                // A torn last line: the run was killed mid-write.
                Ok(_) => break,
                Err(e) => {
                    return Err(Fatal::Setup(format!("cannot read {}: {e}", path.display())));
                }
            }
            if let Some(index) = entry::parse_internal(&line) {
                if let Some(Some(seed)) = self.seeds.get(index) {
                    seed.mark_internal();
                }
                continue;
            }
            if let Some(seed) = entry::parse_seed(&line) {
                let index = seed.index as usize;
                if self.journaled.len() <= index {
                    self.journaled.resize(index + 1, false);
                }
                self.journaled[index] = true;
                self.put_seed(index, Arc::new(seed));
                continue;
            }
            let Some(entry) = Entry::parse(&line, &self.seeds, &mut parent) else {
                continue;
            };
            if !self.seen.insert(entry.url.as_str()) {
                continue;
            }
            if entry.lineage.kind == Kind::Page {
                self.pages += 1;
                *self.per_host.entry(host_hash(&entry.url)).or_default() += 1;
            }
            let done = self
                .crawled
                .as_ref()
                .is_some_and(|c| c.contains(&entry.url));
            match done {
                true => self.dropped.resumed += 1,
                false => self.push(entry, dir, budget),
            }
        }
        Ok(())
    }
}
