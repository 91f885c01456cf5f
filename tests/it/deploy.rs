//! The cluster recipes in deploy/, run here without a cluster (README
//! "Scaling out"; `deploy/test-slurm.sh` and `deploy/test-ssh.sh` run them
//! on real engines):
//!
//! - the Kubernetes manifests against the real schema (`kubernetes-validate
//!   --strict`, oldest supported version and newest), and agreeing with
//!   themselves (shard count, volumes, policies);
//! - the Job's pods run as a kubelet would (env, `$(VAR)` expansion, mounts
//!   mapped to folders), and the Slurm array's tasks run as slurmd would (its
//!   variables, the script under bash), over 20 loopback hosts: merged by
//!   `deploy/merge.sh`, one record per line, every URL fetched once;
//! - `merge.sh` refusing what must not be merged: a missing shard, a stale
//!   one, a line with two records or none, an interrupted shard, another
//!   version of the list;
//! - `--shard auto` and its refusals, as the binary reports them.
//!
//! The validator and jq are installed by `.ci/run`; without them these tests
//! say so and pass, unless SCRAPE_REQUIRE_TOOLS is set.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::Ordering;

use crate::support::many;
use yaml_rust2::{Yaml, YamlLoader};

const HOSTS: usize = 20;

/// kubernetes-validate (PyPI), run as a module: no PATH or shim needed.
const VALIDATOR: [&str; 3] = ["python3", "-m", "kubernetes_validate"];
const VALIDATOR_VERSION: [&str; 4] = ["python3", "-m", "kubernetes_validate", "--version"];

