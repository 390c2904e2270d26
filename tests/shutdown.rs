//! `rsm run` stops cleanly on SIGTERM and SIGINT: no new step starts, the
//! steps under way finish and are reported, every request it was carrying
//! is settled (none is left in process), and it exits 0.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;
use support::Rsm;

const SIGTERM: &str = "-TERM";
const SIGINT: &str = "-INT";
/// Each simulated move, load and unload takes this long, so that the
/// signal finds steps under way.
const STEP_MS: &str = "150";

fn signal_run(signal: &str) {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "p", "--drives", "3", "--slots", "8", "--media", "6"]).ok();
    for barcode in ["P0001L8", "P0002L8", "P0003L8"] {
        rsm.run(&["mount", barcode]).ok();
    }
    let mut child = rsm
        .command(&["--sim-step-ms", STEP_MS, "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rsm run starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("rsm run says it is running");
    assert!(line.contains("workers running"), "{line}");
    // Well inside the first mount's move and load.
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::process::Command::new("kill").arg(signal).arg(child.id().to_string()).status();
    assert!(sent.expect("kill runs").success(), "the signal was sent");
    let status = child.wait().expect("rsm run ends");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("the rest of stderr");
    assert_eq!(status.code(), Some(0), "exit status {status:?}; stderr: {line}{rest}");
    assert!(!rest.contains("panicked"), "{rest}");
    let queue = rsm.view("queue");
    assert!(
        queue.iter().all(|r| r["state"] != "in process" && r["state"] != "InProcess"),
        "a request was left in process: {queue:?}"
    );
    // What it did not do is still there for the next run to finish.
    rsm.run(&["run", "--until-idle"]).ok();
    let drives = rsm.view("drives");
    let full = drives.iter().filter(|d| !d["barcode"].is_null() && d["barcode"] != "").count();
    assert_eq!(full, 3, "every drive end up holding a mounted cartridge: {drives:?}");
    rsm.replay_ok();
}

#[test]
fn run_stops_cleanly_on_sigterm() {
    signal_run(SIGTERM);
}

#[test]
fn run_stops_cleanly_on_sigint() {
    signal_run(SIGINT);
}

/// Regression: one process's `--wait` ended requests it was carrying for
/// others: a queued dismount it had started was recorded FAILED
/// ERROR_NOT_READY (no sense) when the process left, and queued again under
/// a new id. A request whose cartridge has not moved goes back to the queue
/// under its own id; one that has is finished or settled, never failed.
#[test]
fn a_wait_never_fails_requests_it_carried_for_others() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "p", "--drives", "2", "--slots", "8", "--media", "4"]).ok();
    rsm.run(&["mount", "P0001L8", "--wait"]).ok();
    let dismount = rsm.run(&["--json", "dismount-media", "P0001L8"]).ok().json();
    let id = dismount["request"].as_str().expect("the dismount's id").to_owned();
    rsm.run(&["mount", "P0002L8", "--wait"]).ok();
    rsm.run(&["run", "--until-idle"]).ok();
    let queue = rsm.view("queue");
    let ours: Vec<_> = queue.iter().filter(|r| r["kind"] == "dismount").collect();
    assert_eq!(ours.len(), 1, "one dismount, never a second one under a new id: {queue:?}");
    assert_eq!(ours[0]["id"], id.as_str(), "{queue:?}");
    assert_eq!(ours[0]["state"], "completed", "{queue:?}");
    assert!(queue.iter().all(|r| r["state"] != "failed"), "{queue:?}");
    rsm.replay_ok();
}
