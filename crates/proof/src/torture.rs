//! Crash torture of the real `rsm` binary.
//!
//! One data directory lives for the whole run, so the log grows across
//! kills and every restart replays everything before it. Each round starts
//! `rsm --data DIR stress` (concurrent sessions mounting and dismounting;
//! it prints `ack <request> <seq>` once a command is durable) and kills it:
//!
//! * even rounds: SIGKILL after a seeded 50–500 ms;
//! * odd rounds: `RSM_FAILPOINT=<name>:<k>`, cycling through every
//!   [`failpoint::NAMES`] with a seeded `k` in 1..=20; the child aborts itself
//!   there. A child still alive after 3 s is killed and the round counted as
//!   a failpoint not reached (no violation: the load may not get that far).
//!
//! After each kill (convention 12: crash claims are exact):
//!
//! 1. the log opens and every record reads back with its hash chain
//!    verified, gapless from 1;
//! 2. every command ever acknowledged (in this round or an earlier one) is in
//!    the log, its last record at exactly the acknowledged sequence number;
//!    a missing one is *lost*;
//! 3. every command's records are contiguous: a command's events are one
//!    atomic group, whole or absent;
//! 4. `rsm --json replay --verify` (whose start-up reconciles requests left
//!    in process from the simulator's truth) exits 0 with `"ok": true`;
//! 5. `rsm --json show queue` lists no request in process;
//! 6. the recovered views, opened in process, keep every invariant.
//!
//! Then the dead load's sessions are closed (as `rsm logout` would close
//! them), so that the next load finds drives to mount in rather than only
//! the holds of clients that no longer exist.
//!
//! A process kill keeps the page cache: this proves the ordering of writes,
//! flushes and replies, and reconciliation; what a power cut leaves of the
//! files is [`crate::power_cut`]'s business, torn writes the deterministic
//! simulation's.

use crate::harness::{aborted, torture_main, Checker, Ledger, RoundsReport};
use rsm_log::{failpoint, SledLog};
use rsm_model::splitmix64;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Shortest SIGKILL delay: long enough to be past start-up sometimes, short
/// enough that some kills land during start-up and reconciliation.
const KILL_AFTER_MS_MIN: u64 = 50;
/// Longest SIGKILL delay.
const KILL_AFTER_MS_MAX: u64 = 500;
/// A failpoint kills at a seeded hit in 1..=this: later hits find the
/// process in a steady state, the first ones in start-up.
const FAILPOINT_HIT_MAX: u64 = 20;
/// How long a failpoint round waits for the child to abort itself.
pub(crate) const FAILPOINT_WAIT: Duration = Duration::from_secs(3);

/// What a torture run found. Serialized (`--json`) as exactly
/// `{"kills":N,"acknowledged":A,"lost":L,"violations":[...]}`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TortureReport {
    /// Kills carried out (each followed by the checks).
    pub kills: u64,
    /// Commands acknowledged by the killed children, over all rounds.
    pub acknowledged: u64,
    /// Acknowledged commands missing from the log.
    pub lost: u64,
    /// Every broken claim, each naming its kill.
    pub violations: Vec<String>,
    /// Each kill and what its checks found (not serialized).
    #[serde(skip)]
    pub rounds: Vec<Round>,
}

impl TortureReport {
    /// Kills after which some check failed.
    pub fn failed_kills(&self) -> u64 {
        self.rounds.iter().filter(|r| r.violations > 0).count() as u64
    }

    /// Failpoint rounds whose child was still alive after the wait.
    pub fn failpoints_unreached(&self) -> u64 {
        self.rounds.iter().filter(|r| matches!(r.kill, Kill::Failpoint { reached: false, .. })).count() as u64
    }

    /// True when nothing was lost and no claim was broken.
    pub fn passed(&self) -> bool {
        self.lost == 0 && self.violations.is_empty()
    }
}

/// How a round's child died.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kill {
    /// SIGKILL from the harness.
    Sigkill {
        /// Milliseconds after the spawn.
        after_ms: u64,
    },
    /// `RSM_FAILPOINT=name:hit`.
    Failpoint {
        /// The failpoint.
        name: &'static str,
        /// The hit that aborts.
        hit: u64,
        /// False when the child was still alive after the wait (then SIGKILLed).
        reached: bool,
    },
}

