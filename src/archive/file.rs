//! The archive on disk: one file, or numbered files with `--warc-size`,
//! written by the aggregator alone.
//!
//! - Each file opens with a `warcinfo` record.
//! - A URL's records (every exchange of every attempt) are appended
//!   straight to the file, unbuffered (one `write_all`, or one per 64 KiB
//!   when they wait in a temporary file), before the URL's JSON record is
//!   written: a JSON record that reached the disk never
//!   points past the archive's end, and `kill -9` can tear at most the
//!   archive's last URL.
//! - `--warc-size BYTES`: a URL whose records would take the current file
//!   past BYTES starts the next file (`PATH` `a.warc.gz` → `a-00000.warc.gz`,
//!   `a-00001.warc.gz`, …, as wget names them); a URL's records are never
//!   split, so one larger than BYTES gets a file to itself.
//! - `--resume`: the last file is read member by member and cut after the
//!   last whole gzip member, then appended to (after a new `warcinfo`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use flate2::bufread::GzDecoder;

use super::{Blob, WarcRef, warcinfo};
use crate::error::Fatal;
use crate::files;

/// The archive being written.
pub struct Archive {
    base: PathBuf,
    /// `--warc-size`.
    roll: Option<u64>,
    /// The current file's number (with `roll`).
    index: u32,
    file: File,
    /// The current file's name, as records show it.
    name: String,
    /// The current file's length.
    len: u64,
    /// Whether the current file holds nothing but its `warcinfo`.
    fresh: bool,
}

impl Archive {
    /// Opens the archive at `base`: a new file (an existing one is
    /// replaced), or with `resume` the last one there, cut after its last
    /// whole record.
    pub fn open(base: &Path, roll: Option<u64>, resume: bool) -> Result<Archive, Fatal> {
        let index = match (roll, resume) {
            (Some(_), true) => last_numbered(base),
            _ => 0,
        };
        let path = file_name(base, roll, index);
        let file = files::open_locked(&path, resume)?;
        let len = match resume {
            true => cut_torn_tail(&file, &path)?,
            false => 0,
        };
        let mut archive = Archive {
            base: base.to_path_buf(),
            roll,
            index,
            file,
            name: path.display().to_string(),
            len,
            fresh: true,
        };
        archive.begin().map_err(|e| archive.error(e))?;
        Ok(archive)
    }

    /// Appends one URL's records; where its final response landed.
    pub fn append(&mut self, blob: &Blob) -> Result<Option<WarcRef>, Fatal> {
        if blob.bytes.is_empty() {
            return Ok(None);
        }
        let full = self
            .roll
            .is_some_and(|roll| self.len + blob.bytes.len() > roll);
        if full && !self.fresh {
            self.next_file()?;
        }
        let start = self.len;
        let file = &mut self.file;
        let written = blob.bytes.chunks(|chunk| file.write_all(chunk));
        written.map_err(|e| self.error(e))?;
        self.len += blob.bytes.len();
        self.fresh = false;
        Ok(blob.response.map(|(offset, length)| WarcRef {
            file: self.name.clone(),
            offset: start + offset,
            length,
        }))
    }

    /// Closes the current file and starts the next numbered one.
    fn next_file(&mut self) -> Result<(), Fatal> {
        self.index += 1;
        let path = file_name(&self.base, self.roll, self.index);
        self.file = files::open_locked(&path, false)?;
        self.name = path.display().to_string();
        self.len = 0;
        self.fresh = true;
        self.begin().map_err(|e| self.error(e))
    }

