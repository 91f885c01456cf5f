//! The open-files limit, checked and raised before the run starts.
//!
//! Every request in flight holds a socket, and while it connects it may
//! hold a second one (the client races a fresh connection against an idle
//! one coming free, and tries IPv6 and IPv4 side by side); kept-alive
//! connections add up to the idle cap of the connection budget
//! (`fetch/sockets.rs`); scrape itself needs a few more (standard streams,
//! lists, outputs, the client's event loop). Most systems start processes
//! with a soft limit of 1024 open files (256 on macOS) and a far higher hard
//! limit, so, as Go's runtime and most servers do, scrape raises its soft
//! limit toward the hard one when `--threads` needs more — and when even
//! the hard limit cannot hold what `--threads` needs, it stops with an
//! error that says so and how to fix it, rather than failing request after
//! request with "Too many open files".
//!
//! Whatever the limit leaves beyond the workers' needs becomes the cap on
//! kept connections (idle in the pool, or in use by a request that will
//! leave them open): up to two per worker — one for the host it is
//! fetching now, one waiting for another host's next job — fewer when the
//! limit is tight, none when it is exactly enough.

use crate::error::Fatal;

/// Files scrape needs besides its sockets (streams, outputs, event loop,
/// resolver), not counting the input lists.
pub const RESERVE: u64 = 64;

/// What the limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The soft limit to set, if it must go up.
    pub raise_to: Option<u64>,
    /// Connections the budget may keep open for reuse.
    pub keep_cap: usize,
}

/// What `threads` workers reading `lists` input files need, given the
/// current `soft` and `hard` limits.
pub fn plan(threads: usize, lists: usize, soft: u64, hard: u64) -> Result<Plan, Fatal> {
    let threads_u = threads as u64;
    let need = 2 * threads_u + RESERVE + lists as u64;
    let want = need + keep_cap(threads_u);
    let raise_to = (soft < want && hard > soft).then(|| want.min(hard));
    let limit = raise_to.unwrap_or(soft);
    if limit < need {
        return Err(Fatal::OpenFiles {
            threads,
            need,
            limit,
            hard,
            fits: (limit.saturating_sub(RESERVE + lists as u64) / 2) as usize,
        });
    }
    let keep_cap = (limit - need).min(keep_cap(threads_u)) as usize;
    Ok(Plan { raise_to, keep_cap })
}

/// The most kept connections worth having: two per worker (at least 16).
fn keep_cap(threads: u64) -> u64 {
    (2 * threads).max(16)
}

/// Raises this process's soft limit as far as `threads` workers need (and
/// the hard limit allows); returns the cap on kept connections that
/// leaves.
#[cfg(unix)]
pub fn prepare(threads: usize, lists: usize) -> Result<usize, Fatal> {
    let (soft, hard) = rlimit::Resource::NOFILE
        .get()
        .map_err(|e| Fatal::Setup(format!("cannot read the open-files limit: {e}")))?;
    let mut plan = plan(threads, lists, soft, hard)?;
    if let Some(target) = plan.raise_to {
        // macOS may refuse what getrlimit calls its hard limit:
        // `increase_nofile_limit` knows its real one, and says what it set.
        let set = rlimit::increase_nofile_limit(target).unwrap_or(soft);
        plan = self::plan(threads, lists, set, set)?;
    }
    Ok(plan.keep_cap)
}

/// Elsewhere there is no such limit to raise.
#[cfg(not(unix))]
pub fn prepare(threads: usize, _lists: usize) -> Result<usize, Fatal> {
    Ok(keep_cap(threads as u64) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_with_room_is_left_alone() {
        let p = plan(16, 1, 1_000_000, 1_000_000).unwrap();
        assert_eq!(p.raise_to, None);
        assert_eq!(p.keep_cap, 32);
    }

    #[test]
    fn the_soft_limit_is_raised_as_far_as_needed_not_further() {
        // 4096 workers: 2 × 4096 sockets + the reserve + one list, and two
        // kept connections each.
        let p = plan(4096, 1, 1024, 1 << 20).unwrap();
        assert_eq!(p.raise_to, Some(2 * 4096 + RESERVE + 1 + 2 * 4096));
        assert_eq!(p.keep_cap, 2 * 4096);
    }

    #[test]
    fn a_tight_hard_limit_shrinks_the_keep_cap() {
        // ulimit -n 1024 (soft = hard): 256 workers need 2 × 256 + 65,
        // which leaves 447 of the 512 kept connections they could use.
        let p = plan(256, 1, 1024, 1024).unwrap();
        assert_eq!(p.raise_to, None);
        assert_eq!(p.keep_cap, (1024 - 2 * 256 - RESERVE - 1) as usize);
        let p = plan(450, 1, 1024, 1024).unwrap();
        assert_eq!(p.keep_cap, (1024 - 2 * 450 - RESERVE - 1) as usize);
        let p = plan(16, 1, 256, 256).unwrap();
        assert_eq!(p.keep_cap, 32);
    }

    #[test]
    fn too_few_files_is_an_error_that_says_what_would_fit() {
        let Err(e) = plan(4096, 1, 1024, 1024) else {
            panic!("4096 workers cannot fit in 1024 files");
        };
        let text = e.to_string();
        assert!(text.contains("--threads 4096"), "{text}");
        assert!(text.contains("8257"), "{text}");
        assert!(text.contains("1024"), "{text}");
        let hint = e.hint().unwrap();
        assert!(hint.contains("ulimit -n"), "{hint}");
        assert!(hint.contains("--threads 479"), "{hint}");
        assert_eq!(e.exit_code(), crate::error::Exit::Fatal);
    }

    #[test]
    fn input_lists_count_against_the_limit() {
        assert!(plan(100, 0, 300, 300).is_ok());
        assert!(plan(100, 100, 300, 300).is_err());
    }

    #[test]
    fn an_unlimited_hard_limit_is_not_taken_literally() {
        let p = plan(64, 1, 256, u64::MAX).unwrap();
        assert_eq!(p.raise_to, Some(2 * 64 + RESERVE + 1 + 2 * 64));
    }
}
