//! `--follow` and `--sitemap` against loopback sites the tests make
//! (`support::site`): the crawled set exactly as README "Crawling" defines
//! it, each rule counted, internal addresses refused (through a proxy on
//! 127.0.0.1, so nothing can leave the loopback range even if the rule
//! fails), sitemaps hostile and not, traps, the no-deadlock case and a
//! resume after `kill -9`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::site::{Page, Site, html};
use crate::support::{records, scrape};

/// Runs scrape with `args` on the list `stdin`, to its end: the records,
/// the summary (`--summary-json`) and stderr.
fn crawl(args: &[&str], stdin: &str) -> (Vec<serde_json::Value>, serde_json::Value, String) {
    let summary = tempfile::NamedTempFile::new().unwrap();
    let out = scrape()
        .args(args)
        .arg("--summary-json")
        .arg(summary.path())
        .write_stdin(stdin.to_string())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let s = serde_json::from_slice(&std::fs::read(summary.path()).unwrap()).unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (records(&out.stdout), s, err)
}

/// The links of page `n` of host `h` in the test graph: a few on its own
/// host (some far ahead, so that long paths meet pages first by number
/// order), one to the other host, a fragment and a repeat.
fn graph_links(h: usize, n: usize) -> Vec<(usize, usize)> {
    let mut links = vec![(h, (n * 7 + 3) % 60), (h, (n + 1) % 60), (h, n / 2)];
    if n.is_multiple_of(5) {
        links.push((1 - h, (n * 3) % 60));
    }
    links
}

/// Breadth-first from (0, 0): every page within `depth`, with its
/// distance; `cross` lets links to the other host count.
fn expected(depth: usize, cross: bool) -> BTreeMap<(usize, usize), usize> {
    let mut dist = BTreeMap::from([((0, 0), 0)]);
    let mut queue = VecDeque::from([(0, 0)]);
    while let Some(page) = queue.pop_front() {
        let d = dist[&page];
        if d == depth {
            continue;
        }
        for link in graph_links(page.0, page.1) {
            if (cross || link.0 == page.0) && !dist.contains_key(&link) {
                dist.insert(link, d + 1);
                queue.push_back(link);
            }
        }
    }
    dist
}

/// The test graph's site on 127.0.0.1 and 127.0.0.2, `/p0` to `/p59`
/// each, with a fragment link beside the graph's.
fn graph_site() -> Site {
    // Cross-host links name the port, which is known once the site runs.
    let port_holder: Arc<std::sync::OnceLock<u16>> = Arc::default();
    let holder = Arc::clone(&port_holder);
    let site = Site::start(2, move |host, path| {
        let port = holder.get().copied().unwrap_or(0);
        let h = usize::from(host == "127.0.0.2");
        let Some(n) = path
            .strip_prefix("/p")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return (404, "text/plain", b"no".to_vec());
        };
        let mut links: Vec<String> = graph_links(h, n)
            .into_iter()
            .map(|(lh, ln)| match lh == h {
                true => format!("/p{ln}"),
                false => format!("http://127.0.0.{}:{port}/p{ln}", lh + 1),
            })
            .collect();
        links.push(format!("/p{}#frag", (n + 1) % 60));
        let refs: Vec<&str> = links.iter().map(String::as_str).collect();
        html(&format!("p{n}"), &refs, "")
    });
    port_holder.set(site.port).unwrap();
    site
}

#[test]
fn depth_is_the_shortest_distance_and_scope_is_exact() {
    let site = graph_site();
    for (depth, scope, threads) in [
        (0, "host", "1"),
        (2, "host", "8"),
        (3, "host", "1"),
        (3, "any", "8"),
    ] {
        let out = scrape()
            .args([
                "--follow",
                "--depth",
                &depth.to_string(),
                "--scope",
                scope,
                "-t",
                threads,
            ])
            .write_stdin(site.url(0, "/p0"))
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let got: BTreeMap<String, u64> = records(&out.stdout)
            .iter()
            .map(|r| {
                (
                    r["url"].as_str().unwrap().to_string(),
                    r["depth"].as_u64().unwrap(),
                )
            })
            .collect();
        let want: BTreeMap<String, u64> = expected(depth, scope == "any")
            .into_iter()
            .map(|((h, n), d)| (site.url(h, &format!("/p{n}")), d as u64))
            .collect();
        assert_eq!(got, want, "--depth {depth} --scope {scope} -t {threads}");
        assert_eq!(records(&out.stdout).len(), want.len(), "every page once");
    }
}

