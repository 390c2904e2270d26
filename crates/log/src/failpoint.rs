//! Failpoints: named places where a process can be made to die on purpose,
//! so the crash torture (`rsm-proof torture`) can kill the real binary at the
//! exact moments that matter instead of only at random ones.
//!
//! A failpoint is armed by the environment variable `RSM_FAILPOINT`, read
//! once per process:
//!
//! * `NAME` — the process dies at the first [`hit`] of `NAME`;
//! * `NAME:N` — the process dies at the `N`-th hit of `NAME` (`N >= 1`);
//! * `NAME:N:pause` — at that hit the process says so on stderr
//!   (`failpoint NAME reached: paused`) and stops there until it is killed,
//!   so that a test can send a real SIGKILL at that exact moment.
//!
//! Dying is [`std::process::abort`]: no destructors run, no buffer is
//! flushed, no lock is released in an orderly way — a power cut for the
//! process (the kernel's page cache survives, as it does with SIGKILL; torn
//! writes and lost fsyncs are the simulated log's business, not this one's).
//!
//! When the variable is unset (production), [`hit`] costs one atomic load.
//! A malformed value (`NAME:0`, `NAME:x`) arms nothing and says so once on
//! stderr; a name not listed below is armed but warned about, since it can
//! never be hit.
//!
//! # The failpoints
//!
//! In the log (`SledLog::append`):
//!
//! * `append.before-write` — the batch is encoded, nothing is written yet:
//!   the batch must be absent after the crash.
//! * `append.before-flush` — the batch is inserted into sled but not
//!   flushed: it may be whole or absent, never partial.
//! * `append.after-flush` — the batch is flushed, the append has not
//!   returned: it must be whole (nobody was answered yet).
//!
//! In the engine's sequencer:
//!
//! * `commit.before-reply` — a group commit succeeded, no caller has been
//!   answered and no worker woken: every command of the batch is durable
//!   though unacknowledged.
//!
//! In the engine's workers (`execute_one`, `run`, `drive_request`):
//!
//! * `worker.started` — a scheduling decision (`StartNext`) that started
//!   requests or gave one the robot is durable, no step has begun:
//!   reconciliation finds each cartridge where its current phase began.
//! * `worker.between-moves` — between two steps of one request: the first
//!   (a mount's move) is done and reported, the next (its load) not begun:
//!   reconciliation finds the cartridge half-way.
//! * `worker.before-report` — a step finished (or failed) on the hardware,
//!   its report (`AdvanceRequest`, `CompleteRequest`, `FailRequest`) is not
//!   submitted: the log is behind the hardware, and reconciliation must
//!   catch up from what the device says.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable that arms a failpoint.
pub const ENV_VAR: &str = "RSM_FAILPOINT";

/// Every failpoint name instrumented in rsm, in pipeline order.
pub const NAMES: &[&str] = &[
    "append.before-write",
    "append.before-flush",
    "append.after-flush",
    "commit.before-reply",
    "worker.started",
    "worker.between-moves",
    "worker.before-report",
];

/// What an armed failpoint does at its hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Dies at once ([`std::process::abort`]).
    Abort,
    /// Says so on stderr and waits to be killed.
    Pause,
}

/// An armed failpoint: its name, the hit that kills, the hits so far.
#[derive(Debug)]
struct Armed {
    name: String,
    at: u64,
    action: Action,
    hits: AtomicU64,
}

impl Armed {
    /// Counts a hit of `name`; true when this is the hit that kills.
    fn hit(&self, name: &str) -> bool {
        name == self.name && self.hits.fetch_add(1, Ordering::Relaxed).saturating_add(1) == self.at
    }
}

/// The armed failpoint of this process, read from [`ENV_VAR`] on the first hit.
static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

/// Parses `NAME` or `NAME:N` into the name and the hit that kills.
/// `None` for an empty name or a count that is not a positive integer.
pub fn parse(spec: &str) -> Option<(&str, u64)> {
    let (name, at) = match spec.rsplit_once(':') {
        Some((name, n)) => (name, n.parse::<u64>().ok().filter(|n| *n >= 1)?),
        None => (spec, 1),
    };
    let name = name.trim();
    (!name.is_empty()).then_some((name, at))
}

/// Parses a whole [`ENV_VAR`] value: [`parse`], with an optional `:pause`.
pub fn parse_spec(spec: &str) -> Option<(&str, u64, Action)> {
    let (spec, action) = match spec.strip_suffix(":pause") {
        Some(rest) => (rest, Action::Pause),
        None => (spec, Action::Abort),
    };
    parse(spec).map(|(name, at)| (name, at, action))
}

