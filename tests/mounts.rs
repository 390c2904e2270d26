//! MountNtmsMedia and DismountNtmsMedia in full through the real binary:
//! mounts that wait for a drive, their options and their timeouts.

mod support;

use support::Rsm;

/// MountNtmsMedia with every drive busy: the mount waits (NTMS_LM_WAITING)
/// and runs once a drive is dismounted; `--no-wait-if-busy` refuses at once
/// (ERROR_BUSY); a waiting mount's `--timeout` cancels it, with ERROR_BUSY.
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
    assert_eq!(
        (failed["state"].as_str(), failed["error"].as_str()),
        (Some("cancelled"), Some("ERROR_BUSY")),
        "{failed}"
    );
    rsm.replay_ok();
}

/// The queue through the binary: order numbers, reordering, cancelling,
/// waiting on a request, and deleting finished ones from the views.
#[test]
fn the_queue_is_seen_reordered_cancelled_waited_on_and_pruned() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lq", "--drives", "1", "--slots", "6", "--media", "4"]).ok();
    rsm.run(&["mount", "LQ0001L8", "--wait"]).ok();
    let id =
        |barcode: &str| rsm.run(&["--json", "mount", barcode]).ok().json()["request"].as_str().unwrap().to_string();
    let (a, b, c) = (id("LQ0002L8"), id("LQ0003L8"), id("LQ0004L8"));
    let waiting = rsm.run(&["--json", "queue", "--state", "waiting"]).ok().json();
    let orders: Vec<u64> = waiting.as_array().unwrap().iter().map(|r| r["order"].as_u64().unwrap()).collect();
    assert_eq!(orders, [1, 2, 3], "{waiting}");
    // Reordering needs CONTROL on the computer: the administrator's.
    rsm.run_as("mallory", &["order", &c, "1"]).rejected("ERROR_ACCESS_DENIED", 5);
    let moved = rsm.run(&["--admin", "admin", "--json", "order", &c, "1"]).ok().json();
    assert_eq!(moved["order"], 1, "{moved}");
    assert_eq!(rsm.run(&["--json", "order", &a]).ok().json()["order"], 2);
    rsm.run(&["order", "not-an-id"]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["cancel", &b]).ok();
    rsm.run(&["cancel", &b]).rejected("ERROR_OBJECT_NOT_FOUND", 4312);
    let cancelled = rsm.run(&["--json", "queue", "--state", "cancelled"]).ok().json();
    assert_eq!(cancelled[0]["id"], b.as_str(), "{cancelled}");
    // Waiting on a mount that waits for a drive nobody here frees: a timeout.
    let slow = rsm.run(&["wait", &c, "--timeout", "200"]).rejected("ERROR_TIMEOUT", 1460);
    assert!(slow.stderr.contains("stays queued"), "{}", slow.stderr);
    // The drive is dismounted: the reordered mount goes first.
    rsm.run(&["dismount-media", "LQ0001L8"]).ok();
    let done = rsm.run(&["--json", "wait", &c]).ok().json();
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(rsm.run(&["--json", "order", &a]).ok().json()["order"], 1);
    // Finished requests leave the views; unfinished ones stay.
    rsm.run(&["requests", "delete", "--finished"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["--admin", "admin", "requests", "delete", "--finished"]).ok();
    let left = rsm.view("queue");
    assert!(left.iter().all(|r| r["state"] == "waiting"), "{left:?}");
    rsm.replay_ok();
}

/// `rsm mount A B C` and `rsm dismount-media A B C`: several cartridges at
/// once, all or none, waited on together.
#[test]
fn several_cartridges_are_mounted_and_dismounted_at_once() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lm", "--drives", "2", "--slots", "6", "--media", "4"]).ok();
    rsm.run(&["disable", "media", "LM0004L8"]).ok();
    rsm.run(&["mount", "LM0001L8", "LM0004L8"]).rejected("ERROR_RESOURCE_DISABLED", 4309);
    assert!(rsm.view("queue").is_empty(), "all or none");
    // One drive each, or none.
    rsm.run(&["mount", "LM0001L8", "LM0002L8", "--drive", "lm-drive-1"]).rejected("ERROR_INVALID_PARAMETER", 87);
    let both = rsm
        .run(&["--json", "mount", "LM0001L8", "LM0002L8", "--drive", "lm-drive-2", "--drive", "lm-drive-1", "--wait"])
        .ok()
        .json();
    let requests = both["requests"].as_array().expect("one row per cartridge");
    assert_eq!(requests.len(), 2, "{both}");
    assert!(requests.iter().all(|r| r["state"] == "completed"), "{both}");
    let drives = rsm.view("drives");
    let holds = |name: &str| drives.iter().find(|d| d["name"] == name).map(|d| d["barcode"].clone());
    assert_eq!((holds("lm-drive-2"), holds("lm-drive-1")), (Some("LM0001L8".into()), Some("LM0002L8".into())));
    rsm.run(&["dismount-media", "LM0001L8", "LM0002L8", "--wait"]).ok();
    assert!(rsm.view("drives").iter().all(|d| d["barcode"].is_null()));
    rsm.replay_ok();
}
