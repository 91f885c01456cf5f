//! The files a run writes, opened so that nothing is lost.
//!
//! - Before anything is opened for writing, every output (`-o`,
//!   `--summary-json`) is checked against every input list and every other
//!   output: the same file (same device and inode, symlinks followed; for
//!   an output not yet there, the same directory entry) is refused, naming
//!   both — `scrape list.txt -o list.txt` would empty the list.
//! - `-o` is locked (an exclusive advisory lock, `flock`) for the whole run
//!   before it is truncated or appended to, so that a second run writing
//!   the same file — a command started twice, a replacement pod starting
//!   while the old one still runs — is refused and writes nothing, instead
//!   of interleaving records with the first.
//! - A stream — a character device (`/dev/null`, `/dev/stdout` on a
//!   terminal), a pipe (`-o >(gzip > x.gz)`), a FIFO, a socket — is written
//!   as it comes: opened for writing only, never locked, truncated or read
//!   back (`--resume` on one is a usage error, said in `config.rs`).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Fatal;

/// A file the run reads or writes, and how the user named it.
pub struct Named<'a> {
    /// "the input list", "-o", "--summary-json".
    pub role: &'static str,
    /// The path as given.
    pub path: &'a Path,
}

/// Refuses an output that is the same file as an input or another output.
pub fn check_distinct(inputs: &[Named], outputs: &[Named]) -> Result<(), Fatal> {
    for (i, out) in outputs.iter().enumerate() {
        let others = inputs.iter().chain(&outputs[..i]);
        if let Some(other) = others.into_iter().find(|o| same_file(out.path, o.path)) {
            return Err(Fatal::Clash(format!(
                "{} {} is the same file as {} {}: scrape would overwrite it",
                out.role,
                out.path.display(),
                other.role,
                other.path.display()
            )));
        }
    }
    Ok(())
}

/// An error opening `path` for writing, in words where the system's are
/// vague: "No such file or directory" for a file being created means its
/// directory is missing, and says which.
pub fn explain(path: &Path, e: io::Error) -> io::Error {
    if e.kind() != io::ErrorKind::NotFound {
        return e;
    }
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return e;
    };
    let missing = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .last();
    match missing {
        Some(first) => io::Error::new(
            e.kind(),
            format!(
                "the directory {} does not exist (create it first)",
                first.display()
            ),
        ),
        None => e,
    }
}

/// Whether `path` is a stream: a character device, pipe, FIFO or socket
/// that is there now (a path not there yet is a file to create).
pub fn is_stream(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::metadata(path).is_ok_and(|m| {
        let t = m.file_type();
        t.is_char_device() || t.is_fifo() || t.is_socket()
    })
}

/// Whether two paths name one file (streams never clash: writing to
/// `/dev/stdout` overwrites nothing).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == Path::new("-") || b == Path::new("-") || is_stream(a) || is_stream(b) {
        return false;
    }
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => same_inode(&a, &b),
        (Err(_), Err(_)) => entry(a).is_some_and(|ea| entry(b).is_some_and(|eb| ea == eb)),
        _ => false,
    }
}

#[cfg(unix)]
fn same_inode(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_inode(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    false
}

/// A path not there yet, as its directory (resolved) and its name.
fn entry(path: &Path) -> Option<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(path.file_name()?))
}

/// Opens `-o PATH` for the run: locked first, then truncated (or, with
/// `append`, written at its end); a stream ([`is_stream`]) only opened
/// for writing.
pub fn open_locked(path: &Path, append: bool) -> Result<File, Fatal> {
    let output_error = |e: io::Error| Fatal::Output {
        path: path.to_path_buf(),
        source: explain(path, e),
    };
    if is_stream(path) {
        return OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(output_error);
    }
    let file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(append)
        .write(!append)
        .open(path)
        .map_err(output_error)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(Fatal::Clash(format!(
                "{} is being written by another scrape run (it holds a lock on it): \
                 wait for that run to end, or write to another file",
                path.display()
            )));
        }
        Err(TryLockError::Error(e)) => return Err(output_error(e)),
    }
    if !append {
        file.set_len(0).map_err(output_error)?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/deeper/x.jsonl");
        let Err(Fatal::Output { source, .. }) = open_locked(&path, false) else {
            panic!("opened");
        };
        let text = source.to_string();
        assert!(
            text.contains("missing") && !text.contains("deeper"),
            "{text}"
        );
        assert!(text.contains("does not exist"), "{text}");
    }

    #[test]
    fn devices_and_fifos_are_streams_written_without_truncate_or_lock() {
        let dir = tempfile::tempdir().unwrap();
        assert!(is_stream(Path::new("/dev/null")));
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        assert!(is_stream(&fifo));
        let file = dir.path().join("x.jsonl");
        assert!(!is_stream(&file), "not there yet: a file to create");
        fs::write(&file, "x").unwrap();
        assert!(!is_stream(&file));
        // Twice at once: no lock on a device, and no truncate to fail.
        let a = open_locked(Path::new("/dev/null"), false).unwrap();
        let b = open_locked(Path::new("/dev/null"), false).unwrap();
        drop((a, b));
        // A stream never clashes with an input.
        let null = named("the input list", Path::new("/dev/null"));
        assert!(check_distinct(&[null], &[named("-o", Path::new("/dev/null"))]).is_ok());
    }

    fn named<'a>(role: &'static str, path: &'a Path) -> Named<'a> {
        Named { role, path }
    }

    #[test]
    fn an_output_over_an_input_is_refused_even_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        fs::write(&list, "http://a/\n").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&list, &link).unwrap();
        for out in [&list, &link] {
            let Err(e) = check_distinct(&[named("the input list", &list)], &[named("-o", out)])
            else {
                panic!("{} accepted", out.display());
            };
            let text = e.to_string();
            assert!(text.contains("list.txt") && text.contains("-o"), "{text}");
            assert_eq!(e.exit_code(), crate::error::Exit::Fatal);
        }
        let other = dir.path().join("out.jsonl");
        assert!(check_distinct(&[named("the input list", &list)], &[named("-o", &other)]).is_ok());
    }

    #[test]
    fn two_outputs_on_one_path_are_refused_even_before_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let same = dir.path().join("same.json");
        let also = dir.path().join(".").join("same.json");
        let outputs = [named("-o", &same), named("--summary-json", &also)];
        assert!(check_distinct(&[], &outputs).is_err());
    }

    #[test]
    fn a_locked_output_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        fs::write(&out, "a record\n").unwrap();
        let first = open_locked(&out, true).unwrap();
        let Err(e) = open_locked(&out, false) else {
            panic!("a second writer got the file");
        };
        assert!(e.to_string().contains("another scrape run"), "{e}");
        assert_eq!(
            fs::read_to_string(&out).unwrap(),
            "a record\n",
            "not truncated"
        );
        drop(first);
        assert!(
            open_locked(&out, false).is_ok(),
            "free once the first run ends"
        );
    }
}
