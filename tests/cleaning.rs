//! Cleaner management as real processes: `rsm cleaner reserve|release|
//! inject|eject`, `rsm clean`, `rsm sim needs-cleaning` (a drive of the
//! simulated library asking for a cleaning by itself), and the operator
//! asked for a cleaner while there is none.

mod support;
use serde_json::Value;
use support::*;

fn library(rsm: &Rsm) -> Value {
    rsm.view("libraries").into_iter().find(|l| l["name"] == "lib").expect("the library is listed")
}

fn drive(rsm: &Rsm, name: &str) -> Value {
    rsm.view("drives").into_iter().find(|d| d["name"] == name).expect("the drive is listed")
}

#[test]
fn a_cleaner_comes_in_cleans_the_drives_that_ask_and_goes_out() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lib", "--drives", "2", "--slots", "5", "--media", "2", "--ie-ports", "1"]).ok();
    rsm.run(&["cleaner", "inject", "lib"]).rejected("ERROR_CLEANER_SLOT_NOT_SET", 4332);
    rsm.run(&["cleaner", "reserve", "lib", "lib-slot-1"]).rejected("ERROR_RESOURCE_NOT_AVAILABLE", 5006);
    rsm.run(&["cleaner", "reserve", "lib", "lib-slot-5"]).ok();
    rsm.run(&["cleaner", "reserve", "lib", "lib-slot-4"]).rejected("ERROR_CLEANER_SLOT_SET", 4331);
    rsm.run_as("mallory", &["cleaner", "release", "lib"]).rejected("ERROR_ACCESS_DENIED", 5);

    // No cleaner yet: the cleaning waits and the operator is asked for one.
    let asked = rsm.run(&["clean", "lib-drive-1", "--wait"]).ok();
    assert!(asked.stdout.contains("waits for a cleaner"), "{}", asked.stdout);
    let opreqs = rsm.view("operator-requests");
    assert_eq!(opreqs.len(), 1, "{opreqs:?}");
    assert_eq!(opreqs[0]["kind"], "cleaner");

    // The operator puts one in the port; it goes to the cleaner slot, and the cleaning runs.
    rsm.run(&["cleaner", "inject", "lib", "--cleans", "2"]).rejected("ERROR_EMPTY", 4306);
    rsm.run(&["sim", "fill-port", "lib-port-1", "CLN001L1"]).ok();
    rsm.run(&["cleaner", "inject", "lib", "--cleans", "2", "--wait"]).ok();
    rsm.run(&["run", "--until-idle"]).ok();
    assert_eq!(rsm.view("operator-requests")[0]["state"], "complete", "its need was met");
    assert!(drive(&rsm, "lib-drive-1")["last_cleaned_ms"].is_u64());
    assert_eq!(library(&rsm)["cleaner"], "CLN001L1");
    assert_eq!(library(&rsm)["cleaner_uses_remaining"], 1);
    rsm.run(&["mount", "CLN001L1"]).rejected("ERROR_INVALID_MEDIA", 4300);
    rsm.run(&["eject", "CLN001L1"]).rejected("ERROR_INVALID_MEDIA", 4300);

    // A drive that says it needs cleaning gets one by itself.
    rsm.run(&["sim", "needs-cleaning", "lib-drive-2"]).ok();
    rsm.run(&["run", "--until-idle"]).ok();
    assert!(drive(&rsm, "lib-drive-2")["last_cleaned_ms"].is_u64());
    assert_eq!(library(&rsm)["cleaner_uses_remaining"], 0);
    let queue = rsm.view("queue");
    let cleanings: Vec<&Value> = queue.iter().filter(|r| r["kind"] == "clean").collect();
    assert_eq!(cleanings.len(), 2, "{queue:?}");
    assert!(cleanings.iter().any(|r| r["submitter"] == "rsm"), "the drive's own cleaning is the server's");

    // Spent: the next cleaning fails with ERROR_CLEANER_CARTRIDGE_SPENT and asks for another.
    rsm.run(&["clean", "lib-drive-1", "--wait"]).rejected("ERROR_CLEANER_CARTRIDGE_SPENT", 4333);

    // Out through the port, taken by the operator: it leaves the catalog.
    rsm.run(&["cleaner", "release", "lib"]).rejected("ERROR_RESOURCE_NOT_AVAILABLE", 5006);
    rsm.run(&["cleaner", "eject", "lib", "--wait"]).ok();
    rsm.run(&["sim", "empty-port", "lib-port-1"]).ok();
    rsm.run(&["inventory", "lib"]).ok();
    assert!(rsm.view("media").iter().all(|m| m["barcode"] != "CLN001L1"));
    rsm.run(&["cleaner", "release", "lib"]).ok();
    rsm.replay_ok();
}