#[test]
fn each_rule_is_obeyed_and_counted() {
    let site = Site::start(1, |_, path| match path {
        "/robots.txt" => (
            200,
            "text/plain",
            b"User-agent: *\nDisallow: /private/\n".to_vec(),
        ),
        "/" => html(
            "home",
            &[
                "/keep/a",
                "/private/x",
                "/skip/y",
                "/meta",
                "/noindex",
                "http://other.test/",
            ],
            "",
        ),
        "/keep/a" => {
            let (s, k, mut b) = html("a", &["/keep/b"], "");
            b.extend_from_slice(b"<a rel=\"external NoFollow\" href=\"/keep/nf\">n</a>");
            (s, k, b)
        }
        "/meta" => html("m", &["/keep/c"], "<meta name=robots content=\"nofollow\">"),
        "/noindex" => html("n", &[], "<meta name=\"robots\" content=\"noindex\">"),
        _ => html("leaf", &[], ""),
    });
    let (recs, s, stderr) = crawl(&["--follow", "--exclude", "/skip/"], &site.url(0, "/"));
    let urls: BTreeSet<String> = recs
        .iter()
        .map(|r| r["url"].as_str().unwrap().into())
        .collect();
    let want: BTreeSet<String> = ["/", "/keep/a", "/keep/b", "/meta", "/noindex"]
        .iter()
        .map(|p| site.url(0, p))
        .collect();
    assert_eq!(urls, want);
    for r in &recs {
        let flagged = r["url"] == site.url(0, "/noindex");
        assert_eq!(r["noindex"], flagged, "{r}");
        assert_eq!(r["file"], "-");
        assert_eq!(r["line"], 1, "every record keeps its seed's line");
    }
    assert_eq!(site.hits(&site.url(0, "/private/x")), 0);
    assert_eq!(site.hits(&site.url(0, "/skip/y")), 0);
    let d = &s["dropped"];
    assert_eq!(d["robots"], 1, "{d}");
    assert_eq!(d["excluded"], 1, "{d}");
    assert_eq!(d["scope"], 1, "{d}");
    assert_eq!(d["nofollow"], 2, "{d}");
    assert!(stderr.contains("links not followed"), "{stderr}");

    // --include keeps only what matches; --no-robots fetches /private/.
    let out = scrape()
        .args(["--follow", "--no-robots", "--include", "/private/|/keep/a$"])
        .write_stdin(site.url(0, "/"))
        .output()
        .unwrap();
    let urls: BTreeSet<String> = records(&out.stdout)
        .iter()
        .map(|r| r["url"].as_str().unwrap().into())
        .collect();
    let want: BTreeSet<String> = ["/", "/keep/a", "/private/x"]
        .iter()
        .map(|p| site.url(0, p))
        .collect();
    assert_eq!(urls, want);
}