fn from_env() -> Option<Armed> {
    let spec = std::env::var(ENV_VAR).ok()?;
    let Some((name, at, action)) = parse_spec(&spec) else {
        eprintln!("rsm: {ENV_VAR}={spec:?} is not NAME, NAME:N or NAME:N:pause (N >= 1); no failpoint armed");
        return None;
    };
    if !NAMES.contains(&name) {
        eprintln!("rsm: {ENV_VAR} names {name:?}, which is not a failpoint of this build ({})", NAMES.join(", "));
    }
    Some(Armed { name: name.to_string(), at, action, hits: AtomicU64::new(0) })
}

/// Marks the failpoint `name`: aborts (or pauses) the process if
/// [`ENV_VAR`] armed it and this is the hit it counts to. Otherwise does
/// nothing.
#[inline]
pub fn hit(name: &'static str) {
    if let Some(armed) = ARMED.get_or_init(from_env) {
        if armed.hit(name) {
            match armed.action {
                Action::Abort => std::process::abort(),
                Action::Pause => {
                    eprintln!("failpoint {name} reached: paused");
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(3_600));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_name_and_count() {
        assert_eq!(parse("append.before-write"), Some(("append.before-write", 1)));
        assert_eq!(parse("worker.started:7"), Some(("worker.started", 7)));
        assert_eq!(parse("worker.started:0"), None);
        assert_eq!(parse("worker.started:x"), None);
        assert_eq!(parse("worker.started:"), None);
        assert_eq!(parse(":3"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse_spec("worker.started:2:pause"), Some(("worker.started", 2, Action::Pause)));
        assert_eq!(parse_spec("worker.started:pause"), Some(("worker.started", 1, Action::Pause)));
        assert_eq!(parse_spec("worker.started:2"), Some(("worker.started", 2, Action::Abort)));
        assert_eq!(parse_spec("worker.started:0:pause"), None);
    }

    #[test]
    fn armed_kills_at_the_nth_hit_of_its_name_only() {
        let armed = Armed { name: "commit.before-reply".into(), at: 3, action: Action::Abort, hits: AtomicU64::new(0) };
        assert!(!armed.hit("commit.before-reply"));
        assert!(!armed.hit("append.after-flush"));
        assert!(!armed.hit("commit.before-reply"));
        assert!(armed.hit("commit.before-reply"));
        assert!(!armed.hit("commit.before-reply"), "only the N-th hit kills");
    }

    #[test]
    fn names_are_unique() {
        let mut names = NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), NAMES.len());
    }

    /// The body of the child process of the next test: hits a failpoint until
    /// it dies. In the ordinary test run the variable is unset and it returns.
    #[test]
    fn failpoint_child() {
        if std::env::var_os(ENV_VAR).is_none() {
            return;
        }
        for i in 1..=10 {
            println!("survived {i}");
            hit("append.after-flush");
        }
    }

    #[cfg(unix)]
    #[test]
    fn hit_aborts_the_process_at_the_nth_hit() {
        use std::os::unix::process::ExitStatusExt;
        let exe = std::env::current_exe().expect("the test binary's path");
        let out = std::process::Command::new(exe)
            .args(["--exact", "failpoint::tests::failpoint_child", "--nocapture", "--test-threads=1"])
            .env(ENV_VAR, "append.after-flush:3")
            .output()
            .expect("the test binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.signal(), Some(6), "SIGABRT expected: {:?}\n{stdout}", out.status);
        assert!(stdout.contains("survived 3") && !stdout.contains("survived 4"), "{stdout}");
    }

    #[cfg(unix)]
    #[test]
    fn pause_stops_the_process_at_the_nth_hit_until_it_is_killed() {
        use std::io::BufRead;
        use std::os::unix::process::ExitStatusExt;
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut child = std::process::Command::new(exe)
            .args(["--exact", "failpoint::tests::failpoint_child", "--nocapture", "--test-threads=1"])
            .env(ENV_VAR, "append.after-flush:2:pause")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the test binary runs");
        let stderr = child.stderr.take().expect("piped stderr");
        let paused = std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("failpoint append.after-flush reached: paused"));
        assert!(paused, "the child said it paused");
        child.kill().expect("SIGKILL the paused child");
        let out = child.wait_with_output().expect("the child's output");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.signal(), Some(9), "killed, not ended: {:?}", out.status);
        assert!(stdout.contains("survived 2") && !stdout.contains("survived 3"), "{stdout}");
    }
}
