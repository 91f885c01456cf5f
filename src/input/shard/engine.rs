//! `--shard auto`: K and N from the batch engine that runs the task, so the
//! shard count is never a second constant that can disagree with the number
//! of tasks (docs/scaling.md).
//!
//! - **Slurm job array**: K is `SLURM_ARRAY_TASK_ID`; N is
//!   `SLURM_ARRAY_TASK_COUNT`, or `SLURM_ARRAY_TASK_MAX - MIN + 1`. The
//!   array's task IDs must then be exactly 0..N-1 (`--array=0-7`, any
//!   `%throttle`); anything else is refused, because a task ID would not be
//!   its shard number.
//! - **Kubernetes Indexed Job**: K is `JOB_COMPLETION_INDEX`; Kubernetes
//!   gives no count, so the Job passes it once in `SCRAPE_SHARDS` (equal to
//!   its `completions`).
//! - `SCRAPE_SHARDS=N`, when set, is the shard count for Slurm too: that is
//!   how an array reruns some shards of a finished one
//!   (`SCRAPE_SHARDS=8 sbatch --array=3,5 …`).
//!
//! `--shard K/N` typed by hand is checked against the same variables: a
//! Slurm array of 4 tasks running `--shard $SLURM_ARRAY_TASK_ID/8` would
//! leave half the list unfetched with every task COMPLETED, so it is a usage
//! error, as is an N that disagrees with `SCRAPE_SHARDS`.
//!
//! The environment is passed in as a lookup, so every rule is unit-tested
//! without touching the process's variables.

use super::{Shard, ShardSpec, Source};

/// The shard count, when the task's environment names it.
pub const SHARDS_VAR: &str = "SCRAPE_SHARDS";
const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
const SLURM_MAX: &str = "SLURM_ARRAY_TASK_MAX";
const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";
const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";

/// The shard this task runs: `spec` resolved (`auto`) or checked (`K/N`)
/// against the engine's variables, read through `env`. The error is a
/// usage message.
pub fn resolve(spec: ShardSpec, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
    let declared = number(env, SHARDS_VAR)?;
    if declared == Some(0) {
        return Err(format!("{SHARDS_VAR} must be at least 1"));
    }
    let slurm = SlurmArray::read(env)?;
    match spec {
        ShardSpec::Fixed(shard) => check_fixed(shard, declared, slurm.as_ref()).map(|()| shard),
        ShardSpec::Auto => {
            let k8s = number(env, K8S_INDEX)?;
            match (slurm, k8s) {
                (Some(_), Some(_)) => Err(format!(
                    "--shard auto: both {SLURM_ID} and {K8S_INDEX} are set, so it cannot tell \
                     which engine runs this task; give --shard K/N"
                )),
                (Some(array), None) => array.shard(declared),
                (None, Some(index)) => kubernetes(index, declared),
                (None, None) => Err(format!(
                    "--shard auto takes K and N from a Slurm array task ({SLURM_ID}) or a \
                     Kubernetes Indexed Job pod ({K8S_INDEX}), and neither is set here; \
                     elsewhere give --shard K/N"
                )),
            }
        }
    }
}

/// The variables of a Slurm job array task.
#[derive(Debug)]
struct SlurmArray {
    id: u64,
    count: Option<u64>,
    min: Option<u64>,
    max: Option<u64>,
    step: Option<u64>,
}

