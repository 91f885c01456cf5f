//! A queued job as one line of text: how the frontier spills jobs to its
//! file and journals them for `--resume`.
//!
//! `KIND TAB DEPTH TAB SEED TAB URL TAB PARENT TAB LASTMOD`, where KIND is
//! `P` (page), `S` (sitemap) or `R` (site root), SEED the seed's number in
//! the frontier's table, and `-` stands for a missing parent or lastmod.
//! A serialized URL holds no tab or newline (the `url` crate escapes them);
//! a lastmod's are replaced by spaces. The journal has two more kinds of
//! line: `D TAB SEED TAB LINE TAB URL TAB LANDED TAB INPUT TAB FILE` names
//! a seed (and where its redirects landed, or `-`) before its first job, and
//! `I TAB SEED` says a seed answered from an internal address.

use std::sync::Arc;

use url::Url;

use super::super::{Kind, Lineage, Seed};

/// A job waiting in the frontier.
#[derive(Debug)]
pub struct Entry {
    /// What to fetch (normalised).
    pub url: Url,
    /// Where it came from.
    pub lineage: Lineage,
}

impl Entry {
    /// Bytes it holds in memory, about: what `--frontier-memory` counts.
    pub fn cost(&self) -> usize {
        let parent = self.lineage.parent.as_ref().map_or(0, |p| p.len() / 4);
        let lastmod = self.lineage.lastmod.as_ref().map_or(0, |l| l.len());
        self.url.as_str().len() + parent + lastmod + 128
    }

    /// The entry as one line, `\n` included.
    pub fn line(&self) -> String {
        let l = &self.lineage;
        let kind = match l.kind {
            Kind::Page => 'P',
            Kind::Sitemap => 'S',
            Kind::Site => 'R',
        };
        let lastmod = l
            .lastmod
            .as_deref()
            .map(|m| m.replace(['\t', '\n', '\r'], " "));
        format!(
            "{kind}\t{}\t{}\t{}\t{}\t{}\n",
            l.depth,
            l.seed.index,
            self.url,
            l.parent.as_deref().unwrap_or("-"),
            lastmod.as_deref().unwrap_or("-"),
        )
    }

    /// The entry a line holds; `None` when it is not one (a torn last
    /// line, or a seed's mark). `last_parent` lets siblings share their
    /// parent's text.
    pub fn parse(
        line: &str,
        seeds: &[Option<Arc<Seed>>],
        last_parent: &mut Option<Arc<str>>,
    ) -> Option<Entry> {
        let mut parts = line.trim_end_matches('\n').split('\t');
        let kind = match parts.next()? {
            "P" => Kind::Page,
            "S" => Kind::Sitemap,
            "R" => Kind::Site,
            _ => return None,
        };
        let depth = parts.next()?.parse().ok()?;
        let seed = seeds.get(parts.next()?.parse::<usize>().ok()?)?.as_ref()?;
        let url = Url::parse(parts.next()?).ok()?;
        let parent = match parts.next()? {
            "-" => None,
            p if last_parent.as_deref() == Some(p) => last_parent.clone(),
            p => {
                *last_parent = Some(Arc::from(p));
                last_parent.clone()
            }
        };
        let lastmod = match parts.next()? {
            "-" => None,
            m => Some(Box::from(m)),
        };
        let lineage = Lineage {
            kind,
            depth,
            parent,
            seed: Arc::clone(seed),
            lastmod,
        };
        Some(Entry { url, lineage })
    }
}

/// The line that names seed `seed.index` (before its first job):
/// `D TAB SEED TAB LINE TAB URL TAB LANDED TAB INPUT TAB FILE` (a URL line
/// holds no tab; the file's name comes last, whatever it holds).
pub fn seed_line(seed: &Seed) -> String {
    let o = &seed.origin;
    let file = o.file.replace('\n', " ");
    let landed = seed.landed().map_or("-".to_string(), Url::to_string);
    format!(
        "D\t{}\t{}\t{}\t{landed}\t{}\t{file}\n",
        seed.index, o.line, seed.url, o.input
    )
}

/// The seed a naming line names.
pub fn parse_seed(line: &str) -> Option<Seed> {
    let rest = line.trim_end_matches('\n').strip_prefix("D\t")?;
    let mut parts = rest.splitn(6, '\t');
    let index = parts.next()?.parse().ok()?;
    let number = parts.next()?.parse().ok()?;
    let url = Url::parse(parts.next()?).ok()?;
    let landed = Url::parse(parts.next()?).ok();
    let input = parts.next()?;
    let file = parts.next()?;
    let origin = super::super::Origin {
        file: Arc::from(file),
        line: number,
        input: Arc::from(input),
    };
    let seed = Seed::new(url, index).from(origin);
    if let Some(landed) = landed {
        seed.landed_at(landed);
    }
    Some(seed)
}

/// The line that says seed `index` answered from an internal address.
pub fn internal_line(index: u32) -> String {
    format!("I\t{index}\n")
}

/// The seed a mark line names.
pub fn parse_internal(line: &str) -> Option<usize> {
    line.trim_end_matches('\n')
        .strip_prefix("I\t")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_gives_back_its_entry() {
        let seeds = vec![Some(Arc::new(Seed::new(
            Url::parse("http://s.test/").unwrap(),
            0,
        )))];
        let seed = seeds[0].clone().unwrap();
        let entry = Entry {
            url: Url::parse("http://s.test/a?b=c%20d").unwrap(),
            lineage: Lineage {
                kind: Kind::Page,
                depth: 3,
                parent: Some(Arc::from("http://s.test/p")),
                seed: Arc::clone(&seed),
                lastmod: Some(Box::from("2026-01-01\tx")),
            },
        };
        let mut last = None;
        let back = Entry::parse(&entry.line(), &seeds, &mut last).unwrap();
        assert_eq!(back.url, entry.url);
        assert_eq!(back.lineage.depth, 3);
        assert_eq!(back.lineage.parent.as_deref(), Some("http://s.test/p"));
        assert_eq!(back.lineage.lastmod.as_deref(), Some("2026-01-01 x"));
        assert!(Entry::parse("P\t1\t0\thttp://s.te", &seeds, &mut last).is_none());
        assert!(Entry::parse("P\t1\t9\thttp://s.test/\t-\t-", &seeds, &mut last).is_none());
        assert_eq!(parse_internal(&internal_line(7)), Some(7));
        let origin = super::super::super::Origin {
            file: Arc::from("my list.txt"),
            line: 7,
            input: Arc::from("s.test"),
        };
        let seed = Seed::new(seed.url.clone(), 3).from(origin);
        seed.landed_at(Url::parse("https://www.s.test/").unwrap());
        let named = parse_seed(&seed_line(&seed)).unwrap();
        assert_eq!(named.landed().map(Url::as_str), Some("https://www.s.test/"));
        assert_eq!((named.index, &named.url), (3, &seed.url));
        assert_eq!(named.origin.line, 7);
        assert_eq!(&*named.origin.file, "my list.txt");
        assert_eq!(&*named.origin.input, "s.test");
    }
}
