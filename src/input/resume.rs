//! `--resume`: finish a list whose earlier run was interrupted.
//!
//! The earlier run's output (`-o PATH`, JSON Lines) is read back before any
//! request: every whole record is kept, and its line is marked done — by the
//! record's `url` (as dedupe does: a hash, fragment ignored), or by its
//! `input` for lines that were not URLs. A torn last line (no newline: the
//! run was killed mid-write) is dropped and the file truncated to the last
//! complete line. The new run then appends only the records of lines not
//! done, so over all runs every URL is fetched exactly once.
//!
//! A complete line that is not a record means PATH is not a scrape output:
//! that is an error, and nothing is changed.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;
use url::{Position, Url};

use super::seen::FingerprintSet;
use crate::error::Fatal;

/// The lines an earlier run already finished.
#[derive(Default)]
pub struct Done {
    keys: RandomState,
    urls: FingerprintSet,
    inputs: FingerprintSet,
    /// Records kept from the earlier run.
    pub kept: u64,
    /// A torn last line was dropped.
    pub dropped_torn_line: bool,
}

/// The two fields of a record that identify its line.
#[derive(Deserialize)]
struct Seen {
    url: Option<String>,
    input: String,
}

impl Done {
    /// Whether the line with this URL (or, for a line that is not a URL,
    /// this input) has its record already.
    pub fn contains(&self, url: Option<&Url>, input: &str) -> bool {
        match url {
            Some(u) => self.urls.contains(self.url_key(u)),
            None => self.inputs.contains(self.keys.hash_one(input)),
        }
    }

    fn url_key(&self, url: &Url) -> u64 {
        self.keys.hash_one(&url[..Position::AfterQuery])
    }

    fn add(&mut self, seen: Seen) {
        match seen.url.as_deref().map(Url::parse) {
            Some(Ok(url)) => {
                let key = self.url_key(&url);
                self.urls.insert(key);
            }
            _ => {
                let key = self.keys.hash_one(seen.input.as_str());
                self.inputs.insert(key);
            }
        }
        self.kept += 1;
    }
}

/// Reads the earlier output at `path` (missing: nothing done yet), and
/// truncates a torn last line away.
pub fn prepare(path: &Path) -> Result<Done, Fatal> {
    let input_error = |e: io::Error| Fatal::Input {
        path: path.to_path_buf(),
        source: e,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Done::default()),
        Err(e) => return Err(input_error(e)),
    };
    let mut done = Done::default();
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = Vec::new();
    let mut whole_bytes: u64 = 0;
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(input_error)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            done.dropped_torn_line = true;
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            whole_bytes += n as u64;
            continue;
        }
        let seen: Seen = serde_json::from_slice(&line).map_err(|e| {
            Fatal::Usage(format!(
                "--resume: line {number} of {} is not a scrape record ({e}); \
                 is it a JSON Lines output of scrape?",
                path.display()
            ))
        })?;
        done.add(seen);
        whole_bytes += n as u64;
    }
    if done.dropped_torn_line {
        OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(whole_bytes))
            .map_err(|e| Fatal::Output {
                path: path.to_path_buf(),
                source: e,
            })?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn missing_file_means_nothing_done() {
        let done = prepare(Path::new("/nonexistent/never/there.jsonl")).unwrap();
        assert_eq!(done.kept, 0);
    }

    #[test]
    fn whole_records_are_kept_and_a_torn_line_is_cut() {
        let text = "{\"url\":\"http://a.example/x#f\",\"input\":\"a.example/x\"}\n\
                    {\"url\":null,\"input\":\"not a url\"}\n\
                    {\"url\":\"http://b.exa";
        let f = file_with(text);
        let done = prepare(f.path()).unwrap();
        assert_eq!(done.kept, 2);
        assert!(done.dropped_torn_line);
        let a = Url::parse("http://a.example/x").unwrap();
        let b = Url::parse("http://b.example/").unwrap();
        assert!(done.contains(Some(&a), "whatever"));
        assert!(!done.contains(Some(&b), "b.example"));
        assert!(done.contains(None, "not a url"));
        assert!(!done.contains(None, "other"));
        let left = std::fs::read_to_string(f.path()).unwrap();
        assert!(left.ends_with("\"not a url\"}\n"), "{left}");
    }

    #[test]
    fn a_foreign_file_is_refused_untouched() {
        let f = file_with("hello world\n{\"url\":null,\"input\":\"x\"}\n{\"torn");
        assert!(matches!(prepare(f.path()), Err(Fatal::Usage(_))));
        let left = std::fs::read_to_string(f.path()).unwrap();
        assert!(left.ends_with("{\"torn"));
    }
}
