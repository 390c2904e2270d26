//! Shared by the end-to-end tests that drive a virtual tape library
//! (`ops/vtl/vtl`) with the real `rsm` binary: the library's start/stop guard
//! and the `rsm` runner. Each test file uses the part it needs.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The cartridges the library starts with, in its first slots.
pub const BARCODES: [&str; 3] = ["A00001L8", "A00002L8", "A00003L8"];
/// `vtl up` tries this many ports: another process may take a free port
/// between the check and tgtd's bind.
pub const UP_ATTEMPTS: usize = 3;
/// SIGABRT: how a failpoint kills the process.
pub const SIGABRT: i32 = 6;

/// A running virtual library; dropping it runs `vtl down`, also when the test fails.
pub struct Vtl {
    pub script: PathBuf,
    pub dir: tempfile::TempDir,
    /// The changer's URL, `vtl up`'s last line.
    pub url: String,
    /// `DIR/vtl.env`.
    pub env: HashMap<String, String>,
}

impl Drop for Vtl {
    fn drop(&mut self) {
        match Command::new(&self.script).arg("down").arg("--dir").arg(self.dir.path()).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!("vtl down failed: {}", String::from_utf8_lossy(&output.stderr)),
            Err(error) => eprintln!("vtl down could not run: {error}"),
        }
    }
}

impl Vtl {
    pub fn env_u64(&self, key: &str) -> u64 {
        self.env.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("vtl.env has no number {key}"))
    }
}

/// The virtual library (2 drives, 6 slots, [`BARCODES`]), or why it cannot run here.
pub fn start_vtl() -> Result<Vtl, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/vtl/vtl");
    if !script.exists() {
        return Err(format!("{} is missing", script.display()));
    }
    let mut last_failure = String::new();
    for _ in 0..UP_ATTEMPTS {
        let dir = tempfile::Builder::new().prefix("vtl").tempdir().expect("a temporary directory");
        let port = free_port();
        // From here on the guard exists, so a failure below still runs `down`.
        let mut vtl = Vtl { script: script.clone(), dir, url: String::new(), env: HashMap::new() };
        let dir = vtl.dir.path().to_string_lossy().into_owned();
        let barcodes = BARCODES.join(",");
        let output = Command::new(&script)
            .args(["up", "--dir", &dir, "--port", &port.to_string(), "--drives", "2", "--slots", "6"])
            .args(["--barcodes", &barcodes])
            .output()
            .unwrap_or_else(|e| panic!("{} could not run: {e}", script.display()));
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        match output.status.code() {
            Some(0) => {}
            Some(3) => return Err(format!("tgt is not installed ({stderr})")),
            _ => {
                last_failure = format!("vtl up --port {port}: {stderr}");
                continue;
            }
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        vtl.url = stdout.lines().last().unwrap_or_default().trim().to_owned();
        let env_text = std::fs::read_to_string(vtl.dir.path().join("vtl.env")).expect("vtl.env after vtl up");
        vtl.env = env_text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        return Ok(vtl);
    }
    panic!("the virtual library did not start in {UP_ATTEMPTS} attempts; last: {last_failure}");
}

/// A loopback port nobody listens on now. tgtd's control port is the port
/// modulo 32768, so 32768 itself (control port 0, tgtd's default) is avoided.
pub fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        if !port.is_multiple_of(32768) {
            return port;
        }
    }
}

/// Prints why the test cannot run and passes; fails instead under CI.
pub fn skip(reason: &str) {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI installs tgt and libiscsi, yet: {reason}");
    }
    println!("skipped: {reason}");
}

/// Runs `vtl set-slot`: changes a slot behind rsm's back.
pub fn set_slot(vtl: &Vtl, address: u64, barcode: &str) {
    let out = Command::new(&vtl.script)
        .args(["set-slot", "--dir"])
        .arg(vtl.dir.path())
        .args([&address.to_string(), barcode])
        .output()
        .expect("vtl set-slot runs");
    assert!(out.status.success(), "vtl set-slot: {}", String::from_utf8_lossy(&out.stderr));
}

/// An `rsm` data directory.
pub struct Rsm {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
    /// A rejection or a failed request: exit 2, `NAME (code): sentence` on stderr.
    pub fn rejected(self, name: &str, code: u64) -> Self {
        assert_eq!(self.code, 2, "expected {name}; stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert!(self.stderr.starts_with(&format!("{name} ({code}): ")), "stderr: {}", self.stderr);
        self
    }
    /// Killed by a failpoint (abort).
    pub fn aborted(self) -> Self {
        assert_eq!(
            self.signal,
            Some(SIGABRT),
            "expected SIGABRT; code {}\nstdout: {}\nstderr: {}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }
}

impl Rsm {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rsm"));
        command.arg("--data").arg(self.dir.path().join("data")).args(["--user", "admin"]).args(args);
        command.env_remove("RSM_FAILPOINT");
        command
    }

    pub fn finish(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs as another principal.
    pub fn run_as(&self, user: &str, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rsm"));
        command.arg("--data").arg(self.dir.path().join("data")).args(["--user", user]).args(args);
        command.env_remove("RSM_FAILPOINT");
        Self::finish(command.output().expect("the rsm binary runs"))
    }

    /// Bar code per slot address ("" for an empty slot).
    pub fn slots(&self) -> Vec<(u64, String)> {
        self.view("slots")
            .iter()
            .map(|s| (s["address"].as_u64().expect("address"), s["barcode"].as_str().unwrap_or("").to_owned()))
            .collect()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Self::finish(self.command(args).output().expect("the rsm binary runs"))
    }

    /// Runs with the failpoint `spec` (`NAME[:N]`) armed.
    pub fn run_failing(&self, spec: &str, args: &[&str]) -> Run {
        Self::finish(self.command(args).env("RSM_FAILPOINT", spec).output().expect("the rsm binary runs"))
    }

    pub fn view(&self, view: &str) -> Vec<Value> {
        self.run(&["--json", "show", view]).ok().json().as_array().expect("a view is an array").clone()
    }

    /// Attaches the virtual library as `name`; None (after skipping) without libiscsi.
    pub fn attach(&self, name: &str, vtl: &Vtl) -> Option<()> {
        let attached = self.run(&["--json", "library", "attach", name, "--iscsi", &vtl.url]);
        if attached.code != 0 && attached.stderr.contains("libiscsi") {
            skip(&attached.stderr);
            return None;
        }
        attached.ok();
        Some(())
    }

    pub fn replay_ok(&self) {
        let replay = self.run(&["--json", "replay", "--verify"]).ok().json();
        assert_eq!(replay["ok"], true, "{replay}");
    }
}
