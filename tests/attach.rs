//! `rsm library attach` against a virtual tape library (tgt's SMC changer
//! and SSC drives over iSCSI on 127.0.0.1, `ops/vtl/vtl`), then the ordinary
//! commands on it, each run as a real process: the worker drives the
//! `ScsiChanger`, not the simulator.
//!
//! Without tgt the test prints `skipped: <reason>` and passes, except under
//! CI (`CI=true`), whose script installs it: there it fails instead.

mod support;
use support::*;

#[test]
fn attach_a_real_changer_then_mount_and_dismount_through_it() {
    let vtl = match start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => return skip(&reason),
    };
    let (drive_first, slot_first) = (vtl.env_u64("DRIVE_FIRST"), vtl.env_u64("SLOT_FIRST"));
    let rsm = Rsm::new();

    let attached = rsm.run(&["--json", "library", "attach", "vtl1", "--iscsi", vtl.url()]).ok();
    if attached.stderr.contains("libiscsi") {
        return skip(&attached.stderr);
    }
    let lib = &attached.json()[0];
    assert_eq!((lib["name"].as_str(), lib["kind"].as_str()), (Some("vtl1"), Some("changer")));
    assert_eq!((lib["drives"].as_u64(), lib["slots"].as_u64(), lib["media"].as_u64()), (Some(2), Some(6), Some(3)));
    assert_eq!(lib["device"].as_str(), Some(vtl.url()));

    // The device's own addresses and bar codes.
    let drives = rsm.view("drives");
    let addresses: Vec<u64> = drives.iter().map(|d| d["address"].as_u64().expect("address")).collect();
    assert_eq!(addresses, [drive_first, drive_first + 1]);
    assert_eq!((drive_first, slot_first), (500, 1000), "vtl's element map");
    assert!(drives.iter().all(|d| d["state"] == "dismounted"));
    let slots = rsm.slots();
    let expected: Vec<(u64, String)> =
        (0..6).map(|i| (slot_first + i, BARCODES.get(i as usize).copied().unwrap_or("").to_owned())).collect();
    assert_eq!(slots, expected);
    let media = rsm.view("media");
    let barcodes: Vec<&str> = media.iter().map(|m| m["barcode"].as_str().expect("bar code")).collect();
    assert_eq!(barcodes, BARCODES);
    assert!(media.iter().all(|m| m["location"] == "slot" && m["state"] == "idle"));

    // Mount through the real robot and drive.
    let mounted = rsm.run(&["--json", "mount", "A00001L8", "--drive", "vtl1-drive-1", "--wait"]).ok().json();
    assert_eq!(mounted["state"], "completed", "{mounted}");
    let d1 = rsm.view("drives").into_iter().find(|d| d["name"] == "vtl1-drive-1").expect("drive listed");
    assert_eq!((d1["state"].as_str(), d1["barcode"].as_str()), (Some("loaded"), Some("A00001L8")));
    assert_eq!(rsm.slots()[0], (slot_first, String::new()), "the cartridge left its slot");
    // The device agrees: another data directory attaching now (READ ELEMENT
    // STATUS) finds the cartridge in the drive and adopts it there, with its
    // home the lowest empty slot.
    // (It logs in under an initiator name of its own.)
    let witness = Rsm::new();
    witness
        .run(&["--initiator", "iqn.2026-11.org.example:witness", "library", "attach", "seen", "--iscsi", vtl.url()])
        .ok();
    let seen = witness.view("drives").into_iter().find(|d| d["address"] == drive_first).expect("drive listed");
    assert_eq!((seen["state"].as_str(), seen["barcode"].as_str()), (Some("loaded"), Some("A00001L8")));
    let m = witness.view("media").into_iter().find(|m| m["barcode"] == "A00001L8").expect("adopted");
    assert_eq!((m["location"].as_str(), m["home_slot"].as_str()), (Some("drive"), Some("seen-slot-1")));

    // Opened media: DismountDrive is refused until it is released.
    rsm.run(&["dismount-drive", "vtl1-drive-1"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["dismount-media", "A00001L8", "--deferred"]).ok();
    let dismounted = rsm.run(&["--json", "dismount-drive", "vtl1-drive-1", "--wait"]).ok().json();
    assert_eq!(dismounted["state"], "completed", "{dismounted}");
    assert_eq!(rsm.slots(), expected, "the cartridge is back in its slot");
    let d1 = rsm.view("drives").into_iter().find(|d| d["name"] == "vtl1-drive-1").expect("drive listed");
    assert_eq!(d1["state"], "dismounted");
    // An empty drive has nothing to dismount.
    rsm.run(&["dismount-drive", "vtl1-drive-1"]).rejected("ERROR_INVALID_STATE", 5023);

    // The device agrees: a fresh attach (its own READ ELEMENT STATUS) finds
    // the cartridge home and both drives empty.
    let second = Rsm::new();
    second.run(&["library", "attach", "vtl2", "--iscsi", vtl.url()]).ok();
    assert_eq!(second.slots(), expected);
    assert!(second.view("drives").iter().all(|d| d["state"] == "dismounted" && d["barcode"].is_null()));

    // Disabled drive; another user's access.
    rsm.run(&["disable", "drive", "vtl1-drive-2"]).ok();
    rsm.run(&["dismount-drive", "vtl1-drive-2"]).rejected("ERROR_DEVICE_NOT_AVAILABLE", 4319);
    rsm.run_as("bob", &["mount", "A00002L8"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run_as("bob", &["dismount-drive", "vtl1-drive-1"]).rejected("ERROR_ACCESS_DENIED", 5);

    // Attaching the same device twice is refused, naming the library it is.
    rsm.run(&["library", "attach", "vtl3", "--iscsi", vtl.url()]).rejected("ERROR_ALREADY_EXISTS", 183);

    let replay = rsm.run(&["--json", "replay", "--verify"]).ok().json();
    assert_eq!(replay["ok"], true, "{replay}");
}

/// Runs `vtl set-slot`: changes a slot behind rsm's back.

#[test]
fn inventory_after_the_library_was_changed_behind_rsms_back() {
    let vtl = match start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => return skip(&reason),
    };
    let slot_first = vtl.env_u64("SLOT_FIRST");
    let rsm = Rsm::new();
    let attached = rsm.run(&["--json", "library", "attach", "vtl1", "--iscsi", vtl.url()]).ok();
    if attached.stderr.contains("libiscsi") {
        return skip(&attached.stderr);
    }
    let none = rsm.run(&["--json", "inventory", "vtl1"]).ok().json();
    assert_eq!(none["differences"], serde_json::json!([]), "{none}");

    set_slot(&vtl, slot_first + 5, "NEW001L8");
    set_slot(&vtl, slot_first + 1, "empty");
    let found = rsm.run(&["--json", "inventory", "vtl1", "--wait"]).ok().json();
    assert_eq!(found["library"], "vtl1");
    let mut differences = found["differences"].as_array().expect("a list").clone();
    differences.sort_by_key(|d| d["kind"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        differences,
        [
            serde_json::json!({"kind": "appeared", "barcode": "NEW001L8", "at": "vtl1-slot-6"}),
            serde_json::json!({"kind": "vanished", "barcode": "A00002L8", "at": null}),
        ],
        "{found}"
    );

    let media = rsm.view("media");
    let of = |b: &str| media.iter().find(|m| m["barcode"] == b).unwrap_or_else(|| panic!("{b} listed")).clone();
    let new = of("NEW001L8");
    assert_eq!((new["location"].as_str(), new["at"].as_str()), (Some("slot"), Some("vtl1-slot-6")));
    assert_eq!(new["home_slot"], "vtl1-slot-6");
    let gone = of("A00002L8");
    assert_eq!((gone["location"].as_str(), gone["home_slot"].as_str()), (Some("offline"), Some("vtl1-slot-2")));
    let slots = rsm.slots();
    assert_eq!(slots[5], (slot_first + 5, "NEW001L8".to_owned()));
    assert_eq!(slots[1], (slot_first + 1, String::new()));

    let again = rsm.run(&["inventory", "vtl1"]).ok();
    assert_eq!(again.stdout.trim(), "no differences");
    rsm.run(&["mount", "A00002L8", "--error-if-offline"]).rejected("ERROR_MEDIA_OFFLINE", 4304);
    let mounted = rsm.run(&["--json", "mount", "NEW001L8", "--wait"]).ok().json();
    assert_eq!(mounted["state"], "completed", "the new cartridge is usable: {mounted}");
    rsm.run(&["inventory", "vtl1"]).ok();
    let replay = rsm.run(&["--json", "replay", "--verify"]).ok().json();
    assert_eq!(replay["ok"], true, "{replay}");
}

#[test]
fn inventory_of_a_simulated_library_finds_no_differences() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "s1", "--drives", "2", "--slots", "6", "--media", "3"]).ok();
    let found = rsm.run(&["--json", "inventory", "s1"]).ok().json();
    assert_eq!(found, serde_json::json!({"library": "s1", "differences": []}));
    assert_eq!(rsm.run(&["inventory", "s1"]).ok().stdout.trim(), "no differences");
    rsm.run_as("bob", &["inventory", "s1"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["inventory", "nosuch"]).rejected("ERROR_INVALID_LIBRARY", 4301);
    let replay = rsm.run(&["--json", "replay", "--verify"]).ok().json();
    assert_eq!(replay["ok"], true, "{replay}");
}