impl std::fmt::Display for Kill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kill::Sigkill { after_ms } => write!(f, "SIGKILL after {after_ms} ms"),
            Kill::Failpoint { name, hit, reached: true } => write!(f, "failpoint {name}:{hit}"),
            Kill::Failpoint { name, hit, reached: false } => {
                write!(f, "failpoint {name}:{hit} not reached in {} s, SIGKILL", FAILPOINT_WAIT.as_secs())
            }
        }
    }
}

/// One kill and its checks.
#[derive(Clone, Debug)]
pub struct Round {
    /// 0-based.
    pub index: u64,
    /// How the child died.
    pub kill: Kill,
    /// Seed of the child's load.
    pub load_seed: u64,
    /// Commands the child acknowledged.
    pub acks: u64,
    /// Records in the log after the kill.
    pub records: u64,
    /// Violations found after this kill.
    pub violations: usize,
}

impl std::fmt::Display for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kill {:>3}: {:<52} {:>5} acks, log {:>6} records: {}",
            self.index,
            self.kill.to_string(),
            self.acks,
            self.records,
            if self.violations == 0 { "ok".to_string() } else { format!("{} VIOLATIONS", self.violations) }
        )
    }
}

/// How round `round` of a run seeded `seed` kills, and the seed of its load.
pub(crate) fn plan(seed: u64, round: u64) -> (Kill, u64) {
    let a = splitmix64(seed ^ splitmix64(round.wrapping_add(1)));
    let load_seed = splitmix64(a);
    let kill = if round.is_multiple_of(2) {
        Kill::Sigkill { after_ms: KILL_AFTER_MS_MIN + a % (KILL_AFTER_MS_MAX - KILL_AFTER_MS_MIN + 1) }
    } else {
        // The cycle starts at a seeded name, so short runs of other seeds reach other names.
        let names = failpoint::NAMES.len() as u64;
        let name = failpoint::NAMES[((round / 2 + seed % names) % names) as usize];
        Kill::Failpoint { name, hit: 1 + a % FAILPOINT_HIT_MAX, reached: false }
    };
    (kill, load_seed)
}

/// Runs `kills` kills of `rsm` (the binary) under load, seeded by `seed`.
pub fn run(rsm: &Path, kills: u64, seed: u64) -> TortureReport {
    run_with(rsm, kills, seed, |_, _| {})
}

/// [`run`], calling `progress` after each kill with the round and its violations.
pub fn run_with(rsm: &Path, kills: u64, seed: u64, mut progress: impl FnMut(&Round, &[String])) -> TortureReport {
    let mut report = TortureReport::default();
    if std::env::var_os(failpoint::ENV_VAR).is_some() {
        // The harness appends to the log itself (closing sessions): armed, it would kill itself.
        report.violations.push(format!("{} is set in the harness's own environment; unset it", failpoint::ENV_VAR));
        return report;
    }
    let work = match tempfile::tempdir() {
        Ok(w) => w,
        Err(e) => {
            report.violations.push(format!("cannot create the data directory: {e}"));
            return report;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            report.violations.push(format!("cannot start a runtime: {e}"));
            return report;
        }
    };
    let checker = Checker { rsm, work: work.path(), data: work.path().join("data"), rt, round_noun: "kill" };
    let mut ledger = Ledger::default();
    for index in 0..kills {
        let (kill, load_seed) = plan(seed, index);
        let first_violation = report.violations.len();
        let mut violations = Vec::new();
        let mut round = Round { index, kill, load_seed, acks: 0, records: 0, violations: 0 };
        let fatal = kill_round(&checker, &mut round, &mut ledger, &mut report, &mut violations);
        report.kills += 1;
        round.violations = violations.len();
        let prefix = format!("kill {index} ({}, load seed {load_seed})", round.kill);
        report.violations.extend(violations.into_iter().map(|v| format!("{prefix}: {v}")));
        progress(&round, &report.violations[first_violation..]);
        report.rounds.push(round);
        if fatal {
            report.violations.push(format!("torture stopped after kill {index}: nothing after it can be checked"));
            break;
        }
    }
    report
}

