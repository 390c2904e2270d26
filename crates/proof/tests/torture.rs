//! The crash torture against the real `rsm` binary: a short run must pass,
//! acknowledge real work, and reach its failpoints.

use rsm_proof::torture::{run, Kill};
use std::path::PathBuf;
use std::process::Command;

const KILLS: u64 = 6;

/// `<target dir>/<profile>/rsm`, built first if it is not there. The binary
/// belongs to another package, so `CARGO_BIN_EXE_rsm` is not available: it
/// is found from this test's own path, `<target dir>/<profile>/deps/torture-<hash>`.
fn rsm_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from <target dir>/<profile>/deps")
        .to_path_buf();
    let rsm = profile_dir.join(format!("rsm{}", std::env::consts::EXE_SUFFIX));
    if !rsm.is_file() {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--bin", "rsm"]).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "cargo build --bin rsm failed: {status}");
    }
    assert!(rsm.is_file(), "no rsm binary at {} after building it", rsm.display());
    rsm
}

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
