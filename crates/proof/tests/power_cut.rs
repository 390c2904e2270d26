//! The power-cut torture against the real `rsm` binary: a short run cuts
//! the power in every round, at timed moments and at failpoints, checks
//! what the cut left, and leaves no mount behind. Whether rsm passes is the
//! torture's own verdict (`.ci/run` runs `rsm-proof torture --power-cuts`),
//! not this test's: this one shows the harness does what it says.

mod common;

use common::rsm_binary;
use rsm_proof::power_cut::{run, Cut};
use std::os::unix::fs::MetadataExt;

const CUTS: u64 = 4;

/// Mounts of the power-cut filesystem now.
fn powercut_mounts() -> usize {
    std::fs::read_to_string("/proc/self/mounts")
        .expect("mounts")
        .lines()
        .filter(|l| l.contains("fuse.powercut"))
        .count()
}

#[test]
fn a_short_run_cuts_the_power_every_round_and_leaves_no_mount() {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root || !std::path::Path::new("/dev/fuse").exists() {
        let reason = "mounting the power-cut filesystem needs root and /dev/fuse";
        assert!(!std::env::var("CI").is_ok_and(|ci| ci == "true"), "CI runs as root with FUSE, yet: {reason}");
        println!("skipped: {reason}");
        return;
    }
    let rsm = rsm_binary();
    let before = powercut_mounts();
    let report = run(&rsm, CUTS, 1);
    let rounds: Vec<String> = report.rounds.iter().map(|r| r.to_string()).collect();
    let context = format!("rounds:\n{}\nviolations:\n{}", rounds.join("\n"), report.violations.join("\n"));
    assert_eq!(report.cuts, CUTS, "{context}");
    assert!(report.acknowledged > 0, "no command acknowledged: nothing was tested\n{context}");
    assert!(
        report.rounds.iter().any(|r| matches!(r.cut, Cut::Failpoint { reached: true, .. })),
        "no failpoint reached\n{context}"
    );
    assert!(
        report.rounds.iter().any(|r| r.dropped.bytes > 0),
        "no cut dropped a byte: the filesystem held nothing back\n{context}"
    );
    assert!(!report.violations.iter().any(|v| v.contains("torture stopped")), "the harness could not go on\n{context}");
    assert_eq!(powercut_mounts(), before, "the run left a mount behind");
}
