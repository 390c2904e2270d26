//! Hardware faults against a virtual tape library (tgt's SMC changer and SSC
//! drives over iSCSI, `ops/vtl/vtl`), each command a real `rsm` process:
//!
//! * a MOVE MEDIUM that the device refuses with CHECK CONDITION fails the
//!   request with the mapped NTMS code and keeps the sense data;
//! * a process that dies in the middle of a mount (failpoints) leaves a
//!   request in process, which the next open settles from the device's READ
//!   ELEMENT STATUS, never by guessing.
//!
//! Without tgt the tests print `skipped: <reason>` and pass, except under CI
//! (`CI=true`), whose script installs it: there they fail instead.

use serde_json::Value;
use std::collections::HashMap;
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The cartridges the library starts with, in its first slots.
const BARCODES: [&str; 3] = ["A00001L8", "A00002L8", "A00003L8"];
/// `vtl up` tries this many ports: another process may take a free port
/// between the check and tgtd's bind.
const UP_ATTEMPTS: usize = 3;
/// NTMS codes the tests expect.
const ERROR_NOT_READY: u64 = 21;
const ERROR_MEDIUM_NOT_ACCESSIBLE: u64 = 4323;
/// SIGABRT: how a failpoint kills the process.
const SIGABRT: i32 = 6;

/// A running virtual library; dropping it runs `vtl down`, also when the test fails.
struct Vtl {
    script: PathBuf,
    dir: tempfile::TempDir,
    /// The changer's URL, `vtl up`'s last line.
    url: String,
    /// `DIR/vtl.env`.
    env: HashMap<String, String>,
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
    fn env_u64(&self, key: &str) -> u64 {
        self.env.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("vtl.env has no number {key}"))
    }
}

/// The virtual library (2 drives, 6 slots, [`BARCODES`]), or why it cannot run here.
fn start_vtl() -> Result<Vtl, String> {
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
fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        if !port.is_multiple_of(32768) {
            return port;
        }
    }
}

/// Prints why the test cannot run and passes; fails instead under CI.
fn skip(reason: &str) {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI installs tgt and libiscsi, yet: {reason}");
    }
    println!("skipped: {reason}");
}

/// Runs `vtl set-slot`: changes a slot behind rsm's back.
fn set_slot(vtl: &Vtl, address: u64, barcode: &str) {
    let out = Command::new(&vtl.script)
        .args(["set-slot", "--dir"])
        .arg(vtl.dir.path())
        .args([&address.to_string(), barcode])
        .output()
        .expect("vtl set-slot runs");
    assert!(out.status.success(), "vtl set-slot: {}", String::from_utf8_lossy(&out.stderr));
}

/// An `rsm` data directory.
struct Rsm {
    dir: tempfile::TempDir,
}

struct Run {
    code: i32,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
    /// A rejection or a failed request: exit 2, `NAME (code): sentence` on stderr.
    fn rejected(self, name: &str, code: u64) -> Self {
        assert_eq!(self.code, 2, "expected {name}; stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert!(self.stderr.starts_with(&format!("{name} ({code}): ")), "stderr: {}", self.stderr);
        self
    }
    /// Killed by a failpoint (abort).
    fn aborted(self) -> Self {
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
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rsm"));
        command.arg("--data").arg(self.dir.path().join("data")).args(["--user", "admin"]).args(args);
        command.env_remove("RSM_FAILPOINT");
        command
    }

    fn finish(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        Self::finish(self.command(args).output().expect("the rsm binary runs"))
    }

    /// Runs with the failpoint `spec` (`NAME[:N]`) armed.
    fn run_failing(&self, spec: &str, args: &[&str]) -> Run {
        Self::finish(self.command(args).env("RSM_FAILPOINT", spec).output().expect("the rsm binary runs"))
    }

    fn view(&self, view: &str) -> Vec<Value> {
        self.run(&["--json", "show", view]).ok().json().as_array().expect("a view is an array").clone()
    }

    /// Attaches the virtual library as `name`; None (after skipping) without libiscsi.
    fn attach(&self, name: &str, vtl: &Vtl) -> Option<()> {
        let attached = self.run(&["--json", "library", "attach", name, "--iscsi", &vtl.url]);
        if attached.code != 0 && attached.stderr.contains("libiscsi") {
            skip(&attached.stderr);
            return None;
        }
        attached.ok();
        Some(())
    }

    fn replay_ok(&self) {
        let replay = self.run(&["--json", "replay", "--verify"]).ok().json();
        assert_eq!(replay["ok"], true, "{replay}");
    }
}

fn find<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter().find(|r| r[key] == value).unwrap_or_else(|| panic!("no row with {key} = {value}: {rows:?}"))
}

/// The requests for `barcode`, in the order the queue view lists them.
fn requests_of(queue: &[Value], barcode: &str) -> Vec<Value> {
    queue.iter().filter(|r| r["barcode"] == barcode).cloned().collect()
}