fn deploy(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

fn yaml_docs(name: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(deploy(name)).unwrap();
    YamlLoader::load_from_str(&text).expect("valid YAML")
}

fn str_of<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {y:?}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A list over the 20 hosts of `port`: 200 URLs, a comment, blank lines,
/// 4 duplicates (one with a fragment), a line that is not a URL and one with
/// a password. Returns the text and how many distinct URLs it has.
fn list_text(port: u16) -> (String, usize) {
    let mut lines = vec!["# the list".to_string(), String::new()];
    for i in 0..200 {
        let url = format!("http://{}:{port}/page/{i}", many::host(i % HOSTS));
        if i % 50 == 7 {
            lines.push(format!("{url}#again"));
        }
        lines.push(url);
        if i % 60 == 0 {
            lines.push("   ".into());
        }
    }
    lines.push("not a url at all".into());
    lines.push(format!(
        "http://user:secret@{}:{port}/page/999",
        many::host(3)
    ));
    (lines.join("\n") + "\n", 201)
}

/// A folder with `urls.txt`, and the hosts it names.
struct Fixture {
    dir: tempfile::TempDir,
    server: many::Many,
    urls: usize,
}

impl Fixture {
    fn new() -> Fixture {
        let server = many::hosts(HOSTS);
        let dir = tempfile::tempdir().unwrap();
        let (text, urls) = list_text(server.port);
        std::fs::write(dir.path().join("urls.txt"), text).unwrap();
        Fixture { dir, server, urls }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn requests(&self) -> usize {
        self.server.counts.requests.load(Ordering::SeqCst)
    }
}

/// `deploy/merge.sh LIST DIR`.
fn merge(list: &Path, dir: &Path) -> Output {
    Command::new("bash")
        .arg(deploy("merge.sh"))
        .arg(list)
        .arg(dir)
        .output()
        .unwrap()
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The merge of `dir` succeeded, and holds one record per line that needs
/// one, in list order, every URL fetched exactly once by `fixture`'s hosts.
fn assert_merged_whole(fixture: &Fixture, dir: &Path, shards: u64) {
    let out = merge(&fixture.path("urls.txt"), dir);
    assert!(out.status.success(), "merge.sh: {}", stderr(&out));
    let records = lines(&dir.join("all.jsonl"));
    assert_eq!(
        records.len(),
        fixture.urls + 1 + 4,
        "201 URLs, a non-URL and 4 repeats"
    );
    let numbers: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "list order");
    let duplicates = records.iter().filter(|r| r["duplicate_of"].is_u64());
    assert_eq!(
        duplicates.count(),
        4,
        "each repeat points at its first line"
    );
    let failed: Vec<_> = records
        .iter()
        .filter(|r| r["ok"] != true && r["duplicate_of"].is_null())
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "only the line that is not a URL: {failed:?}"
    );
    assert_eq!(fixture.requests(), fixture.urls, "every URL fetched once");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("all.summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["records"], fixture.urls as u64 + 1 + 4);
    assert_eq!(summary["duplicates"], 4);
    assert_eq!(summary["shards"], shards);
}

// --- Kubernetes ----------------------------------------------------------

#[test]
fn kubernetes_manifests_validate_against_the_oldest_and_newest_schemas() {
    if !crate::support::tool(&VALIDATOR_VERSION) {
        return;
    }
    let validate = |version: Option<&str>| {
        let mut cmd = Command::new(VALIDATOR[0]);
        cmd.args(&VALIDATOR[1..]).arg("--strict");
        if let Some(v) = version {
            cmd.args(["--kubernetes-version", v]);
        }
        cmd.arg(deploy("scrape-job.yaml"))
            .arg(deploy("scrape-storage.yaml"))
            .output()
            .unwrap()
    };
    // The oldest version README supports, and the newest the validator
    // knows (its default).
    for version in [Some("1.29.0"), None] {
        let out = validate(version);
        assert!(
            out.status.success(),
            "{version:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
    }
    // Before 1.29 the Job's failure policy is not even valid.
    assert!(!validate(Some("1.28.0")).status.success());
}

/// The Job, its pod spec and its one container.
fn job() -> (Yaml, Yaml, Yaml) {
    let docs = yaml_docs("scrape-job.yaml");
    assert_eq!(docs.len(), 1);
    let job = docs[0].clone();
    let pod = job["spec"]["template"]["spec"].clone();
    let containers = pod["containers"].as_vec().expect("containers").clone();
    assert_eq!(containers.len(), 1);
    (job, pod, containers[0].clone())
}

fn env_of(container: &Yaml) -> Vec<(String, String)> {
    container["env"]
        .as_vec()
        .map(|vars| {
            vars.iter()
                .map(|v| {
                    (
                        str_of(&v["name"], "env name").to_string(),
                        str_of(&v["value"], "env value").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_job_survives_evictions_and_replacements_and_passes_its_count_once() {
    let (job, pod, c) = job();
    assert_eq!(str_of(&job["apiVersion"], "apiVersion"), "batch/v1");
    let spec = &job["spec"];
    assert_eq!(str_of(&spec["completionMode"], "completionMode"), "Indexed");
    let completions = spec["completions"].as_i64().expect("completions");
    assert_eq!(spec["parallelism"].as_i64(), Some(completions));
    let shards = env_of(&c)
        .into_iter()
        .find(|(k, _)| k == "SCRAPE_SHARDS")
        .map(|(_, v)| v.parse::<i64>().unwrap());
    assert_eq!(shards, Some(completions), "SCRAPE_SHARDS = completions");
    assert_eq!(str_of(&spec["podReplacementPolicy"], "policy"), "Failed");
    assert!(spec["backoffLimitPerIndex"].as_i64().is_some());
    let rules = spec["podFailurePolicy"]["rules"].as_vec().expect("rules");
    let ignores_disruptions = rules.iter().any(|r| {
        r["action"].as_str() == Some("Ignore")
            && r["onPodConditions"].as_vec().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"].as_str() == Some("DisruptionTarget"))
            })
    });
    assert!(ignores_disruptions, "evictions must not use up the retries");
    assert_eq!(str_of(&pod["restartPolicy"], "restartPolicy"), "Never");
    let args: Vec<&str> = c["args"]
        .as_vec()
        .expect("args")
        .iter()
        .map(|a| str_of(a, "arg"))
        .collect();
    let after = |flag: &str| {
        let i = args
            .iter()
            .position(|a| *a == flag)
            .unwrap_or_else(|| panic!("{flag}"));
        args[i + 1]
    };
    assert_eq!(after("--shard"), "auto");
    assert!(after("-o").contains("$(JOB_COMPLETION_INDEX)"));
    assert!(after("--summary-json").contains("$(JOB_COMPLETION_INDEX)"));
    assert!(args.contains(&"--resume"));
    // The volumes: the ConfigMap of the list, and the claim the storage
    // manifest makes, ReadWriteMany, mounted by the pod that copies files.
    let volumes = pod["volumes"].as_vec().expect("volumes");
    let named = |n: &str| volumes.iter().find(|v| v["name"].as_str() == Some(n));
    for m in c["volumeMounts"].as_vec().expect("volumeMounts") {
        assert!(named(str_of(&m["name"], "mount")).is_some());
    }
    let claim = volumes
        .iter()
        .find_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
        .expect("a claim");
    assert!(
        volumes
            .iter()
            .any(|v| v["configMap"]["name"].as_str() == Some("scrape-urls"))
    );
    let storage = yaml_docs("scrape-storage.yaml");
    let pvc = storage
        .iter()
        .find(|d| d["kind"].as_str() == Some("PersistentVolumeClaim"))
        .expect("a PersistentVolumeClaim");
    assert_eq!(pvc["metadata"]["name"].as_str(), Some(claim));
    assert_eq!(
        pvc["spec"]["accessModes"][0].as_str(),
        Some("ReadWriteMany")
    );
    let helper = storage
        .iter()
        .find(|d| d["kind"].as_str() == Some("Pod"))
        .expect("a pod to copy the shards out");
    assert_eq!(
        helper["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].as_str(),
        Some(claim)
    );
}

/// `$(NAME)` replaced by NAME's value as Kubernetes does (unknown names stay
/// as written; `$$` is a `$`).
fn expand(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(end) = rest.strip_prefix("$(").and_then(|r| r.find(')')) {
            let name = &rest[2..2 + end];
            match vars.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(&rest[..3 + end]),
            }
            rest = &rest[3 + end..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out + rest
}

/// Runs the Job's pods as a kubelet would: every index at once, the
/// container's env plus JOB_COMPLETION_INDEX, `$(VAR)` expanded, the
/// ConfigMap mount at `input` and the claim's at `output`.
fn run_pods(input: &Path, output: &Path) -> Vec<Output> {
    let (job, pod, c) = job();
    let completions = job["spec"]["completions"].as_i64().unwrap();
    let volumes = pod["volumes"].as_vec().unwrap();
    let mounts: Vec<(String, PathBuf)> = c["volumeMounts"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|m| {
            let name = str_of(&m["name"], "mount");
            let v = volumes
                .iter()
                .find(|v| v["name"].as_str() == Some(name))
                .unwrap();
            let dir = if v["configMap"].as_hash().is_some() {
                input
            } else {
                output
            };
            (
                str_of(&m["mountPath"], "mountPath").to_string(),
                dir.to_path_buf(),
            )
        })
        .collect();
    let host_path = |arg: String| {
        for (at, dir) in &mounts {
            if let Some(rest) = arg.strip_prefix(&format!("{at}/")) {
                return dir.join(rest).display().to_string();
            }
        }
        arg
    };
    let pods: Vec<std::process::Child> = (0..completions)
        .map(|k| {
            let mut vars: HashMap<String, String> = env_of(&c).into_iter().collect();
            vars.insert("JOB_COMPLETION_INDEX".into(), k.to_string());
            let argv: Vec<String> = c["command"]
                .as_vec()
                .unwrap()
                .iter()
                .chain(c["args"].as_vec().unwrap())
                .map(|a| host_path(expand(str_of(a, "arg"), &vars)))
                .collect();
            assert_eq!(argv[0], "scrape");
            Command::new(env!("CARGO_BIN_EXE_scrape"))
                .args(&argv[1..])
                .envs(&vars)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    pods.into_iter()
        .map(|p| p.wait_with_output().unwrap())
        .collect()
}

#[test]
fn the_jobs_pods_cover_the_list_once_and_merge_whole() {
    if !crate::support::tool(&["jq", "--version"]) {
        return;
    }
    let fixture = Fixture::new();
    let input = fixture.path("in");
    let output = fixture.path("out");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::create_dir_all(&output).unwrap();
    std::fs::copy(fixture.path("urls.txt"), input.join("urls.txt")).unwrap();
    for (k, pod) in run_pods(&input, &output).iter().enumerate() {
        assert!(pod.status.success(), "pod {k}: {}", stderr(pod));
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(output.join("shard-2.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        summary["shard"],
        serde_json::json!({"index": 2, "count": 4, "from": "kubernetes"})
    );
    assert_merged_whole(&fixture, &output, 4);
}

// --- Slurm -----------------------------------------------------------------

#[test]
fn the_slurm_script_takes_its_count_from_the_array_and_survives_requeues() {
    let text = std::fs::read_to_string(deploy("scrape-array.slurm")).unwrap();
    let sbatch: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("#SBATCH "))
        .collect();
    for option in [
        "--array=0-7",
        "--cpus-per-task=1",
        "--requeue",
        "--open-mode=append",
    ] {
        assert!(sbatch.contains(&option), "#SBATCH {option}");
    }
    assert!(text.contains("--shard auto"));
    assert!(text.contains("--resume"));
    assert!(
        !text.lines().any(|l| l.starts_with("SHARDS=")),
        "no second constant for the count"
    );
}

/// Runs the array script as slurmd would run task `id` of an array with
/// task IDs `min..=max`, in `dir`, with scrape on PATH (or not).
fn run_task(
    id: u64,
    (min, max): (u64, u64),
    list: &Path,
    dir: &Path,
    env: &[(&str, &str)],
) -> std::process::Child {
    let bin = Path::new(env!("CARGO_BIN_EXE_scrape")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg(deploy("scrape-array.slurm"))
        .arg(list)
        .arg(dir.join("out"))
        .current_dir(dir)
        .env("PATH", path)
        .env("SLURM_ARRAY_JOB_ID", "77")
        .env("SLURM_ARRAY_TASK_ID", id.to_string())
        .env("SLURM_ARRAY_TASK_MIN", min.to_string())
        .env("SLURM_ARRAY_TASK_MAX", max.to_string())
        .env("SLURM_ARRAY_TASK_COUNT", (max - min + 1).to_string())
        .env("SLURM_ARRAY_TASK_STEP", "1")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every task of an array `min..=max`, at once.
fn run_array(fixture: &Fixture, dir: &Path, (min, max): (u64, u64)) -> Vec<Output> {
    std::fs::create_dir_all(dir).unwrap();
    let list = fixture.path("urls.txt");
    let tasks: Vec<_> = (min..=max)
        .map(|id| run_task(id, (min, max), &list, dir, &[]))
        .collect();
    tasks
        .into_iter()
        .map(|t| t.wait_with_output().unwrap())
        .collect()
}

#[test]
fn the_array_tasks_cover_the_list_once_whatever_the_array_size() {
    if !crate::support::tool(&["jq", "--version"]) {
        return;
    }
    let fixture = Fixture::new();
    let dir = fixture.path("eight");
    for (k, task) in run_array(&fixture, &dir, (0, 7)).iter().enumerate() {
        assert!(task.status.success(), "task {k}: {}", stderr(task));
        assert!(
            stderr(task).contains(&format!("task {k} on")),
            "the log says who"
        );
    }
    assert_merged_whole(&fixture, &dir.join("out"), 8);

    // `sbatch --array=0-3` of the same script: four shards, still whole.
    let fixture = Fixture::new();
    let dir = fixture.path("four");
    for task in run_array(&fixture, &dir, (0, 3)) {
        assert!(task.status.success(), "{}", stderr(&task));
    }
    assert_merged_whole(&fixture, &dir.join("out"), 4);
}

#[test]
fn array_mistakes_fail_the_tasks_and_say_why() {
    let fixture = Fixture::new();
    let list = fixture.path("urls.txt");
    // An array numbered from 1.
    let out = run_task(1, (1, 4), &list, fixture.dir.path(), &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--array=0-3"), "{}", stderr(&out));
    // scrape not on the node's PATH.
    let out = run_task(
        0,
        (0, 1),
        &list,
        fixture.dir.path(),
        &[("SCRAPE", "/nonexistent/scrape")],
    )
    .wait_with_output()
    .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(stderr(&out).contains("not on PATH"), "{}", stderr(&out));
    // The list not where the node can read it.
    let out = run_task(
        0,
        (0, 1),
        &fixture.path("nowhere.txt"),
        fixture.dir.path(),
        &[],
    )
    .wait_with_output()
    .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("shares"), "{}", stderr(&out));
    assert_eq!(fixture.requests(), 0);
}

// --- merge.sh refusals -------------------------------------------------------

/// A finished 4-shard run of the fixture's list, in `dir/out`.
fn finished_run(fixture: &Fixture, dir: &Path) -> PathBuf {
    for task in run_array(fixture, dir, (0, 3)) {
        assert!(task.status.success(), "{}", stderr(&task));
    }
    dir.join("out")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn edit(path: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, change(text)).unwrap();
}

/// merge.sh on a copy of `run` changed by `change`: it must fail, say
/// `why`, and write nothing.
fn refused(fixture: &Fixture, run: &Path, name: &str, why: &str, change: impl FnOnce(&Path)) {
    let dir = fixture.path(name);
    copy_dir(run, &dir);
    change(&dir);
    let out = merge(&fixture.path("urls.txt"), &dir);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: merged: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(why), "{name}: {}", stderr(&out));
    assert!(!dir.join("all.jsonl").exists(), "{name}: wrote a merge");
}

#[test]
fn merge_refuses_what_would_lose_or_double_a_line() {
    if !crate::support::tool(&["jq", "--version"]) {
        return;
    }
    let fixture = Fixture::new();
    let run = finished_run(&fixture, &fixture.path("run"));
    let shard = |dir: &Path, k: u32, ext: &str| dir.join(format!("shard-{k}.{ext}"));

    refused(&fixture, &run, "missing", "shard 2 of 4 is missing", |d| {
        std::fs::remove_file(shard(d, 2, "jsonl")).unwrap();
        std::fs::remove_file(shard(d, 2, "summary.json")).unwrap();
    });
    refused(&fixture, &run, "stale", "two different splits", |d| {
        std::fs::copy(shard(d, 0, "jsonl"), shard(d, 4, "jsonl")).unwrap();
        std::fs::copy(shard(d, 0, "summary.json"), shard(d, 4, "summary.json")).unwrap();
        edit(&shard(d, 4, "summary.json"), |t| {
            t.replace("\"index\": 0", "\"index\": 4")
                .replace("\"count\": 4", "\"count\": 6")
        });
    });
    refused(&fixture, &run, "no-summary", "has no summary", |d| {
        std::fs::write(shard(d, 7, "jsonl"), "").unwrap();
    });
    refused(&fixture, &run, "twice", "has 2 records", |d| {
        let first = std::fs::read_to_string(shard(d, 1, "jsonl")).unwrap();
        let line = first.lines().next().unwrap().to_string();
        edit(&shard(d, 3, "jsonl"), |t| format!("{t}{line}\n"));
    });
    refused(&fixture, &run, "lost", "have no record", |d| {
        edit(&shard(d, 1, "jsonl"), |t| {
            t.lines().skip(1).map(|l| format!("{l}\n")).collect()
        });
    });
    refused(&fixture, &run, "interrupted", "was interrupted", |d| {
        edit(&shard(d, 0, "summary.json"), |t| {
            t.replace("\"interrupted\": false", "\"interrupted\": true")
        });
    });
    refused(&fixture, &run, "torn", "not a scrape summary", |d| {
        std::fs::write(shard(d, 0, "summary.json"), "").unwrap();
    });
    // The same shards against a list that changed since.
    let dir = fixture.path("changed");
    copy_dir(&run, &dir);
    let list = fixture.path("urls-v2.txt");
    let text = std::fs::read_to_string(fixture.path("urls.txt")).unwrap();
    std::fs::write(&list, format!("http://example.invalid/new\n{text}")).unwrap();
    let out = merge(&list, &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("another version of the list"),
        "{}",
        stderr(&out)
    );
    // And the untouched run merges.
    let out = merge(&fixture.path("urls.txt"), &run);
    assert!(out.status.success(), "{}", stderr(&out));
}

// --- --shard auto and a resumed shard, as the binary reports them ------------

#[test]
fn shard_auto_outside_an_engine_or_against_it_is_a_usage_error() {
    let fixture = Fixture::new();
    let list = fixture.path("urls.txt");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        crate::support::scrape()
            .arg(&list)
            .args(args)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SCRAPE_SHARDS")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let out = run(&["--shard", "auto"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--shard K/N"), "{}", stderr(&out));
    // The run that lost half a list: 4 tasks, each told it is one of 8.
    let array = [
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_MAX", "3"),
    ];
    let out = run(&["--shard", "1/8"], &array);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("never be fetched"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--shard", "auto"], &[("JOB_COMPLETION_INDEX", "0")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SCRAPE_SHARDS"), "{}", stderr(&out));
    assert_eq!(fixture.requests(), 0, "nothing fetched");
    // In a Slurm task, the summary says which shard it was.
    let summary = fixture.path("s.json");
    let out = run(
        &[
            "--shard",
            "auto",
            "-q",
            "--summary-json",
            summary.to_str().unwrap(),
        ],
        &array,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(
        s["shard"],
        serde_json::json!({"index": 1, "count": 4, "from": "slurm"})
    );
}

#[test]
fn a_resumed_run_counts_every_line_once_and_repeats_keep_their_own_records() {
    let fixture = Fixture::new();
    let url = format!("http://{}:{}/page/1", many::host(0), fixture.server.port);
    let list = fixture.path("repeat.txt");
    std::fs::write(&list, format!("{url}\n{url}\n{url}#x\n")).unwrap();
    let out = fixture.path("repeat.jsonl");
    // An earlier run that wrote line 1's record, then stopped.
    let first = crate::support::scrape()
        .arg(&list)
        .args(["--no-dedupe", "-q", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(first.status.success());
    let line1 = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&out, format!("{line1}\n")).unwrap();
    let before = fixture.requests();
    // With --no-dedupe, lines 2 and 3 have no record of their own: fetched.
    let resumed = |extra: &[&str]| {
        let summary = fixture.path("repeat.summary.json");
        let run = crate::support::scrape()
            .arg(&list)
            .args(extra)
            .args(["-q", "--resume", "--summary-json"])
            .arg(&summary)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", stderr(&run));
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&summary).unwrap())
            .unwrap()
    };
    let s = resumed(&["--no-dedupe"]);
    assert_eq!(lines(&out).len(), 3, "one record per line");
    assert_eq!(
        (s["resumed"].as_u64(), s["records"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(fixture.requests(), before + 2);
    // With dedupe, a resume gives the others records pointing at the one
    // kept (whichever line it is: the first run wrote in completion
    // order), not fetched.
    std::fs::write(&out, format!("{line1}\n")).unwrap();
    let kept: serde_json::Value = serde_json::from_str(&line1).unwrap();
    let s = resumed(&[]);
    let records = lines(&out);
    assert_eq!(records.len(), 3);
    for r in &records[1..] {
        assert_eq!(r["duplicate_of"], kept["line"], "{r:?}");
    }
    assert_eq!(fixture.requests(), before + 2, "nothing fetched");
    assert_eq!(
        (
            s["resumed"].as_u64(),
            s["duplicates"].as_u64(),
            s["urls"].as_u64()
        ),
        (Some(1), Some(2), Some(3))
    );
}

#[test]
fn every_script_in_deploy_is_valid_bash() {
    for name in [
        "scrape-array.slurm",
        "parallel-ssh.sh",
        "merge.sh",
        "test-slurm.sh",
        "test-ssh.sh",
    ] {
        let out = Command::new("bash")
            .arg("-n")
            .arg(deploy(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }
}