    /// Writes the file's `warcinfo`.
    fn begin(&mut self) -> io::Result<()> {
        let name = Path::new(&self.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let software = concat!("scrape/", env!("CARGO_PKG_VERSION"));
        self.write(&warcinfo(&name, software))
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn error(&self, source: io::Error) -> Fatal {
        Fatal::Output {
            path: PathBuf::from(&self.name),
            source,
        }
    }
}

/// The name of file `index`: `base` itself without `--warc-size`.
pub fn file_name(base: &Path, roll: Option<u64>, index: u32) -> PathBuf {
    if roll.is_none() {
        return base.to_path_buf();
    }
    let name = base.to_string_lossy();
    let (stem, ext) = [".warc.gz", ".warc"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext).map(|stem| (stem, *ext)))
        .unwrap_or((&name, ""));
    PathBuf::from(format!("{stem}-{index:05}{ext}"))
}

/// The highest-numbered file of the archive that exists (0 if none).
fn last_numbered(base: &Path) -> u32 {
    let mut index = 0;
    while file_name(base, Some(0), index + 1).exists() {
        index += 1;
    }
    index
}

/// Cuts `file` after its last whole gzip member (a record torn by an
/// interruption goes); its new length. A file that holds no member at all
/// but is not empty is not an archive scrape wrote, and is left alone.
fn cut_torn_tail(file: &File, path: &Path) -> Result<u64, Fatal> {
    let output_error = |e: io::Error| Fatal::Output {
        path: path.to_path_buf(),
        source: e,
    };
    let (whole, size) = whole_members(file).map_err(output_error)?;
    if whole == 0 && size > 0 {
        return Err(Fatal::Usage(format!(
            "--resume: {} is not a gzip-compressed WARC file (no whole record in it): \
             give --warc another path",
            path.display()
        )));
    }
    if whole < size {
        file.set_len(whole).map_err(output_error)?;
    }
    Ok(whole)
}

/// Where the last whole gzip member of `file` ends, and the file's size.
fn whole_members(file: &File) -> io::Result<(u64, u64)> {
    let size = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    reader.rewind()?;
    let mut whole = 0;
    while !reader.fill_buf()?.is_empty() {
        let mut member = GzDecoder::new(&mut reader);
        if io::copy(&mut member, &mut io::sink()).is_err() {
            break;
        }
        whole = reader.stream_position()?;
    }
    Ok((whole, size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::spool::Stored;

    #[test]
    fn numbered_files_keep_the_extension() {
        let name = |base: &str, i| file_name(Path::new(base), Some(1), i);
        assert_eq!(name("out/a.warc.gz", 0), Path::new("out/a-00000.warc.gz"));
        assert_eq!(name("a.warc", 12), Path::new("a-00012.warc"));
        assert_eq!(name("a", 3), Path::new("a-00003"));
        assert_eq!(
            file_name(Path::new("a.warc.gz"), None, 0),
            Path::new("a.warc.gz")
        );
    }

    #[test]
    fn a_torn_member_is_cut_and_whole_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let one = warcinfo("a", "test");
        let two = warcinfo("b", "test");
        let mut bytes = [one.clone(), two.clone()].concat();
        bytes.extend_from_slice(&two[..two.len() / 2]);
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        let len = cut_torn_tail(&file, &path).unwrap();
        assert_eq!(len, (one.len() + two.len()) as u64);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    }

    #[test]
    fn a_file_that_is_no_archive_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "my notes\n").unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        assert!(matches!(cut_torn_tail(&file, &path), Err(Fatal::Usage(_))));
        assert_eq!(std::fs::read(&path).unwrap(), b"my notes\n");
    }

    #[test]
    fn records_roll_over_whole() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("a.warc.gz");
        let blob = Blob {
            bytes: Stored::bytes(vec![7; 1000]),
            response: Some((100, 900)),
        };
        let mut archive = Archive::open(&base, Some(1500), false).unwrap();
        let first = archive.append(&blob).unwrap().unwrap();
        let second = archive.append(&blob).unwrap().unwrap();
        assert!(first.file.ends_with("a-00000.warc.gz"));
        assert!(second.file.ends_with("a-00001.warc.gz"));
        let second_file = std::fs::read(&second.file).unwrap();
        let start = second.offset as usize - 100;
        assert_eq!(&second_file[start..], &blob.bytes.to_vec()[..]);
        drop(archive);
        let again = Archive::open(&base, Some(1500), true).unwrap();
        assert!(again.name.ends_with("a-00001.warc.gz"));
    }
}