impl SlurmArray {
    /// The array task's variables; None outside an array task.
    fn read(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<SlurmArray>, String> {
        let Some(id) = number(env, SLURM_ID)? else {
            return Ok(None);
        };
        Ok(Some(SlurmArray {
            id,
            count: number(env, SLURM_COUNT)?,
            min: number(env, SLURM_MIN)?,
            max: number(env, SLURM_MAX)?,
            step: number(env, SLURM_STEP)?,
        }))
    }

    /// How many tasks the array has, as far as its variables say.
    fn tasks(&self) -> Option<u64> {
        self.count.or(match (self.min, self.max) {
            (Some(min), Some(max)) if max >= min => {
                Some((max - min) / self.step.unwrap_or(1).max(1) + 1)
            }
            _ => None,
        })
    }

    /// The array's task IDs as Slurm writes them (`0-7`, `1-8:2`), when
    /// its variables say.
    fn ids(&self) -> Option<String> {
        let (min, max) = (self.min?, self.max?);
        Some(match self.step {
            Some(step) if step > 1 => format!("{min}-{max}:{step}"),
            _ => format!("{min}-{max}"),
        })
    }

    /// `--shard auto` in this task.
    fn shard(&self, declared: Option<u64>) -> Result<Shard, String> {
        let shard = |count| Shard {
            index: self.id,
            count,
            from: Source::Slurm,
        };
        if let Some(count) = declared {
            if self.id >= count {
                return Err(format!(
                    "--shard auto: Slurm array task {} is not a shard of {SHARDS_VAR}={count} \
                     (shards are numbered 0 to {})",
                    self.id,
                    count - 1
                ));
            }
            return Ok(shard(count));
        }
        let Some(count) = self.tasks() else {
            return Err(format!(
                "--shard auto: Slurm sets {SLURM_ID} but neither {SLURM_COUNT} nor \
                 {SLURM_MIN}/{SLURM_MAX}, so the shard count is unknown; set {SHARDS_VAR}"
            ));
        };
        let from_zero = self.min.unwrap_or(0) == 0
            && self.step.unwrap_or(1) == 1
            && self.max.unwrap_or(count - 1) == count - 1
            && self.id < count;
        if !from_zero {
            let ids = match self.ids() {
                Some(ids) => format!("are {ids}"),
                None => format!("include {}", self.id),
            };
            return Err(format!(
                "--shard auto numbers shards by array task ID from 0, but this array's task IDs \
                 {ids} ({}): submit it as --array=0-{}, or set {SHARDS_VAR}=N when the array \
                 reruns some shards of N",
                plural(count, "task"),
                count - 1
            ));
        }
        Ok(shard(count))
    }
}

/// `--shard auto` in a Kubernetes Indexed Job pod.
fn kubernetes(index: u64, declared: Option<u64>) -> Result<Shard, String> {
    let Some(count) = declared else {
        return Err(format!(
            "--shard auto in a Kubernetes Indexed Job ({K8S_INDEX}={index}) needs the shard \
             count: set the container's {SHARDS_VAR} to the Job's completions"
        ));
    };
    if index >= count {
        return Err(format!(
            "--shard auto: {K8S_INDEX}={index} is not a shard of {SHARDS_VAR}={count}: the Job's \
             completions and {SHARDS_VAR} must be equal"
        ));
    }
    Ok(Shard {
        index,
        count,
        from: Source::Kubernetes,
    })
}

/// `--shard K/N` typed by hand, against what the environment says.
fn check_fixed(
    shard: Shard,
    declared: Option<u64>,
    slurm: Option<&SlurmArray>,
) -> Result<(), String> {
    if let Some(count) = declared {
        if count != shard.count {
            return Err(format!(
                "--shard {shard} says {} shards, but {SHARDS_VAR}={count}",
                shard.count
            ));
        }
        return Ok(());
    }
    match slurm.and_then(|a| a.tasks().map(|t| (a, t))) {
        Some((array, tasks)) if tasks != shard.count => Err(format!(
            "--shard {shard} says {} shards, but this Slurm array has {}{}: {}. Use \
             --shard auto, or set {SHARDS_VAR}={} when the array reruns some shards of {}",
            shard.count,
            plural(tasks, "task"),
            array
                .ids()
                .map(|ids| format!(" (task IDs {ids})"))
                .unwrap_or_default(),
            if tasks < shard.count {
                "the lines of the shards no task runs would never be fetched"
            } else {
                "tasks past the last shard have nothing to do"
            },
            shard.count,
            shard.count
        )),
        _ => Ok(()),
    }
}

/// A variable that must be a whole number when it is set.
fn number(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<u64>, String> {
    match env(name) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} is '{v}', not a whole number")),
    }
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Vars = Vec<(String, String)>;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn plus(mut v: Vars, name: &str, value: &str) -> Vars {
        v.push((name.into(), value.into()));
        v
    }

    fn slurm(id: &str, min: &str, max: &str, count: &str) -> Vars {
        vars(&[
            (SLURM_ID, id),
            (SLURM_MIN, min),
            (SLURM_MAX, max),
            (SLURM_COUNT, count),
            (SLURM_STEP, "1"),
        ])
    }

    fn resolve_in(spec: ShardSpec, v: &Vars) -> Result<Shard, String> {
        let env = |name: &str| v.iter().find(|(k, _)| k == name).map(|(_, x)| x.clone());
        resolve(spec, &env)
    }

    fn auto(v: &Vars) -> Result<Shard, String> {
        resolve_in(ShardSpec::Auto, v)
    }

    fn fixed(k: u64, n: u64, v: &Vars) -> Result<Shard, String> {
        let shard = Shard {
            index: k,
            count: n,
            from: Source::Flag,
        };
        resolve_in(ShardSpec::Fixed(shard), v)
    }