#[test]
fn attach_says_what_it_cannot_reach() {
    let rsm = Rsm::new();
    // A directly attached changer that is not there (these machines have no
    // SCSI devices: the SG_IO path is exercised only on real hardware).
    let missing = rsm.run(&["library", "attach", "direct", "--sg", "/dev/sg-none"]);
    let missing = missing.rejected("ERROR_DEVICE_NOT_CONNECTED", 1167);
    assert!(missing.stderr.contains("/dev/sg-none") && missing.stderr.contains("no such device"), "{}", missing.stderr);
    // A malformed URL is the caller's mistake, not an unreachable device.
    let bad = rsm.run(&["library", "attach", "x", "--iscsi", "iscsi://127.0.0.1:1/iqn.2026-11.none:x"]);
    bad.rejected("ERROR_INVALID_PARAMETER", 87);
    let neither = rsm.run(&["library", "attach", "x", "--iscsi", "tape0"]).rejected("ERROR_INVALID_PARAMETER", 87);
    assert!(neither.stderr.contains("tape0"), "{}", neither.stderr);
    let name = rsm.run(&["--initiator", "rsm-host", "show", "libraries"]);
    assert_eq!(name.code, 1, "a usage error");
    assert!(name.stderr.contains("not an iSCSI name"), "{}", name.stderr);
    // Nothing was created: not even the store the first attach made for itself.
    rsm.run(&["show", "libraries"]).rejected("ERROR_DATABASE_FAILURE", 4313);
}

