//! Hardware faults against a virtual tape library (tgt's SMC changer and SSC
//! drives over iSCSI, `ops/vtl/vtl`), each command a real `rsm` process:
//!
//! * a MOVE MEDIUM that the device refuses with CHECK CONDITION fails the
//!   request with the mapped NTMS code and keeps the sense data;
//! * a process that dies in the middle of a mount (failpoints, and a real
//!   SIGKILL while the process is stopped between the robot's move and its
//!   report) leaves a request in process, which the next open settles from
//!   the device's READ ELEMENT STATUS, never by guessing.
//!
//! Without tgt the tests print `skipped: <reason>` and pass, except under CI
//! (`CI=true`), whose script installs it: there they fail instead.

mod support;
use serde_json::Value;
use support::*;

/// NTMS codes the tests expect.
const ERROR_MEDIUM_NOT_ACCESSIBLE: u64 = 4323;

fn find<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter().find(|r| r[key] == value).unwrap_or_else(|| panic!("no row with {key} = {value}: {rows:?}"))
}

/// The requests for `barcode`, in the order the queue view lists them.
fn requests_of(queue: &[Value], barcode: &str) -> Vec<Value> {
    queue.iter().filter(|r| r["barcode"] == barcode).cloned().collect()
}

#[test]
fn a_failed_move_is_reported_with_its_sense_data() {
    let Some((vtl, rsm)) = attached_vtl() else { return };
    let slot_first = vtl.env_u64("SLOT_FIRST");

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
    let Some((vtl, rsm)) = attached_vtl() else { return };
    let (drive_first, slot_first) = (vtl.env_u64("DRIVE_FIRST"), vtl.env_u64("SLOT_FIRST"));

    // 1. The robot moved A00001L8 into the drive, the move was reported, and
    //    the process died before the load was.
    rsm.run_failing("worker.between-moves:1", &["mount", "A00001L8", "--wait"]).aborted();

    // The device says where the cartridge is: another data directory
    // attaching now (its own READ ELEMENT STATUS) finds it in the first drive.
    let witness = witness(&vtl);
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
    assert_eq!(mounts.len(), 1, "one request, back in the queue under its own id: {queue:?}");
    let again = find(&mounts, "state", "queued");
    assert!(again["error"].is_null() && again["sense"].is_null(), "nothing failed: {again}");
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

#[test]
fn a_sigkill_between_the_robots_move_and_its_report_is_reconciled_from_the_device() {
    let Some((vtl, rsm)) = attached_vtl() else { return };
    let (drive_first, slot_first) = (vtl.env_u64("DRIVE_FIRST"), vtl.env_u64("SLOT_FIRST"));
    // The robot has put A00003L8 in the drive; the log does not know yet.
    let killed = rsm.run_killed_at("worker.before-report", &["mount", "A00003L8", "--drive", "vtl1-drive-2", "--wait"]);
    assert_eq!(killed.signal, Some(9), "killed by SIGKILL: {}", killed.stderr);

    let witness = witness(&vtl);
    let seen = witness.view("drives").into_iter().find(|d| d["address"] == drive_first + 1).expect("drive listed");
    assert_eq!(seen["barcode"], "A00003L8", "the device has it in the drive: {seen}");

    // The next open settles the mount from the device: it is done.
    let queue = rsm.view("queue");
    let mounts = requests_of(&queue, "A00003L8");
    assert_eq!(mounts.len(), 1, "{queue:?}");
    assert_eq!(mounts[0]["state"], "completed", "{}", mounts[0]);
    let drives = rsm.view("drives");
    let d2 = find(&drives, "name", "vtl1-drive-2");
    assert_eq!(d2["barcode"], "A00003L8", "{d2}");
    let slots = rsm.view("slots");
    let third = slots.iter().find(|s| s["address"] == slot_first + 2).expect("slot listed");
    assert!(third["barcode"].is_null(), "the cartridge left its slot: {third}");
    // And the library goes on: the cartridge comes home.
    rsm.run(&["dismount-media", "A00003L8", "--wait"]).ok();
    assert_eq!(rsm.slots()[2], (slot_first + 2, "A00003L8".to_owned()));
    rsm.replay_ok();
}