#[test]
fn links_to_internal_addresses_are_refused_through_a_proxy() {
    // The site answers as every host, through `-x`: no request can leave
    // 127.0.0.1 even when the rule fails.
    let site = Site::start(1, |host, path| match (host, path) {
        ("public.test", "/") => html(
            "public",
            &[
                "http://10.0.0.5/admin",
                "http://169.254.169.254/latest/meta-data/",
                "http://[fd00::1]/",
                "http://localhost/",
                "/ok",
                "/away",
            ],
            "",
        ),
        ("public.test", "/away") => (302, "text/plain", b"http://169.254.169.254/x".to_vec()),
        _ => html("x", &[], ""),
    });
    let proxy = format!("http://127.0.0.1:{}", site.port);
    let through = ["--follow", "--no-robots", "--scope", "any", "-x", &proxy];
    let (recs, s, _) = crawl(&through, "http://public.test/");
    let asked: BTreeSet<String> = site.all_hits().into_keys().collect();
    let want: BTreeSet<String> = [
        "http://public.test/",
        "http://public.test/ok",
        "http://public.test/away",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        asked, want,
        "nothing internal asked, not even by a redirect"
    );
    let away = recs
        .iter()
        .find(|r| r["url"] == "http://public.test/away")
        .unwrap();
    assert_eq!(away["error"]["kind"], "redirect", "{away}");
    let message = away["error"]["message"].as_str().unwrap();
    assert!(message.contains("169.254.169.254"), "{message}");
    assert_eq!(s["dropped"]["private"], 4, "{s}");

    // --allow-private follows them (to the proxy, which answers).
    let (recs, _, _) = crawl(
        &[&through[..], &["--allow-private"]].concat(),
        "http://public.test/",
    );
    assert_eq!(recs.len(), 7);
    assert_eq!(site.hits("http://10.0.0.5/admin"), 1);
    assert_eq!(site.hits("http://169.254.169.254/x"), 1);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

#[test]
fn sitemaps_indexes_gzip_lastmod_and_hostile_ones() {
    let site = Site::start(1, |_, path| -> Page {
        let xml = |s: &str| (200, "application/xml", s.as_bytes().to_vec());
        match path {
            "/robots.txt" => (200, "text/plain", b"Sitemap: /index.xml\n".to_vec()),
            "/index.xml" => xml("<sitemapindex><sitemap><loc>/a.xml.gz</loc></sitemap>\
                 <sitemap><loc>/bomb.xml</loc></sitemap><sitemap><loc>/self.xml</loc></sitemap>\
                 <sitemap><loc>/broken.xml</loc></sitemap></sitemapindex>"),
            "/a.xml.gz" => (
                200,
                "application/gzip",
                gzip(
                    b"<urlset><url><loc>/new</loc><lastmod>2026-06-01</lastmod></url>\
                      <url><loc>/old</loc><lastmod>2025-01-01T10:00:00+00:00</lastmod></url>\
                      <url><loc>/undated</loc></url></urlset>",
                ),
            ),
            "/bomb.xml" => xml(
                "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">\
                 <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\
                 <urlset><url><loc>/&b;</loc></url></urlset>",
            ),
            "/self.xml" => {
                xml("<sitemapindex><sitemap><loc>/self.xml</loc></sitemap></sitemapindex>")
            }
            "/broken.xml" => xml("<urlset><url><loc>/fine</loc></url><url><loc>/x</lo></url>"),
            _ => html("page", &["/not-followed"], ""),
        }
    });
    let out = scrape()
        .args(["--sitemap", "--sitemap-since", "2026-01-01"])
        .write_stdin(site.url(0, "/"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    let by_url: BTreeMap<String, &serde_json::Value> = recs
        .iter()
        .map(|r| (r["url"].as_str().unwrap().to_string(), r))
        .collect();
    let pages: BTreeSet<&str> = ["/new", "/undated", "/fine"].into();
    for p in &pages {
        let r = by_url
            .get(&site.url(0, p))
            .unwrap_or_else(|| panic!("{p}: {recs:?}"));
        assert_eq!(r["depth"], 0);
        assert!(r["parent"].as_str().unwrap().ends_with(".xml.gz") || *p == "/fine");
    }
    assert_eq!(by_url[&site.url(0, "/new")]["lastmod"], "2026-06-01");
    assert!(
        !by_url.contains_key(&site.url(0, "/old")),
        "lastmod before --sitemap-since"
    );
    assert_eq!(site.hits(&site.url(0, "/not-followed")), 0, "no --follow");
    let index = by_url[&site.url(0, "/index.xml")];
    assert_eq!(index["sitemap"]["sitemaps"], 4);
    let bomb = by_url[&site.url(0, "/bomb.xml")];
    assert!(
        bomb["sitemap"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("&b;"),
        "{bomb}"
    );
    let itself = by_url[&site.url(0, "/self.xml")];
    assert!(
        itself["sitemap"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("itself")
    );
    for bad in [bomb, itself] {
        assert_eq!(bad["error"]["kind"], "sitemap", "{bad}");
        assert_eq!(bad["ok"], false);
    }
    assert_eq!(index["error"], serde_json::Value::Null, "{index}");
    let broken = by_url[&site.url(0, "/broken.xml")];
    assert_eq!(
        broken["error"]["kind"], "sitemap",
        "what was read is kept: {broken}"
    );
    assert_eq!(broken["sitemap"]["urls"], 1);
    assert!(
        broken["sitemap"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("XML")
    );
    assert_eq!(site.hits(&site.url(0, "/self.xml")), 1);
    // Records: the root, 5 sitemaps, 3 pages.
    assert_eq!(recs.len(), 9, "{recs:?}");
}

#[test]
fn traps_are_stopped_by_each_limit() {
    // An endless calendar: every page links to the next.
    let site = Site::start(1, |_, path| {
        let n: u64 = path
            .rsplit('=')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let next = format!("/cal?page={}", n + 1);
        html("cal", &[&next], "")
    });
    for (limit, want) in [
        (["--max-pages", "7"], 7),
        (["--max-per-host", "4"], 4),
        (["--depth", "5"], 6),
    ] {
        let deep: &[&str] = match limit[0] {
            "--depth" => &[],
            _ => &["--depth", "1000"],
        };
        let args = [&["--follow"], deep, &limit[..]].concat();
        let (recs, s, _) = crawl(&args, &site.url(0, "/cal?page=0"));
        assert_eq!(recs.len(), want, "{limit:?}");
        let rule = limit[0].trim_start_matches("--").replace('-', "_");
        assert_eq!(s["dropped"][rule.as_str()], 1, "{limit:?}: {s}");
    }
}

#[test]
fn one_thread_a_page_of_ten_thousand_links_and_a_tiny_frontier_finish() {
    let site = Site::start(1, |_, path| match path {
        "/" => {
            let links: Vec<String> = (0..10_000).map(|i| format!("/l/{i}")).collect();
            let refs: Vec<&str> = links.iter().map(String::as_str).collect();
            html("hub", &refs, "")
        }
        _ => html("leaf", &["/"], ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let out = scrape()
        .args([
            "--follow",
            "--no-robots",
            "-t",
            "1",
            "--frontier-memory",
            "4K",
            "-o",
        ])
        .arg(&out_path)
        .write_stdin(site.url(0, "/"))
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = err.lines().rev().take(8).collect();
    assert!(out.status.success(), "{tail:?}");
    let recs = records(&std::fs::read(&out_path).unwrap());
    assert_eq!(recs.len(), 10_001);
    assert_eq!(site.hits(&site.url(0, "/")), 1);
    assert!(
        !dir.path().join("out.jsonl.frontier").exists(),
        "removed when the crawl ended whole"
    );
}

#[test]
fn a_crawl_killed_and_resumed_has_every_record_once() {
    let gate = Arc::new(AtomicBool::new(false));
    let open = Arc::clone(&gate);
    let site = Site::start(1, move |_, path| {
        let n: usize = path.trim_start_matches("/p").parse().unwrap_or(0);
        // Past page 60, pages wait until the test lets them through: the
        // kill comes while the crawl is under way, wherever it is.
        while n > 60 && !open.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let links: Vec<String> = [2 * n + 1, 2 * n + 2]
            .iter()
            .filter(|&&m| m < 300)
            .map(|m| format!("/p{m}"))
            .collect();
        let refs: Vec<&str> = links.iter().map(String::as_str).collect();
        html("p", &refs, "")
    });
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let args = ["--follow", "--no-robots", "--depth", "10", "-t", "4", "-o"];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scrape"))
        .args(args)
        .arg(&out_path)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(site.url(0, "/p0").as_bytes())
        .unwrap();
    // Wait (on the file, not on time) until the first pages are written.
    while std::fs::read(&out_path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) < 40 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    crate::support::signal(&child, libc::SIGKILL);
    let _ = child.wait();
    gate.store(true, Ordering::SeqCst);
    let before: BTreeSet<String> = records(&std::fs::read(&out_path).unwrap())
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    assert!(dir.path().join("out.jsonl.frontier/journal").exists());
    let out = scrape()
        .args(args)
        .arg(&out_path)
        .arg("--resume")
        .write_stdin(site.url(0, "/p0"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&std::fs::read(&out_path).unwrap());
    let urls: Vec<String> = recs
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<&String> = urls.iter().collect();
    assert_eq!(unique.len(), urls.len(), "no page has two records");
    let want: BTreeSet<String> = (0..300).map(|n| site.url(0, &format!("/p{n}"))).collect();
    assert_eq!(urls.iter().cloned().collect::<BTreeSet<_>>(), want);
    for url in &before {
        assert_eq!(site.hits(url), 1, "{url} had its record: not fetched again");
    }
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("already with a record from the earlier run"),
        "{said}"
    );
    for r in &recs {
        let n: usize = r["url"]
            .as_str()
            .unwrap()
            .rsplit("/p")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let depth = (usize::BITS - (n + 1).leading_zeros() - 1) as u64;
        assert_eq!(r["depth"], depth, "{r}");
    }
}

#[test]
fn shards_split_a_crawl_by_host() {
    let site = graph_site();
    let seeds = [site.url(0, "/p0"), site.url(1, "/p0")].join("\n");
    let shard = |k: &str| {
        let args = ["--follow", "--scope", "any", "--depth", "2", "--shard", k];
        let (recs, s, _) = crawl(&args, &seeds);
        let urls: Vec<String> = recs
            .iter()
            .map(|r| r["url"].as_str().unwrap().to_string())
            .collect();
        (urls, s)
    };
    // fnv1a64("127.0.0.1") is even and fnv1a64("127.0.0.2") odd: each
    // host is one shard's, and a shard follows no link to the other host.
    let (zero, s0) = shard("0/2");
    let (one, s1) = shard("1/2");
    for (h, urls, summary) in [(0, zero, s0), (1, one, s1)] {
        let got: BTreeSet<String> = urls.iter().cloned().collect();
        assert_eq!(got.len(), urls.len(), "each page once");
        let want: BTreeSet<String> = expected(2, false)
            .into_keys()
            .map(|(_, n)| site.url(h, &format!("/p{n}")))
            .collect();
        assert_eq!(got, want, "shard {h}");
        assert!(
            summary["dropped"]["shard"].as_u64().unwrap() > 0,
            "{summary}"
        );
        assert_eq!(summary["other_shards"], 1, "the other host's seed");
    }
}

#[test]
fn the_slurm_crawl_recipe_splits_sites_and_merge_checks_them() {
    if !crate::support::tool(&["jq", "--version"]) {
        return;
    }
    let site = graph_site();
    let dir = tempfile::tempdir().unwrap();
    let sites = dir.path().join("sites.txt");
    std::fs::write(
        &sites,
        format!("{}\n{}\n", site.url(0, "/p0"), site.url(1, "/p0")),
    )
    .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_scrape"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tasks: Vec<_> = (0..2)
        .map(|k| {
            std::process::Command::new("bash")
                .arg(root.join("crawl-array.slurm"))
                .arg(&sites)
                .arg(dir.path().join("out"))
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("DEPTH", "2")
                .env("SLURM_ARRAY_JOB_ID", "7")
                .env("SLURM_ARRAY_TASK_ID", k.to_string())
                .env("SLURM_ARRAY_TASK_MIN", "0")
                .env("SLURM_ARRAY_TASK_MAX", "1")
                .env("SLURM_ARRAY_TASK_COUNT", "2")
                .output()
                .unwrap()
        })
        .collect();
    for t in &tasks {
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    }
    let merge = || {
        std::process::Command::new("bash")
            .arg(root.join("merge.sh"))
            .arg(&sites)
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    let merged = merge();
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let all = records(&std::fs::read(dir.path().join("out/all.jsonl")).unwrap());
    let urls: BTreeSet<&str> = all.iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), all.len(), "each page once");
    assert_eq!(
        all.len(),
        2 * expected(2, false).len(),
        "both sites, each whole"
    );
    assert_eq!(all[0]["line"], 1, "in list order");
    assert_eq!(all.last().unwrap()["line"], 2);

    // A page in two shards' files is refused.
    let zero = dir.path().join("out/shard-0.jsonl");
    let first = std::fs::read_to_string(&zero).unwrap();
    let found = first
        .lines()
        .find(|l| l.contains("\"parent\":\"http"))
        .unwrap()
        .to_string();
    let mut one = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("out/shard-1.jsonl"))
        .unwrap();
    writeln!(one, "{found}").unwrap();
    let merged = merge();
    assert!(!merged.status.success());
    assert!(String::from_utf8_lossy(&merged.stderr).contains("has 2 records"));
}

#[test]
fn a_seed_that_redirects_is_crawled_where_it_landed() {
    // http://127.0.0.1/ → http://127.0.0.2/ (as shop.test → www.shop.test).
    let port: Arc<std::sync::OnceLock<u16>> = Arc::default();
    let known = Arc::clone(&port);
    let site = Site::start(2, move |host, path| {
        let port = known.get().copied().unwrap_or(0);
        match (host, path) {
            ("127.0.0.1", "/") => (
                301,
                "text/plain",
                format!("http://127.0.0.2:{port}/").into_bytes(),
            ),
            ("127.0.0.2", "/") => html("home", &["/a", "/b"], ""),
            _ => html("leaf", &[], ""),
        }
    });
    port.set(site.port).unwrap();
    let (recs, _, _) = crawl(&["--follow", "--no-robots"], &site.url(0, "/"));
    let urls: BTreeSet<&str> = recs.iter().map(|r| r["url"].as_str().unwrap()).collect();
    let want: BTreeSet<String> = [site.url(0, "/"), site.url(1, "/a"), site.url(1, "/b")].into();
    assert_eq!(urls, want.iter().map(String::as_str).collect());
}

#[test]
fn resolve_pins_names_to_loopback_and_domain_scope_spans_subdomains() {
    // www.shop.test and blog.shop.test are one registrable domain (the
    // public suffix list's default rule); other.test is not. --resolve
    // sends every name to 127.0.0.x: no DNS, no proxy.
    let port: Arc<std::sync::OnceLock<u16>> = Arc::default();
    let known = Arc::clone(&port);
    let site = Site::start(2, move |host, path| {
        let p = known.get().copied().unwrap_or(0);
        match (host, path) {
            ("www.shop.test", "/") => html(
                "www",
                &[
                    &format!("http://blog.shop.test:{p}/post"),
                    &format!("http://other.test:{p}/"),
                ],
                "",
            ),
            (h, _) => html(h, &[], ""),
        }
    });
    port.set(site.port).unwrap();
    let pin = |name: &str, i: usize| format!("{name}:{}:127.0.0.{}", site.port, i + 1);
    let (recs, s, _) = crawl(
        &[
            "--follow",
            "--no-robots",
            "--scope",
            "domain",
            "--resolve",
            &pin("www.shop.test", 0),
            "--resolve",
            &pin("blog.shop.test", 1),
            "--resolve",
            &pin("other.test", 0),
        ],
        &format!("http://www.shop.test:{}/", site.port),
    );
    let titles: BTreeSet<&str> = recs.iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(titles, BTreeSet::from(["www", "blog.shop.test"]));
    let blog = recs
        .iter()
        .find(|r| r["title"] == "blog.shop.test")
        .unwrap();
    assert_eq!(blog["ip"], "127.0.0.2", "--resolve sent it there");
    assert_eq!(s["dropped"]["scope"], 1, "{s}");
    assert_eq!(site.hits(&format!("http://other.test:{}/", site.port)), 0);
}
