//! Shared by the end-to-end tests that drive a virtual tape library
//! (`ops/vtl/vtl`) with the real `rsm` binary: the library's start/stop guard
//! and the `rsm` runner. Each test file uses the part it needs.
#![allow(dead_code)]

use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};

/// The cartridges the library starts with, in its first slots.
pub const BARCODES: [&str; 3] = ["A00001L8", "A00002L8", "A00003L8"];
/// SIGABRT: how a failpoint kills the process.
pub const SIGABRT: i32 = 6;

pub use rsm_vtl::{skip, Vtl};

/// The virtual library the root tests use: 2 drives, 6 slots, one
/// import/export port, [`BARCODES`] in the first slots.
pub fn start_vtl() -> Result<Vtl, String> {
    let barcodes = BARCODES.iter().map(|b| b.to_string()).collect();
    Vtl::start(&rsm_vtl::VtlConfig { drives: 2, slots: 6, ie_ports: 1, barcodes })
}

/// A virtual library attached as `vtl1` in a fresh data directory; `None`
/// (after saying why) when it cannot run here.
pub fn attached_vtl() -> Option<(Vtl, Rsm)> {
    let vtl = match start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => {
            skip(&reason);
            return None;
        }
    };
    let rsm = Rsm::new();
    rsm.attach("vtl1", &vtl)?;
    Some((vtl, rsm))
}

/// What the device itself says: a fresh data directory that attaches the
/// library now (its own READ ELEMENT STATUS), as `seen`.
pub fn witness(vtl: &Vtl) -> Rsm {
    let witness = Rsm::new();
    witness.run(&["library", "attach", "seen", "--iscsi", vtl.url()]).ok();
    witness
}

/// `vtl set-slot`: the operator's hand in the library.
pub fn set_slot(vtl: &Vtl, address: u64, barcode: &str) {
    vtl.set_slot(address, barcode);
}

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

    /// Runs `args` with the failpoint `name` armed to pause at its first hit,
    /// waits until the process says it paused there, and kills it with
    /// SIGKILL: a real kill at that exact moment.
    pub fn run_killed_at(&self, name: &str, args: &[&str]) -> Run {
        use std::io::BufRead;
        let mut child = self
            .command(args)
            .env("RSM_FAILPOINT", format!("{name}:1:pause"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the rsm binary runs");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut seen = String::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(&format!("failpoint {name} reached: paused")) {
                break;
            }
        }
        child.kill().expect("SIGKILL");
        let mut run = Self::finish(child.wait_with_output().expect("the killed process's output"));
        run.stderr = seen + &run.stderr;
        run
    }

    pub fn view(&self, view: &str) -> Vec<Value> {
        self.run(&["--json", "show", view]).ok().json().as_array().expect("a view is an array").clone()
    }

    /// Attaches the virtual library as `name`; None (after skipping) without libiscsi.
    pub fn attach(&self, name: &str, vtl: &Vtl) -> Option<()> {
        let attached = self.run(&["--json", "library", "attach", name, "--iscsi", vtl.url()]);
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
