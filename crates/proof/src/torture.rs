//! Crash torture of the real binary (being written).

use std::path::PathBuf;
use std::process::ExitCode;

/// Entry point of `rsm-proof torture`.
pub fn main(_kills: u64, _seed: u64, _rsm: Option<PathBuf>, _json: bool) -> ExitCode {
    eprintln!("torture is not available in this build");
    ExitCode::from(1)
}
