//! The index of an earlier run's records: URL fingerprint → where the
//! record's line is in the file, so that a record is read back when its
//! URL comes up, and the file itself is never held in memory.
//!
//! One sorted `Vec` of (fingerprint, offset, length): 24 bytes a record,
//! 24 MB for a million. A URL that has several records (an earlier
//! `--no-dedupe` run) is indexed at its last one. Fingerprints are 64-bit
//! SipHash with keys drawn per run; a lookup checks the URL in the record
//! it reads, so a collision costs a wasted read, never a wrong answer.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader, Seek};

use serde::Deserialize;

/// Where one record's line is.
#[derive(Debug, Clone, Copy)]
struct Entry {
    fingerprint: u64,
    offset: u64,
    length: u32,
}

/// Fingerprint → line.
pub struct Index {
    entries: Vec<Entry>,
    hasher: RandomState,
    /// Lines that are not records: torn, not JSON, not an object.
    pub unreadable: u64,
    /// Records without a URL (lines that were not URLs).
    pub without_url: u64,
}

/// The only part of a line read while indexing.
#[derive(Deserialize)]
struct Key<'a> {
    #[serde(borrow, default)]
    url: Option<Cow<'a, str>>,
}

impl Index {
    /// Reads `file` once, from the start.
    pub fn build(file: &File) -> io::Result<Index> {
        let mut index = Index {
            entries: Vec::new(),
            hasher: RandomState::new(),
            unreadable: 0,
            without_url: 0,
        };
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        reader.rewind()?;
        let mut line = Vec::new();
        let mut offset = 0u64;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            let key = serde_json::from_slice::<Key>(&line);
            let whole = line.ends_with(b"\n");
            match (key, u32::try_from(n)) {
                _ if line.iter().all(u8::is_ascii_whitespace) => {}
                (Ok(Key { url: Some(url) }), Ok(length)) if whole => {
                    index.entries.push(Entry {
                        fingerprint: index.fingerprint(&url),
                        offset,
                        length,
                    });
                }
                (Ok(Key { url: None }), _) if whole => index.without_url += 1,
                _ => index.unreadable += 1,
            }
            offset += n as u64;
        }
        index.seal();
        Ok(index)
    }

    /// Sorts by fingerprint, keeping the last line of each, in place.
    fn seal(&mut self) {
        self.entries
            .sort_unstable_by_key(|e| (e.fingerprint, Reverse(e.offset)));
        self.entries.dedup_by_key(|e| e.fingerprint);
        self.entries.shrink_to_fit();
    }

    /// Where the record of `url` is: offset and length of its line.
    pub fn find(&self, url: &str) -> Option<(u64, usize)> {
        let fingerprint = self.fingerprint(url);
        let at = self
            .entries
            .binary_search_by_key(&fingerprint, |e| e.fingerprint)
            .ok()?;
        let e = self.entries[at];
        Some((e.offset, e.length as usize))
    }

    /// Records indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn fingerprint(&self, url: &str) -> u64 {
        self.hasher.hash_one(url)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn the_last_record_of_a_url_wins_and_junk_is_skipped() {
        let mut f = tempfile::tempfile().unwrap();
        let lines = [
            r#"{"url":"http://a/","n":1}"#,
            "not json",
            r#"{"url":null,"input":"x"}"#,
            r#"{"url":"http://b/","n":2}"#,
            r#"{"url":"http://a/","n":3}"#,
        ];
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        write!(f, r#"{{"url":"http://torn/""#).unwrap();
        let index = Index::build(&f).unwrap();
        assert_eq!(index.len(), 2);
        assert_eq!((index.unreadable, index.without_url), (2, 1));
        let (offset, length) = index.find("http://a/").unwrap();
        let all: String = lines.iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(
            &all[offset as usize..][..length],
            "{\"url\":\"http://a/\",\"n\":3}\n"
        );
        assert!(index.find("http://c/").is_none());
        assert!(index.find("http://torn/").is_none());
    }
}