/// One kill and its checks. Returns true when the run cannot go on.
fn kill_round(
    checker: &Checker<'_>,
    round: &mut Round,
    ledger: &mut Ledger,
    report: &mut TortureReport,
    v: &mut Vec<String>,
) -> bool {
    let (deadline, armed) = match &round.kill {
        Kill::Sigkill { after_ms } => (Duration::from_millis(*after_ms), None),
        Kill::Failpoint { name, hit, .. } => (FAILPOINT_WAIT, Some(format!("{name}:{hit}"))),
    };
    let end = match checker.run_load(checker.load(round.load_seed, armed), deadline, || {}) {
        Ok(end) => end,
        Err(e) => {
            v.push(format!("cannot run {}: {e}", checker.rsm.display()));
            return true;
        }
    };
    let stderr = &end.stderr;
    match (&mut round.kill, end.status) {
        (Kill::Sigkill { .. }, Some(status)) => {
            v.push(format!("the load exited by itself ({status}) before the kill; stderr: {stderr}"))
        }
        (Kill::Sigkill { .. }, None) => {}
        (Kill::Failpoint { reached, .. }, Some(status)) if aborted(&status) => *reached = true,
        (Kill::Failpoint { .. }, Some(status)) => {
            v.push(format!("the load exited ({status}) without reaching the failpoint; stderr: {stderr}"))
        }
        (Kill::Failpoint { .. }, None) => {}
    }
    v.extend(end.acks.malformed.iter().map(|l| format!("unreadable acknowledgement line {l:?}")));
    round.acks = end.acks.acked.len() as u64;
    report.acknowledged += round.acks;
    ledger.record(&end.acks.acked, round.index);

    let log = match SledLog::open(&checker.data.join("log")) {
        Ok(log) => log,
        Err(e) => {
            v.push(format!("the log does not open: {e}"));
            return true;
        }
    };
    match checker.check_log(log, round.index, ledger, &mut report.lost, v) {
        Some(records) => round.records = records,
        None => return true,
    }
    checker.check_engine(v)
}

/// Entry point of `rsm-proof torture`.
pub fn main(kills: u64, seed: u64, rsm: Option<PathBuf>, json: bool) -> ExitCode {
    let rerun = format!("rsm-proof torture --kills {kills} --seed {seed}");
    torture_main(rsm, json, "kill ", &rerun, |rsm, progress| run_with(rsm, kills, seed, progress))
}

impl RoundsReport for TortureReport {
    fn passed(&self) -> bool {
        TortureReport::passed(self)
    }

    fn rounds(&self) -> u64 {
        self.kills
    }

    fn failed_rounds(&self) -> u64 {
        self.failed_kills()
    }

    fn tally(&self, elapsed: Duration) -> String {
        let failpoints = self.rounds.iter().filter(|r| matches!(r.kill, Kill::Failpoint { .. })).count();
        format!(
            "{} kills ({} SIGKILL, {} at failpoints of which {} not reached) in {:.1} s: \
             {} commands acknowledged, {} lost",
            self.kills,
            self.rounds.len() - failpoints,
            failpoints,
            self.failpoints_unreached(),
            elapsed.as_secs_f64(),
            self.acknowledged,
            self.lost
        )
    }

    fn violations(&self) -> &[String] {
        &self.violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_plan_alternates_and_cycles_through_every_failpoint() {
        let plans: Vec<Kill> = (0..2 * failpoint::NAMES.len() as u64).map(|r| plan(9, r).0).collect();
        let mut names = HashSet::new();
        for (round, kill) in plans.iter().enumerate() {
            match kill {
                Kill::Sigkill { after_ms } => {
                    assert!(round % 2 == 0 && (KILL_AFTER_MS_MIN..=KILL_AFTER_MS_MAX).contains(after_ms))
                }
                Kill::Failpoint { name, hit, reached } => {
                    assert!(round % 2 == 1 && (1..=FAILPOINT_HIT_MAX).contains(hit) && !reached);
                    names.insert(*name);
                }
            }
        }
        assert_eq!(names.len(), failpoint::NAMES.len());
        assert_eq!(plan(9, 5), plan(9, 5), "seeded");
    }

    #[test]
    fn the_report_serializes_to_exactly_four_fields() {
        let report = TortureReport {
            kills: 2,
            acknowledged: 5,
            lost: 0,
            violations: vec!["x".into()],
            rounds: vec![Round {
                index: 0,
                kill: Kill::Sigkill { after_ms: 60 },
                load_seed: 1,
                acks: 5,
                records: 9,
                violations: 1,
            }],
        };
        assert_eq!(
            serde_json::to_string(&report).expect("serializes"),
            r#"{"kills":2,"acknowledged":5,"lost":0,"violations":["x"]}"#
        );
        assert_eq!(report.failed_kills(), 1);
    }
}
