//! Test support for the virtual tape library: `ops/vtl/vtl` runs tgt's SMC
//! changer and SSC drives over iSCSI on 127.0.0.1; [`Vtl::start`] starts one
//! in a temporary directory for a test and its `Drop` always stops it (`vtl
//! down`, which stops tgtd by its pid), also when the test fails.
//!
//! Owns: starting, changing and stopping virtual libraries for tests, and
//! the policy of [`skip`]. Must not touch: rsm itself (it depends on no rsm
//! crate, so every layer's tests can use it). A dev-dependency only.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `vtl up` tries this many ports: another process may take a free port
/// between the check and tgtd's bind.
pub const UP_ATTEMPTS: usize = 3;

/// The shape of a virtual library.
#[derive(Clone, Debug)]
pub struct VtlConfig {
    /// Tape drives (LUNs of the target, data transfer elements).
    pub drives: u16,
    /// Storage slots.
    pub slots: u16,
    /// Import/export elements.
    pub ie_ports: u16,
    /// Cartridges, in the first slots.
    pub barcodes: Vec<String>,
}

/// A running virtual library; dropping it runs `vtl down`.
pub struct Vtl {
    script: PathBuf,
    dir: tempfile::TempDir,
    config: VtlConfig,
    port: u16,
    url: String,
    env: HashMap<String, String>,
}

impl Drop for Vtl {
    fn drop(&mut self) {
        // A test that failed while tgtd was paused must not leave it paused.
        self.resume();
        match Command::new(&self.script).arg("down").arg("--dir").arg(self.dir.path()).output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!("vtl down failed: {}", String::from_utf8_lossy(&output.stderr)),
            Err(error) => eprintln!("vtl down could not run: {error}"),
        }
    }
}

impl Vtl {
    /// Starts a virtual library shaped as `config` on a free loopback port.
    ///
    /// `Err(reason)` only when it cannot run on this machine (the script is
    /// missing, tgt is not installed): the caller then [`skip`]s. Panics if
    /// tgtd does not come up in [`UP_ATTEMPTS`] tries.
    pub fn start(config: &VtlConfig) -> Result<Vtl, String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ops/vtl/vtl");
        if !script.exists() {
            return Err(format!("{} is missing", script.display()));
        }
        let mut last_failure = String::new();
        for _ in 0..UP_ATTEMPTS {
            let dir = tempfile::Builder::new().prefix("vtl").tempdir().expect("a temporary directory");
            let port = free_port();
            // From here on the guard exists, so a failure below still runs `down`.
            let mut vtl = Vtl {
                script: script.clone(),
                dir,
                config: config.clone(),
                port,
                url: String::new(),
                env: HashMap::new(),
            };
            let output = vtl.up();
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

    /// The changer's iSCSI URL (`vtl up`'s last line).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The loopback port tgtd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The library's directory (state, control socket, `vtl.env`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A number from `DIR/vtl.env` (element addresses, counts, LUNs).
    pub fn env_u16(&self, key: &str) -> u16 {
        self.env.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("vtl.env has no number {key}"))
    }

    /// [`Vtl::env_u16`], widened.
    pub fn env_u64(&self, key: &str) -> u64 {
        u64::from(self.env_u16(key))
    }

    /// A comma-separated list from `DIR/vtl.env`.
    pub fn env_list(&self, key: &str) -> Vec<String> {
        let value = self.env.get(key).unwrap_or_else(|| panic!("vtl.env has no {key}"));
        value.split(',').filter(|v| !v.is_empty()).map(str::to_owned).collect()
    }

    /// `vtl set-slot`: the operator changes a slot or an import/export
    /// element behind every client's back (`content` is a bar code or `empty`).
    pub fn set_slot(&self, address: impl Into<u64>, content: &str) {
        let dir = self.dir.path().to_string_lossy();
        let address = address.into().to_string();
        let output = run_vtl(&self.script, &["set-slot", "--dir", &dir, &address, content]);
        assert!(output.status.success(), "vtl set-slot: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// `vtl down`: the library is gone (its connections closed), as a
    /// library powered off or unplugged would be.
    pub fn stop(&self) {
        let down = run_vtl(&self.script, &["down", "--dir", &self.dir.path().to_string_lossy()]);
        assert!(down.status.success(), "vtl down: {}", String::from_utf8_lossy(&down.stderr));
    }

    /// Stops tgtd (SIGSTOP): it keeps its connections but answers nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused tgtd run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// `vtl down` then `vtl up` again in the same directory, on the same
    /// port: a target that restarts under a connected initiator.
    pub fn restart(&mut self) {
        let down = run_vtl(&self.script, &["down", "--dir", &self.dir.path().to_string_lossy()]);
        assert!(down.status.success(), "vtl down: {}", String::from_utf8_lossy(&down.stderr));
        let up = self.up();
        assert!(up.status.success(), "vtl up again: {}", String::from_utf8_lossy(&up.stderr));
    }

    fn up(&self) -> Output {
        let c = &self.config;
        let (dir, port) = (self.dir.path().to_string_lossy().into_owned(), self.port.to_string());
        let (drives, slots, ie) = (c.drives.to_string(), c.slots.to_string(), c.ie_ports.to_string());
        let barcodes = c.barcodes.join(",");
        let mut args = vec!["up", "--dir", &dir, "--port", &port, "--drives", &drives, "--slots", &slots];
        args.extend(["--ie-ports", &ie, "--barcodes", &barcodes]);
        run_vtl(&self.script, &args)
    }

    fn signal(&self, signal: &str) {
        let Some(pid) = self.env.get("PID") else { return };
        match Command::new("kill").args([signal, pid]).status() {
            Ok(status) if status.success() => {}
            other => eprintln!("kill {signal} {pid}: {other:?}"),
        }
    }
}

fn run_vtl(script: &Path, args: &[&str]) -> Output {
    Command::new(script).args(args).output().unwrap_or_else(|e| panic!("{} could not run: {e}", script.display()))
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

/// Prints why a test cannot run and lets it pass; fails it instead under
/// CI (`CI=true`), whose script installs tgt and libiscsi, so that a missing
/// dependency is never hidden there.
pub fn skip(reason: &str) {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI installs tgt and libiscsi, yet: {reason}");
    }
    println!("skipped: {reason}");
}
