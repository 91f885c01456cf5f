//! The jq cookbook (docs/cookbook.md), run: every recipe marked `<!-- recipe: NAME -->`
//! is run with `sh` in `fixtures/cookbook/` and must print exactly
//! `fixtures/cookbook/NAME.out`. Needs `jq`: without it the test says so and
//! passes, unless SCRAPE_REQUIRE_TOOLS is set (as `.ci/run` does).

use std::path::{Path, PathBuf};
use std::process::Command;

const RECIPES: [&str; 11] = [
    "title-changes",
    "unique-links",
    "status-histogram",
    "slowest-hosts",
    "errors-by-kind",
    "text-changes",
    "word-counts",
    "one-file-per-page",
    "changed-since",
    "expiring-certs",
    "archive-index",
];

/// (name, shell text) of every recipe in the README, in order.
fn recipes(readme: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find("<!-- recipe: ") {
        rest = &rest[at + "<!-- recipe: ".len()..];
        let Some(end) = rest.find(" -->") else { break };
        let name = rest[..end].trim().to_string();
        let block = rest
            .find("```sh\n")
            .map(|b| &rest[b + "```sh\n".len()..])
            .and_then(|b| b.find("\n```").map(|e| b[..e].to_string()))
            .unwrap_or_else(|| panic!("recipe {name} has no ```sh block"));
        found.push((name, block));
    }
    found
}

#[test]
fn every_recipe_prints_what_it_promises() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("docs/cookbook.md")).unwrap();
    let recipes = recipes(&readme);
    let names: Vec<&str> = recipes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, RECIPES, "the cookbook's recipes");
    if !crate::support::tool(&["jq", "--version"]) {
        return;
    }
    let dir = root.join("fixtures").join("cookbook");
    // Recipes run where only the two runs are, as a user's would: some
    // write files.
    let work = tempfile::tempdir().unwrap();
    for run in ["run1.jsonl", "run2.jsonl"] {
        std::fs::copy(dir.join(run), work.path().join(run)).unwrap();
    }
    for (name, script) in &recipes {
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read_to_string(dir.join(format!("{name}.out"))).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "recipe {name}");
    }
}

#[test]
fn the_fixture_runs_are_records_scrape_could_write() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cookbook");
    for run in ["run1.jsonl", "run2.jsonl"] {
        let text = std::fs::read_to_string(dir.join(run)).unwrap();
        for line in text.lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            for key in [
                "url",
                "input",
                "status",
                "ok",
                "title",
                "elapsed_ms",
                "error",
                "links",
            ] {
                assert!(r.get(key).is_some(), "{run}: {key} missing in {line}");
            }
            let ok = r["error"].is_null() && r["status"].as_u64().is_some_and(|s| s < 400);
            assert_eq!(
                r["ok"].as_bool(),
                Some(ok),
                "{run}: ok must follow the rule: {line}"
            );
        }
    }
}