    #[test]
    fn a_slurm_array_task_is_its_shard_of_the_array() {
        let s = auto(&slurm("3", "0", "7", "8")).unwrap();
        assert_eq!((s.index, s.count, s.from), (3, 8, Source::Slurm));
        // The count from MIN/MAX alone (older Slurm has no COUNT).
        let s = auto(&vars(&[
            (SLURM_ID, "2"),
            (SLURM_MIN, "0"),
            (SLURM_MAX, "3"),
        ]))
        .unwrap();
        assert_eq!((s.index, s.count), (2, 4));
        // The count from COUNT alone.
        let s = auto(&vars(&[(SLURM_ID, "1"), (SLURM_COUNT, "2")])).unwrap();
        assert_eq!((s.index, s.count), (1, 2));
    }

    #[test]
    fn a_slurm_array_not_numbered_from_zero_is_refused() {
        let err = auto(&slurm("1", "1", "8", "8")).unwrap_err();
        assert!(err.contains("1-8") && err.contains("--array=0-7"), "{err}");
        let stepped = vars(&[
            (SLURM_ID, "0"),
            (SLURM_MIN, "0"),
            (SLURM_MAX, "14"),
            (SLURM_COUNT, "8"),
            (SLURM_STEP, "2"),
        ]);
        let err = auto(&stepped).unwrap_err();
        assert!(err.contains("0-14:2"), "{err}");
        // A rerun of one shard: COUNT 1, but the ID is 3.
        let err = auto(&slurm("3", "3", "3", "1")).unwrap_err();
        assert!(err.contains(SHARDS_VAR), "{err}");
        let err = auto(&vars(&[(SLURM_ID, "3")])).unwrap_err();
        assert!(err.contains("unknown") && err.contains(SHARDS_VAR), "{err}");
    }

    #[test]
    fn scrape_shards_lets_an_array_rerun_some_shards() {
        let s = auto(&plus(slurm("3", "3", "5", "2"), SHARDS_VAR, "8")).unwrap();
        assert_eq!((s.index, s.count), (3, 8));
        let err = auto(&plus(slurm("9", "9", "9", "1"), SHARDS_VAR, "8")).unwrap_err();
        assert!(err.contains("task 9") && err.contains("0 to 7"), "{err}");
        assert!(auto(&vars(&[(SLURM_ID, "0"), (SHARDS_VAR, "0")])).is_err());
    }

    #[test]
    fn a_kubernetes_pod_takes_the_count_the_job_passes() {
        let s = auto(&vars(&[(K8S_INDEX, "2"), (SHARDS_VAR, "4")])).unwrap();
        assert_eq!((s.index, s.count, s.from), (2, 4, Source::Kubernetes));
        let err = auto(&vars(&[(K8S_INDEX, "2")])).unwrap_err();
        assert!(
            err.contains(SHARDS_VAR) && err.contains("completions"),
            "{err}"
        );
        let err = auto(&vars(&[(K8S_INDEX, "4"), (SHARDS_VAR, "4")])).unwrap_err();
        assert!(err.contains("completions"), "{err}");
    }

    #[test]
    fn auto_needs_exactly_one_engine_and_numbers() {
        let err = auto(&vars(&[])).unwrap_err();
        assert!(err.contains("--shard K/N"), "{err}");
        let both = vars(&[(SLURM_ID, "0"), (SLURM_COUNT, "2"), (K8S_INDEX, "0")]);
        let err = auto(&both).unwrap_err();
        assert!(err.contains("both"), "{err}");
        let err = auto(&vars(&[(SLURM_ID, "x")])).unwrap_err();
        assert!(err.contains("'x'"), "{err}");
        let err = auto(&vars(&[(K8S_INDEX, "1"), (SHARDS_VAR, "four")])).unwrap_err();
        assert!(err.contains("four"), "{err}");
    }

    #[test]
    fn a_typed_count_that_disagrees_with_the_array_is_refused() {
        // The run that lost half a list: --array=0-3 with --shard $ID/8.
        let err = fixed(1, 8, &slurm("1", "0", "3", "4")).unwrap_err();
        assert!(
            err.contains("8 shards") && err.contains("4 tasks") && err.contains("never be fetched"),
            "{err}"
        );
        assert!(fixed(1, 4, &slurm("1", "0", "3", "4")).is_ok());
        // A rerun of some shards, said so.
        assert!(fixed(3, 8, &plus(slurm("3", "3", "3", "1"), SHARDS_VAR, "8")).is_ok());
        let err = fixed(3, 8, &vars(&[(SHARDS_VAR, "4")])).unwrap_err();
        assert!(err.contains("SCRAPE_SHARDS=4"), "{err}");
        // Outside any engine, K/N is as typed.
        assert_eq!(fixed(0, 4, &vars(&[])).unwrap().count, 4);
    }
}
