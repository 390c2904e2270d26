//! The crash torture against the real `rsm` binary: a short run must pass,
//! acknowledge real work, and reach its failpoints.

mod common;

use common::rsm_binary;
use rsm_proof::torture::{run, Kill};

const KILLS: u64 = 6;

#[test]
fn acknowledged_commands_survive_kills_and_failpoints() {
    let rsm = rsm_binary();
    let seed = 1;
    let report = run(&rsm, KILLS, seed);
    let rounds: Vec<String> = report.rounds.iter().map(|r| r.to_string()).collect();
    assert!(
        report.passed(),
        "seed {seed}: {} lost, violations:\n{}\nrounds:\n{}",
        report.lost,
        report.violations.join("\n"),
        rounds.join("\n")
    );
    assert_eq!(report.kills, KILLS);
    assert!(
        report.acknowledged > KILLS,
        "too little work to test anything: {}\n{}",
        report.acknowledged,
        rounds.join("\n")
    );
    // This seed's failpoint rounds name failpoints of the log and the
    // sequencer, hit at every group commit: none reached means an rsm built
    // before the failpoints (a stale binary).
    let reached = report.rounds.iter().filter(|r| matches!(r.kill, Kill::Failpoint { reached: true, .. })).count();
    assert!(
        reached > 0,
        "no failpoint was reached; is {} older than the failpoints?\n{}",
        rsm.display(),
        rounds.join("\n")
    );
}