/// Found by the demo: a library without ports opened its door in the views
/// for the cleaner, but the changer stayed locked (the operator could not
/// put it in).
#[test]
fn regression_a_cleaner_through_the_door_unlocks_the_changer() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lib", "--drives", "1", "--slots", "3", "--media", "1", "--ie-ports", "0"]).ok();
    rsm.run(&["cleaner", "reserve", "lib", "lib-slot-3"]).ok();
    let opened = rsm.run(&["cleaner", "inject", "lib", "--cleans", "5"]).ok();
    assert!(opened.stdout.contains("door opens"), "{}", opened.stdout);
    rsm.run(&["sim", "door", "put", "lib-slot-3", "CLN009L1"]).ok();
    rsm.run(&["sim", "door", "close", "lib"]).ok();
    assert_eq!(library(&rsm)["cleaner"], "CLN009L1");
    assert_eq!(library(&rsm)["cleaner_uses_remaining"], 5);
    rsm.run(&["clean", "lib-drive-1", "--wait"]).ok();
    assert_eq!(library(&rsm)["cleaner_uses_remaining"], 4);
    rsm.run(&["cleaner", "eject", "lib"]).ok();
    rsm.run(&["sim", "door", "take", "lib-slot-3"]).ok();
    rsm.run(&["sim", "door", "close", "lib"]).ok();
    assert!(library(&rsm)["cleaner"].is_null());
    rsm.run(&["cleaner", "release", "lib"]).ok();
    rsm.replay_ok();
}

/// On the virtual tape library (tgt): the operator puts a cleaner in the
/// reserved slot, the inventory finds it, and a cleaning moves it into the
/// drive, waits for the drive and takes it back (MOVE MEDIUM, TEST UNIT
/// READY, LOAD UNLOAD). tgt never says a drive needs cleaning: that sense
/// (00/17) is proved on a scripted transport (the SCSI adapter's tests).
#[test]
fn a_cleaning_on_the_virtual_library() {
    let Some((vtl, rsm)) = attached_vtl() else { return };
    let slot_first = vtl.env_u64("SLOT_FIRST");
    let last = rsm.view("slots").last().expect("slots")["name"].as_str().expect("a name").to_owned();
    rsm.run(&["cleaner", "reserve", "vtl1", &last]).ok();
    set_slot(&vtl, slot_first + 5, "CLN001L1");
    rsm.run(&["inventory", "vtl1"]).ok();
    let lib = rsm.view("libraries").into_iter().find(|l| l["name"] == "vtl1").expect("listed");
    assert_eq!(lib["cleaner"], "CLN001L1", "{lib}");
    let drive = rsm.view("drives")[0]["name"].as_str().expect("a drive").to_owned();
    rsm.run(&["clean", &drive, "--wait"]).ok();
    let d = rsm.view("drives").into_iter().find(|d| d["name"] == drive.as_str()).expect("listed");
    assert!(d["last_cleaned_ms"].is_u64(), "{d}");
    assert_eq!(d["state"], "dismounted");
    assert_eq!(rsm.run(&["inventory", "vtl1"]).ok().stdout.trim(), "no differences", "the cleaner is home");
    rsm.replay_ok();
}
