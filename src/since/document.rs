//! A `--format json` output as PREV: `{"results": [record, …], "summary":
//! …}` (or a bare array of records, as `jq -s` writes), in any layout,
//! copied record by record into an unlinked temporary file of JSON Lines
//! that the index then reads like any other PREV. One record is held at a
//! time, so a document of any size is read in bounded memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// JSON Lines made from a document.
pub struct Lines {
    /// The records, one a line.
    pub file: File,
    /// Elements that were not records, and a document cut short.
    pub unreadable: u64,
}

/// Whether `file` holds one JSON document rather than JSON Lines: it
/// starts with `[`, its first line is not a whole JSON value (scrape's
/// `--format json` starts with `{"results":[`), or it is one with
/// `results` (the same document on one line, as `jq -c` writes it).
pub fn is_document(file: &File) -> io::Result<bool> {
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0))?;
    let mut first = Vec::new();
    reader
        .by_ref()
        .take(1 << 20)
        .read_until(b'\n', &mut first)?;
    let text = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&first);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    Ok(match start.map(|i| text[i]) {
        Some(b'[') => true,
        Some(b'{') => serde_json::from_slice::<Head>(text)
            .ok()
            .is_none_or(|h| h.results.is_some()),
        _ => false,
    })
}

/// Copies the records of the document in `file` into JSON Lines; `None`
/// when no record could be read from it (then it is not a document).
pub fn to_lines(file: &File) -> io::Result<Option<Lines>> {
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    reader.seek(SeekFrom::Start(0))?;
    let mut out = Copy {
        out: BufWriter::new(tempfile::tempfile()?),
        records: 0,
        unreadable: 0,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    if de::Deserializer::deserialize_any(&mut de, &mut out).is_err() {
        // Cut short (a run killed mid-write) or not a document at all.
        out.unreadable += 1;
    }
    if out.records == 0 {
        return Ok(None);
    }
    let mut file = out
        .out
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    file.flush()?;
    Ok(Some(Lines {
        file,
        unreadable: out.unreadable,
    }))
}

/// What tells a one-line document from a record.
#[derive(serde::Deserialize)]
struct Head {
    results: Option<IgnoredAny>,
}

/// Where the records go.
struct Copy {
    out: BufWriter<File>,
    records: u64,
    unreadable: u64,
}

impl<'de> Visitor<'de> for &mut Copy {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a scrape --format json document or an array of records")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "results" {
                map.next_value_seed(Records(self))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Records(self).visit_seq(seq)
    }
}

/// The array of records.
struct Records<'a>(&'a mut Copy);

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let copy = self.0;
        while let Some(value) = seq.next_element::<Value>()? {
            if !value.is_object() {
                copy.unreadable += 1;
                continue;
            }
            serde_json::to_writer(&mut copy.out, &value)
                .map_err(io::Error::from)
                .and_then(|()| copy.out.write_all(b"\n"))
                .map_err(de::Error::custom)?;
            copy.records += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file(text: &str) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn lines(text: &str) -> (Vec<Value>, u64) {
        let f = file(text);
        assert!(is_document(&f).unwrap(), "{text}");
        let Lines {
            mut file,
            unreadable,
        } = to_lines(&f).unwrap().unwrap();
        let mut all = String::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_to_string(&mut all).unwrap();
        let values = all.lines().map(|l| serde_json::from_str(l).unwrap());
        (values.collect(), unreadable)
    }

    #[test]
    fn scrape_s_document_pretty_or_not_and_arrays_become_lines() {
        let compact = "{\"results\":[\n{\"url\":\"http://a/\"},\n{\"url\":\"http://b/\"}\n],\"summary\":{\"urls\":2}}\n";
        let (records, unreadable) = lines(compact);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["url"], "http://b/");
        assert_eq!(unreadable, 0);
        let pretty = "{\n  \"summary\": {},\n  \"results\": [\n    {\n      \"url\": \"http://a/\"\n    }, 7\n  ]\n}";
        assert_eq!(
            lines(pretty),
            (vec![serde_json::json!({"url": "http://a/"})], 1)
        );
        let array = "[{\"url\":\"http://a/\"},{\"url\":\"http://b/\"}]";
        assert_eq!(lines(array).0.len(), 2);
        let one_line = "{\"results\":[{\"url\":\"http://a/\"}],\"summary\":{}}\n";
        assert_eq!(lines(one_line).0.len(), 1);
    }

    #[test]
    fn a_document_cut_short_keeps_its_whole_records() {
        let torn =
            "{\"results\":[\n{\"url\":\"http://a/\"},\n{\"url\":\"http://b/\"},\n{\"url\":\"ht";
        let (records, unreadable) = lines(torn);
        assert_eq!(records.len(), 2);
        assert_eq!(unreadable, 1);
    }

    #[test]
    fn json_lines_are_not_a_document() {
        assert!(!is_document(&file("{\"url\":\"http://a/\"}\n{\"url\":1}\n")).unwrap());
        assert!(!is_document(&file("")).unwrap());
        assert!(!is_document(&file("garbage\n")).unwrap());
        // A torn first line: not a document either once nothing reads.
        let torn = file("{\"url\":\"http://a/\n{\"url\":\"http://b/\"}\n");
        assert!(to_lines(&torn).unwrap().is_none());
    }
}
