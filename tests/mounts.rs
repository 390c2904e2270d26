//! MountNtmsMedia and DismountNtmsMedia in full through the real binary:
//! mounts that wait for a drive, their options and their timeouts.

mod support;

use support::Rsm;

/// MountNtmsMedia with every drive busy: the mount waits (NTMS_LM_WAITING)
/// and runs once a drive is dismounted; `--no-wait-if-busy` refuses at once
/// (ERROR_BUSY); a waiting mount's `--timeout` fails it with ERROR_BUSY.
#[test]
fn a_mount_with_every_drive_busy_waits_and_runs_once_one_is_free() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lw", "--drives", "1", "--slots", "6", "--media", "4"]).ok();
    rsm.run(&["mount", "LW0001L8", "--wait"]).ok();
    rsm.run(&["mount", "LW0002L8", "--no-wait-if-busy"]).rejected("ERROR_BUSY", 170);
    let waiting = rsm.run(&["--json", "mount", "LW0002L8"]).ok().json();
    assert_eq!(waiting["state"], "waiting", "{waiting}");
    // Nothing this process can do frees the drive: --wait says so and leaves it queued.
    let left = rsm.run(&["mount", "LW0003L8", "--wait"]).rejected("ERROR_BUSY", 170);
    assert!(left.stderr.contains("stays queued"), "{}", left.stderr);
    let queue = rsm.view("queue");
    assert_eq!(queue.iter().filter(|r| r["state"] == "waiting").count(), 2, "{queue:?}");
    // The drive is dismounted: the oldest waiting mount takes it.
    rsm.run(&["dismount-media", "LW0001L8"]).ok();
    rsm.run(&["run", "--until-idle"]).ok();
    let drive = rsm.view("drives").into_iter().next().expect("one drive");
    assert_eq!(drive["barcode"], "LW0002L8", "{drive}");
    // A timeout while waiting: ERROR_BUSY (rsm rule for a busy drive).
    let timed = rsm.run(&["--json", "mount", "LW0004L8", "--timeout", "1"]).ok().json();
    std::thread::sleep(std::time::Duration::from_millis(20));
    rsm.run(&["run", "--until-idle"]).ok();
    let queue = rsm.view("queue");
    let failed = queue.iter().find(|r| r["id"] == timed["request"]).expect("listed");
    assert_eq!((failed["state"].as_str(), failed["error"].as_str()), (Some("failed"), Some("ERROR_BUSY")), "{failed}");
    rsm.replay_ok();
}