#[test]
fn a_failed_move_is_reported_with_its_sense_data() {
    let vtl = match start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => return skip(&reason),
    };
    let slot_first = vtl.env_u64("SLOT_FIRST");
    let rsm = Rsm::new();
    if rsm.attach("vtl1", &vtl).is_none() {
        return;
    }

    // The operator takes A00002L8 out of its slot behind rsm's back: the
    // robot's MOVE MEDIUM from that slot gets CHECK CONDITION, ILLEGAL
    // REQUEST, MEDIUM SOURCE ELEMENT EMPTY (05/3B/0E).
    set_slot(&vtl, slot_first + 1, "empty");
    let failed =
        rsm.run(&["mount", "A00002L8", "--wait"]).rejected("ERROR_MEDIUM_NOT_ACCESSIBLE", ERROR_MEDIUM_NOT_ACCESSIBLE);
    assert!(failed.stderr.contains("05/3B/0E"), "the sense is printed: {}", failed.stderr);

    let queue = rsm.view("queue");
    let mounts = requests_of(&queue, "A00002L8");
    assert_eq!(mounts.len(), 1, "{queue:?}");
    let mount = &mounts[0];
    assert_eq!((mount["kind"].as_str(), mount["state"].as_str()), (Some("mount"), Some("failed")), "{mount}");
    assert_eq!(mount["error"], "ERROR_MEDIUM_NOT_ACCESSIBLE", "{mount}");
    assert_eq!(mount["error_code"], ERROR_MEDIUM_NOT_ACCESSIBLE, "{mount}");
    assert_eq!(mount["sense"], "05/3B/0E", "{mount}");

    // The worker asked the device where the cartridge is (READ ELEMENT
    // STATUS): nowhere, so it is offline and keeps its home slot.
    let media = rsm.view("media");
    let gone = find(&media, "barcode", "A00002L8");
    assert_eq!(
        (gone["location"].as_str(), gone["home_slot"].as_str()),
        (Some("offline"), Some("vtl1-slot-2")),
        "{gone}"
    );
    // Nothing was loaded, and the other cartridges are unaffected.
    assert!(rsm.view("drives").iter().all(|d| d["state"] == "dismounted" && d["barcode"].is_null()));
    let mounted = rsm.run(&["--json", "mount", "A00003L8", "--wait"]).ok().json();
    assert_eq!(mounted["state"], "completed", "{mounted}");

    rsm.replay_ok();
}

#[test]
fn a_crash_in_the_middle_of_a_move_is_reconciled_from_the_device() {
    let vtl = match start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => return skip(&reason),
    };
    let (drive_first, slot_first) = (vtl.env_u64("DRIVE_FIRST"), vtl.env_u64("SLOT_FIRST"));
    let rsm = Rsm::new();
    if rsm.attach("vtl1", &vtl).is_none() {
        return;
    }

    // 1. The robot moved A00001L8 into the drive, the move was reported, and
    //    the process died before the load was.
    rsm.run_failing("worker.between-moves:1", &["mount", "A00001L8", "--wait"]).aborted();

    // The device says where the cartridge is: another data directory
    // attaching now (its own READ ELEMENT STATUS) finds it in the first drive.
    let witness = Rsm::new();
    witness.run(&["library", "attach", "seen", "--iscsi", &vtl.url]).ok();
    let seen = witness.view("drives").into_iter().find(|d| d["address"] == drive_first).expect("drive listed");
    assert_eq!((seen["state"].as_str(), seen["barcode"].as_str()), (Some("loaded"), Some("A00001L8")), "{seen}");

    // Opening the engine reconciles the request left in process from the device.
    let queue = rsm.view("queue");
    let mounts = requests_of(&queue, "A00001L8");
    assert_eq!(mounts.len(), 1, "one request, settled: {queue:?}");
    assert_eq!(mounts[0]["state"], "completed", "{}", mounts[0]);
    assert!(mounts[0]["error"].is_null(), "{}", mounts[0]);
    let drives = rsm.view("drives");
    let d1 = find(&drives, "name", "vtl1-drive-1");
    assert_eq!((d1["state"].as_str(), d1["barcode"].as_str()), (Some("loaded"), Some("A00001L8")), "{d1}");
    let slots = rsm.view("slots");
    let first = slots.iter().find(|s| s["address"] == slot_first).expect("slot listed");
    assert!(first["barcode"].is_null(), "the cartridge left its slot: {first}");

    // 2. The process dies after the scheduler started the mount, before the
    //    robot moved anything: the cartridge is still in its slot.
    rsm.run_failing("worker.started:1", &["mount", "A00002L8", "--wait"]).aborted();
    let queue = rsm.view("queue");
    let mounts = requests_of(&queue, "A00002L8");
    assert_eq!(mounts.len(), 2, "the failed request and its successor: {queue:?}");
    let failed = find(&mounts, "state", "failed");
    assert_eq!(failed["error"], "ERROR_NOT_READY", "{failed}");
    assert_eq!(failed["error_code"], ERROR_NOT_READY, "{failed}");
    assert!(failed["sense"].is_null(), "no device said anything: {failed}");
    let again = find(&mounts, "state", "queued");
    assert_ne!(again["id"], failed["id"], "a new request");
    assert_eq!(again["kind"], "mount");
    let slots = rsm.view("slots");
    let second = slots.iter().find(|s| s["address"] == slot_first + 1).expect("slot listed");
    assert_eq!(second["barcode"], "A00002L8", "the cartridge never left its slot: {second}");

    rsm.run(&["run", "--until-idle"]).ok();
    let queue = rsm.view("queue");
    let again_id = again["id"].as_str().expect("an id");
    let done = find(&queue, "id", again_id);
    assert_eq!(done["state"], "completed", "{done}");
    let drives = rsm.view("drives");
    let d2 = find(&drives, "name", "vtl1-drive-2");
    assert_eq!((d2["state"].as_str(), d2["barcode"].as_str()), (Some("loaded"), Some("A00002L8")), "{d2}");

    rsm.replay_ok();
}
