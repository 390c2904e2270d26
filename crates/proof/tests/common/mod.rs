//! What the tests of the real binary share.

use std::path::PathBuf;
use std::process::Command;

/// `<target dir>/<profile>/rsm`, built first if it is not there. The binary
/// belongs to another package, so `CARGO_BIN_EXE_rsm` is not available: it
/// is found from the test's own path, `<target dir>/<profile>/deps/<test>-<hash>`.
pub fn rsm_binary() -> PathBuf {
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
