//! The cluster recipes in deploy/ parse and agree with themselves: the
//! Kubernetes Indexed Job has the fields a Job needs and splits the list into
//! as many shards as it runs pods; the shell scripts are valid bash.

use std::path::PathBuf;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn deploy(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

fn str_of<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {y:?}"))
}

#[test]
fn kubernetes_indexed_job_is_well_formed() {
    let text = std::fs::read_to_string(deploy("scrape-job.yaml")).unwrap();
    let docs = YamlLoader::load_from_str(&text).expect("valid YAML");
    assert_eq!(docs.len(), 1);
    let job = &docs[0];
    assert_eq!(str_of(&job["apiVersion"], "apiVersion"), "batch/v1");
    assert_eq!(str_of(&job["kind"], "kind"), "Job");
    assert!(job["metadata"]["name"].as_str().is_some());
    let spec = &job["spec"];
    assert_eq!(str_of(&spec["completionMode"], "completionMode"), "Indexed");
    let completions = spec["completions"].as_i64().expect("completions");
    assert_eq!(spec["parallelism"].as_i64(), Some(completions));
    let pod = &spec["template"]["spec"];
    assert_eq!(str_of(&pod["restartPolicy"], "restartPolicy"), "Never");
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert!(c["image"].as_str().is_some() && c["name"].as_str().is_some());
    let args: Vec<&str> = c["args"]
        .as_vec()
        .expect("args")
        .iter()
        .map(|a| str_of(a, "arg"))
        .collect();
    let shard = args
        .iter()
        .position(|a| *a == "--shard")
        .map(|i| args[i + 1])
        .expect("--shard");
    assert_eq!(shard, format!("$(JOB_COMPLETION_INDEX)/{completions}"));
    let output = args
        .iter()
        .position(|a| *a == "-o")
        .map(|i| args[i + 1])
        .expect("-o");
    assert!(
        output.contains("$(JOB_COMPLETION_INDEX)"),
        "one output per shard"
    );
    // Every mounted volume is declared.
    let volumes: Vec<&str> = pod["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .map(|v| str_of(&v["name"], "volume name"))
        .collect();
    for m in c["volumeMounts"].as_vec().expect("volumeMounts") {
        assert!(volumes.contains(&str_of(&m["name"], "mount name")));
    }
}

#[test]
fn shell_recipes_are_valid_bash() {
    for name in ["scrape-array.slurm", "parallel-ssh.sh"] {
        let status = Command::new("bash")
            .arg("-n")
            .arg(deploy(name))
            .status()
            .expect("bash");
        assert!(status.success(), "{name} has a syntax error");
    }
}

#[test]
fn slurm_array_size_matches_its_shard_count() {
    let text = std::fs::read_to_string(deploy("scrape-array.slurm")).unwrap();
    let array = text
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array=0-"))
        .expect("#SBATCH --array");
    let last: u32 = array.trim().parse().unwrap();
    let shards: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("SHARDS="))
        .expect("SHARDS=")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(last + 1, shards);
    assert!(text.contains("--shard \"$K/$SHARDS\""));
}
