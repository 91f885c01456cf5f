//! The house rules of `src/` (issue 21), checked on every `cargo test`:
//! no import cycle between its top-level modules (a module's `crate::`
//! paths are its imports), no file over 500 lines before its tests, no
//! function over 60 lines. Read from the source as text, comments and
//! test modules left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's code before its test module, without comment lines.
fn code(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(str::to_string)
        .collect()
}

fn src() -> (PathBuf, Vec<PathBuf>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    (root, files)
}

/// Each top-level module and the top-level modules it imports.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let (root, files) = src();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = top.trim_end_matches(".rs").to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let used = graph.entry(top.clone()).or_default();
        let text = code(file).join("\n");
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group[..group.find('}').unwrap_or(0)]
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or(""))
                    .collect(),
                None => vec![
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or(""),
                ],
            };
            for name in names {
                if !name.is_empty() && name != top {
                    used.insert(name.to_string());
                }
            }
        }
    }
    graph
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = imports();
    assert!(
        graph["pipeline"].contains("fetch"),
        "the imports were read: {graph:?}"
    );
    // Kahn's algorithm: what is left once every module without imports
    // left is taken away is in a cycle.
    let mut left: BTreeMap<&str, BTreeSet<&str>> = graph
        .iter()
        .map(|(m, used)| {
            let used = used
                .iter()
                .map(String::as_str)
                .filter(|u| graph.contains_key(*u));
            (m.as_str(), used.collect())
        })
        .collect();
    loop {
        let free: Vec<&str> = left
            .iter()
            .filter(|(_, u)| u.is_empty())
            .map(|(m, _)| *m)
            .collect();
        if free.is_empty() {
            break;
        }
        for m in &free {
            left.remove(m);
        }
        for used in left.values_mut() {
            for m in &free {
                used.remove(m);
            }
        }
    }
    assert!(left.is_empty(), "modules in an import cycle: {left:?}");
}

#[test]
fn no_file_over_500_lines_and_no_function_over_60() {
    let (_, files) = src();
    let mut long = Vec::new();
    for file in &files {
        let lines = code(file);
        if lines.len() > 500 {
            long.push(format!("{}: {} lines", file.display(), lines.len()));
        }
        for (at, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(super) fn ",
                "pub(crate) fn ",
                "const fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if !is_fn || line.trim_end().ends_with(';') {
                continue;
            }
            let mut depth = 0i32;
            let mut opened = false;
            for (k, l) in lines[at..].iter().enumerate() {
                depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
                opened |= l.contains('{');
                if opened && depth <= 0 {
                    if k + 1 > 60 {
                        long.push(format!(
                            "{}:{}: a function of {} lines",
                            file.display(),
                            at + 1,
                            k + 1
                        ));
                    }
                    break;
                }
            }
        }
    }
    assert!(long.is_empty(), "{long:#?}");
}