/// Regression: with the library gone, a mount of a cartridge the views
/// place in a drive was answered "completed" from the views. The drive is
/// asked first, and the mount fails with the device's code.
#[test]
fn mount_in_place_of_a_library_that_is_gone_fails_with_the_devices_code() {
    let Some((vtl, rsm)) = attached_vtl() else { return };
    rsm.run(&["mount", "A00001L8", "--wait"]).ok();
    rsm.run(&["dismount-media", "A00001L8", "--deferred"]).ok();
    // Mounted in place while the library answers.
    let again = rsm.run(&["--json", "mount", "A00001L8", "--wait"]).ok().json();
    assert_eq!(again["state"], "completed", "{again}");
    rsm.run(&["dismount-media", "A00001L8", "--deferred"]).ok();
    vtl.stop();
    let before = rsm.run(&["--json", "replay"]).ok().json()["records"].clone();
    rsm.run(&["mount", "A00001L8", "--wait"]).rejected("ERROR_DEVICE_NOT_CONNECTED", 1167);
    let after = rsm.run(&["--json", "replay"]).ok().json()["records"].clone();
    assert_eq!(before, after, "a mount the drive did not confirm records nothing");
}

/// Regression: a second attach of an attached device answered "bar code
/// already used" (4300). It says the device is attached, and as which library.
#[test]
fn a_second_attach_of_the_same_device_names_the_library_it_is_attached_as() {
    let Some((vtl, rsm)) = attached_vtl() else { return };
    let run = rsm.run(&["library", "attach", "again", "--iscsi", vtl.url()]).rejected("ERROR_ALREADY_EXISTS", 183);
    assert!(run.stderr.contains("already attached, as library vtl1"), "{}", run.stderr);
}

/// An attached library's media type: the changer's element status names
/// none, but its cartridges' LTO labels do (`A00001L7`: LTO-7), and they
/// win over the operator's `--media-type`, which is used only where the
/// reports say nothing; a configured type they contradict is reported. Its
/// cartridges and drives are of that type, and its pools are made.
#[test]
fn attach_takes_the_media_type_its_cartridges_labels_name() {
    let barcodes = ["A00001L7", "A00002L7", "NOLTO-01"].map(String::from).to_vec();
    let vtl = match Vtl::start(&rsm_vtl::VtlConfig { drives: 2, slots: 6, ie_ports: 1, barcodes }) {
        Ok(vtl) => vtl,
        Err(reason) => return skip(&reason),
    };
    let rsm = Rsm::new();
    let attached = rsm.run(&["library", "attach", "vtl7", "--iscsi", vtl.url(), "--media-type", "LTO-8"]);
    if attached.code != 0 && attached.stderr.contains("libiscsi") {
        return skip(&attached.stderr);
    }
    let attached = attached.ok();
    assert!(
        attached.stderr.contains("the library reports LTO-7 media; the configured LTO-8 is not used"),
        "{}",
        attached.stderr
    );
    let types = rsm.view("media-types");
    let lto7 = types.iter().find(|t| t["name"] == "LTO-7").expect("in the catalog");
    assert_eq!(lto7["libraries"], serde_json::json!(["vtl7"]), "{types:?}");
    assert!(rsm.view("pools").iter().any(|p| p["path"] == "\\Free\\LTO-7"));
    assert!(rsm.view("sides").iter().all(|s| s["media_type"] == "LTO-7"));
    rsm.run(&["mount", "A00001L7", "--wait"]).ok();
    rsm.replay_ok();
}
