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
    assert!(queue.iter().all(|r| r["state"] != "in_progress"), "a request was left in process: {queue:?}");
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

/// A signal mask of the process's main thread from /proc (`SigBlk`: held
/// back, `SigCgt`: caught by a handler).
fn signal_mask(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or(0)
}

/// Regression: a SIGTERM in the first milliseconds of `rsm run` (before
/// its handlers were installed) killed it with status 143. The signals are
/// held back from main's first instruction until the handlers are in place.
#[test]
fn run_stops_cleanly_on_a_signal_at_its_very_start() {
    const SIGTERM_BIT: u64 = 1 << (15 - 1);
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "p", "--drives", "1", "--slots", "4", "--media", "2"]).ok();
    for _ in 0..10 {
        let child = rsm.command(&["run"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("rsm run starts");
        // As soon as main holds the signals back (or, on a fast start, has
        // already let them through to its handlers): the earliest moment rsm
        // can answer for (before it, the loader still runs).
        let held = (0..25_000).any(|_| {
            let mask = signal_mask(child.id(), "SigBlk:") | signal_mask(child.id(), "SigCgt:");
            let held = mask & SIGTERM_BIT != 0;
            if !held {
                std::thread::sleep(Duration::from_micros(200));
            }
            held
        });
        assert!(held, "rsm neither held SIGTERM back nor caught it");
        let sent = std::process::Command::new("kill").arg(SIGTERM).arg(child.id().to_string()).status();
        assert!(sent.expect("kill runs").success(), "the signal was sent");
        let output = child.wait_with_output().expect("rsm run ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{:?}; stderr: {stderr}", output.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    rsm.replay_ok();
}

/// Regression: a `--wait` that got SIGTERM died of it (status 143) in the
/// middle of whatever step it was carrying. It now lets the step under way
/// finish, stops waiting, leaves its request queued (never failed, never in
/// progress) and exits 128 + the signal's number, saying so.
#[test]
fn a_wait_stopped_by_a_signal_finishes_its_step_and_leaves_the_request_queued() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "p", "--drives", "3", "--slots", "8", "--media", "6"]).ok();
    rsm.run(&["mount", "P0001L8"]).ok();
    rsm.run(&["mount", "P0002L8"]).ok();
    let child = rsm
        .command(&["--json", "--sim-step-ms", "300", "mount", "P0003L8", "--wait"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rsm mount starts");
    std::thread::sleep(Duration::from_millis(500));
    let sent = std::process::Command::new("kill").arg(SIGTERM).arg(child.id().to_string()).status();
    assert!(sent.expect("kill runs").success(), "the signal was sent");
    let output = child.wait_with_output().expect("rsm mount ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let queue = rsm.view("queue");
    assert!(queue.iter().all(|r| r["state"] != "in_progress" && r["state"] != "failed"), "{queue:?}");
    if output.status.code() == Some(143) {
        assert!(stderr.contains("SIGTERM: stopped waiting"), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
        assert_eq!(report["stopped_by"], "SIGTERM", "{report}");
        let ours = queue.iter().find(|r| r["id"] == report["request"]).expect("the request is in the queue view");
        assert_eq!(ours["state"], "queued", "{queue:?}");
    } else {
        // The machine was slow enough for the whole mount to finish first.
        assert_eq!(output.status.code(), Some(0), "{:?}; stderr: {stderr}", output.status);
    }
    rsm.run(&["run", "--until-idle"]).ok();
    let drives = rsm.view("drives");
    assert!(drives.iter().all(|d| !d["barcode"].is_null()), "every mount finished: {drives:?}");
    rsm.replay_ok();
}

/// Found by a hostile run: after a signal stopped `inject --wait` or
/// `inventory --wait` in the middle of a classification, a later `--wait`
/// left the classifications (and the dismounts taking their cartridges
/// home) to `rsm run`, and the stop had marked the one in the drive failed.
/// Now a later `--wait` finishes the library's leftover arrival work, and a
/// label request cut short by a stop ends cancelled, to be done again.
#[test]
fn a_later_wait_finishes_the_arrival_work_a_stopped_one_left() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "1", "--slots", "6", "--media", "3", "--blank", "3"]).ok();
    let child = rsm
        .command(&["--json", "--sim-step-ms", "300", "inventory", "la", "--wait"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rsm inventory starts");
    // Inside the first classification: its move, load or read.
    std::thread::sleep(Duration::from_millis(700));
    let sent = std::process::Command::new("kill").arg(SIGINT).arg(child.id().to_string()).status();
    assert!(sent.expect("kill runs").success(), "the signal was sent");
    let output = child.wait_with_output().expect("rsm inventory ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let queue = rsm.view("queue");
    assert!(queue.iter().all(|r| r["state"] != "in_progress" && r["state"] != "failed"), "{queue:?}");
    let done = rsm.run(&["--json", "inventory", "la", "--wait"]).ok().json();
    let requests = done["requests"].as_array().expect("the arrival work it finished");
    assert!(!requests.is_empty() && requests.iter().all(|r| r["state"] == "completed"), "{done}");
    let sides = rsm.view("sides");
    assert!(sides.iter().all(|s| s["state"] == "available"), "{sides:?}");
    assert!(rsm.view("queue").iter().all(|r| r["state"] != "queued"), "nothing left for rsm run");
    rsm.replay_ok();
}
