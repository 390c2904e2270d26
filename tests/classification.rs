//! Arrival and classification (spec §7.2) on the virtual library, through
//! the real binary: a new cartridge whose tape starts with an ANSI VOL1
//! label lands in the import pool, a blank one in the free pool once rsm
//! has written its free-media label with the drive (SSC WRITE).

mod support;

use rsm::hardware::{ChangerOptions, HardwareAdapter, ScsiChanger};
use serde_json::Value;
use support::{attached_vtl, set_slot};

fn side<'a>(sides: &'a [Value], barcode: &str) -> &'a Value {
    sides.iter().find(|s| s["barcode"] == barcode).unwrap_or_else(|| panic!("no side of {barcode} in {sides:?}"))
}

/// Writes `label` at the start of the tape of the cartridge in `slot`,
/// behind rsm's back (another initiator), and puts the cartridge back.
fn write_label_on(url: &str, slot: u16, drive: u16, label: &[u8]) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    rt.block_on(async {
        let url = url.parse().expect("the library's URL");
        let (changer, _) =
            ScsiChanger::attach_iscsi(&url, "iqn.2026-11.org.rsm:label-writer", ChangerOptions::default())
                .await
                .expect("attach");
        changer.move_medium(slot, drive).await.expect("to the drive");
        changer.load(drive).await.expect("load");
        changer.write_first_block(drive, label).await.expect("write the label");
        assert_eq!(changer.read_first_block(drive).await.expect("read it back").as_deref(), Some(label));
        changer.unload(drive).await.expect("unload");
        changer.move_medium(drive, slot).await.expect("home");
    });
}

#[test]
fn new_cartridges_are_classified_by_what_their_drive_reads() {
    let Some((vtl, rsm)) = attached_vtl() else { return };
    let slot_first = vtl.env_u16("SLOT_FIRST");
    let drive_first = vtl.env_u16("DRIVE_FIRST");
    // A tape another program labelled (Bacula writes ANSI labels): its
    // image, under a bar code rsm has never seen.
    let bacula = rsm::vol1("BAC001", "Bacula", "backup");
    write_label_on(vtl.url(), slot_first + 2, drive_first, &bacula);
    let media_home = std::path::PathBuf::from(&vtl.env_list("MEDIA_HOME")[0]);
    std::fs::copy(media_home.join("A00003L8"), media_home.join("ANSI01L8")).expect("copy the tape image");
    set_slot(&vtl, u64::from(slot_first) + 4, "ANSI01L8");
    set_slot(&vtl, u64::from(slot_first) + 5, "BLANK1L8");

    let found = rsm.run(&["--json", "inventory", "vtl1", "--wait"]).ok().json();
    let kinds: Vec<(&str, &str, &str)> = found["requests"]
        .as_array()
        .expect("the requests the arrivals set off")
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["barcode"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds.iter().filter(|(kind, _, _)| *kind == "classify").count(), 2, "{found}");
    assert!(kinds.contains(&("write-scratch", "BLANK1L8", "completed")), "{found}");
    assert!(kinds.iter().all(|(_, _, state)| *state == "completed"), "{found}");

    let sides = rsm.view("sides");
    let ansi = side(&sides, "ANSI01L8");
    assert_eq!(
        (ansi["pool"].as_str(), ansi["state"].as_str(), ansi["omid"].as_str()),
        (Some("\\Import\\LTO-8"), Some("import"), Some("ANSI:BAC001")),
        "{ansi}"
    );
    let blank = side(&sides, "BLANK1L8");
    assert_eq!(
        (blank["pool"].as_str(), blank["state"].as_str(), blank["omid"].as_str()),
        (Some("\\Free\\LTO-8"), Some("available"), Some("RSM:BLANK1L8")),
        "{blank}"
    );
    // The imported tape is allocated by the import path; the prepared one is scratch.
    rsm.run(&["pool", "create", "Restores", "--type", "LTO-8"]).ok();
    rsm.run(&["allocate", "Restores", "--side", "ANSI01L8"]).ok();
    rsm.run(&["mount", "BLANK1L8", "--wait"]).ok();
    rsm.replay_ok();
}

/// `library attach --classify`: every cartridge found in a slot is
/// mounted and read before anyone may allocate it; the virtual library's
/// tapes are blank, so each is given rsm's free-media label.
#[test]
fn an_attach_that_classifies_reads_every_cartridge_it_finds() {
    let vtl = match support::start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => return support::skip(&reason),
    };
    let rsm = support::Rsm::new();
    let attached = rsm.run(&["library", "attach", "vtl1", "--iscsi", vtl.url(), "--classify"]);
    if attached.stderr.contains("libiscsi") {
        return support::skip(&attached.stderr);
    }
    attached.ok();
    let before = rsm.view("sides");
    assert!(before.iter().all(|s| s["state"] == "unknown"), "{before:?}");
    rsm.run(&["run", "--until-idle"]).ok();
    let after = rsm.view("sides");
    assert!(
        after.iter().all(|s| s["state"] == "available" && s["omid_type"] == "RSM"),
        "every blank tape prepared: {after:?}"
    );
    rsm.replay_ok();
}
