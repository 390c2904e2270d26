//! `ScsiChanger` against a virtual tape library: tgt's SMC changer and SSC
//! drives over iSCSI on 127.0.0.1, started with `ops/vtl/vtl up` in a
//! temporary directory and always stopped with `vtl down` (a Drop guard).
//!
//! Without tgt or libiscsi the test prints `skipped: <reason>` and passes,
//! except under CI (`CI=true`), whose script installs both: there a missing
//! dependency fails the test rather than hiding it.

use std::collections::HashMap;
use std::time::Instant;

use rsm_vtl::{skip, Vtl, VtlConfig};

use rsm_hardware::{
    AdapterError, ChangerOptions, DriveMatch, ElementAddress, ElementKind, ElementStatus, HardwareAdapter, ScsiChanger,
    SenseData, SlotInfo,
};
use rsm_transport::{DataDirection, IscsiTransport, IscsiUrl, LIBISCSI_PACKAGE};

/// The initiator name the test logs in with.
const INITIATOR: &str = "iqn.2026-11.org.rsm:hardware-test";
/// The cartridges the library starts with, in its first slots.
const BARCODES: [&str; 3] = ["A00001L8", "A00002L8", "A00003L8"];
/// The virtual library these tests use: 2 drives, 6 slots, one port.
fn start_vtl() -> Result<Vtl, String> {
    let barcodes = BARCODES.iter().map(|b| b.to_string()).collect();
    Vtl::start(&VtlConfig { drives: 2, slots: 6, ie_ports: 1, barcodes })
}

/// The changer's URL, as the adapter takes it.
fn url_of(vtl: &Vtl) -> IscsiUrl {
    vtl.url().parse().unwrap_or_else(|e| panic!("vtl up printed {:?}: {e}", vtl.url()))
}

/// The sense of a failed call, which must be a CHECK CONDITION.
fn sense_of(result: Result<(), AdapterError>, what: &str) -> SenseData {
    match result {
        Err(AdapterError::Check { operation, sense }) => {
            println!("{what}: {operation}: {:02X}/{:02X}/{:02X}", sense.key, sense.asc, sense.ascq);
            sense
        }
        other => panic!("{what}: expected CHECK CONDITION, got {other:?}"),
    }
}

/// What `element_status` says about each element: `None` if empty, else
/// the bar code ("" if unlabelled).
fn contents(status: &[ElementStatus]) -> HashMap<ElementAddress, Option<String>> {
    status.iter().map(|e| (e.address, e.full.then(|| e.barcode.clone().unwrap_or_default()))).collect()
}

fn full(barcode: &str) -> Option<String> {
    Some(barcode.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scsi_changer_drives_the_virtual_library() {
    let started = Instant::now();
    if let Err(error) = IscsiTransport::check_library() {
        assert!(error.to_string().contains(LIBISCSI_PACKAGE), "{error}");
        return skip(&error.to_string());
    }
    let vtl = match start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => return skip(&reason),
    };
    println!("library up at {} in {:?}", vtl.url(), started.elapsed());

    // Attach: the topology that vtl.env describes.
    let attaching = Instant::now();
    let (changer, topology) = ScsiChanger::attach_iscsi(&url_of(&vtl), INITIATOR, ChangerOptions::default())
        .await
        .unwrap_or_else(|e| panic!("attach to {}: {e}", vtl.url()));
    println!("attached in {:?}: {topology:#?}", attaching.elapsed());
    assert_eq!((topology.vendor.as_str(), topology.product.as_str()), ("IET", "VIRTUAL-CHANGER"));
    assert_eq!(topology.serial.as_deref(), Some("beaf13"), "tgt's serial is beaf + tid + LUN");
    assert_eq!(topology.transport, vtl.env_u16("TRANSPORT_ADDRESS"));
    assert!(topology.warnings.is_empty(), "warnings: {:?}", topology.warnings);

    let drive_first = vtl.env_u16("DRIVE_FIRST");
    let drive_luns: Vec<u16> = vtl.env_list("DRIVE_LUNS").iter().map(|l| l.parse().expect("a LUN")).collect();
    assert_eq!(drive_luns, [1, 2]);
    assert_eq!(topology.drives.len(), 2);
    for (i, drive) in topology.drives.iter().enumerate() {
        let lun = drive_luns[i];
        assert_eq!(drive.address, drive_first + u16::try_from(i).expect("a small index"));
        assert_eq!(drive.lun, Some(lun), "drive {} is LUN {lun} (vtl.env)", drive.address);
        assert_eq!(drive.serial.as_deref(), Some(format!("beaf1{lun}").as_str()));
        assert_eq!((drive.vendor.as_deref(), drive.product.as_deref()), (Some("IET"), Some("VIRTUAL-TAPE")));
        assert!(!drive.full && drive.barcode.is_none());
    }
    // What tgt reports as the drives' identifiers: vendor, product and
    // serial; the last one cut by tgt's short answer.
    assert_eq!(topology.drives[0].identifier.as_deref(), Some("IET     VIRTUAL-TAPE    beaf11"));
    assert_eq!(topology.drives[0].matched_by, DriveMatch::Identifier);
    assert_eq!(topology.drives[1].identifier.as_deref(), Some("IET     VIRTUAL-TAPE    be…"));
    assert_eq!(topology.drives[1].matched_by, DriveMatch::IdentifierPrefix);

    let slot_first = vtl.env_u16("SLOT_FIRST");
    let expected_slots: Vec<SlotInfo> = (0..6_u16)
        .map(|i| {
            let barcode = BARCODES.get(usize::from(i)).map(|b| (*b).to_owned());
            SlotInfo { address: slot_first + i, full: barcode.is_some(), barcode }
        })
        .collect();
    assert_eq!(topology.slots, expected_slots);
    assert_eq!(topology.ports, [SlotInfo { address: vtl.env_u16("IE_FIRST"), barcode: None, full: false }]);

    // The inventory as the engine reads it: every element, by address.
    let status = changer.element_status().await.expect("element status");
    assert_eq!(status.len(), 1 + 6 + 1 + 2);
    assert!(status.windows(2).all(|w| w[0].address < w[1].address), "sorted by address");
    let kind_of = |address| status.iter().find(|e| e.address == address).map(|e| e.kind);
    assert_eq!(kind_of(topology.transport), Some(ElementKind::Transport));
    assert_eq!(kind_of(slot_first), Some(ElementKind::Storage));
    assert_eq!(kind_of(vtl.env_u16("IE_FIRST")), Some(ElementKind::ImportExport));
    assert_eq!(kind_of(drive_first), Some(ElementKind::DataTransfer));
    let at_start = contents(&status);
    assert_eq!(at_start[&slot_first], full(BARCODES[0]));
    assert_eq!(at_start[&(slot_first + 3)], None);

    // A mount: slot -> drive, then the drive loads.
    let (slot, drive) = (slot_first, drive_first);
    let mounting = Instant::now();
    changer.move_medium(slot, drive).await.expect("MOVE MEDIUM slot -> drive");
    changer.load(drive).await.expect("load");
    println!("mount (move + load) in {:?}", mounting.elapsed());
    let mounted = contents(&changer.element_status().await.expect("element status"));
    assert_eq!((mounted[&drive].clone(), mounted[&slot].clone()), (full(BARCODES[0]), None));

    // The device's refusals, with its sense.
    let empty_slot = slot_first + 3;
    let refused = sense_of(changer.move_medium(empty_slot, slot_first + 4).await, "move from an empty slot");
    assert_eq!(refused, SenseData::SOURCE_EMPTY);
    let refused = sense_of(changer.move_medium(slot_first + 1, slot_first + 2).await, "move into a full slot");
    assert_eq!(refused, SenseData::DESTINATION_FULL);
    let refused = sense_of(changer.move_medium(slot_first + 1, drive).await, "move into the full drive");
    assert_eq!(refused, SenseData::DESTINATION_FULL);
    let refused = sense_of(changer.move_medium(9999, empty_slot).await, "move from an address that does not exist");
    assert_eq!(refused, SenseData { key: 0x5, asc: 0x24, ascq: 0x00 }, "tgt says INVALID FIELD IN CDB");
    let refused = sense_of(changer.load(slot_first).await, "load of a slot");
    assert_eq!(refused, SenseData::INVALID_ELEMENT);

    // A dismount: the drive unloads (checked), the robot takes it home.
    let tape = changer.drive_transport(drive).expect("the drive's transport");
    let ready = tape.execute(&rsm_scsi::cdb::test_unit_ready(), DataDirection::None, 10_000).expect("TUR");
    assert!(ready.is_good(), "the loaded drive is ready");
    changer.unload(drive).await.expect("unload");
    let unloaded = tape.execute(&rsm_scsi::cdb::test_unit_ready(), DataDirection::None, 10_000).expect("TUR");
    assert!(unloaded.is_check_condition(), "after the unload the tape is out: TEST UNIT READY is not GOOD");
    // Loading an unloaded drive threads the tape again (LOAD), and the
    // second unload is as good as the first.
    changer.load(drive).await.expect("load after an unload");
    changer.unload(drive).await.expect("unload again");
    // An unloaded drive unloads again without complaint, like the simulator.
    changer.unload(drive).await.expect("unload of an unloaded drive");
    changer.move_medium(drive, slot).await.expect("MOVE MEDIUM drive -> slot");
    assert_eq!(contents(&changer.element_status().await.expect("element status")), at_start);
    // An empty drive neither loads nor unloads: MEDIUM NOT PRESENT.
    assert_eq!(sense_of(changer.unload(drive).await, "unload of an empty drive"), SenseData::MEDIUM_NOT_PRESENT);
    assert_eq!(sense_of(changer.load(drive).await, "load of an empty drive"), SenseData::MEDIUM_NOT_PRESENT);

    // The drive's LUN prevents removal: the changer refuses to take the
    // tape out (05/53/02) until it allows it again.
    let second = drive_first + 1;
    changer.move_medium(slot_first + 1, second).await.expect("MOVE MEDIUM slot -> second drive");
    changer.load(second).await.expect("load of the second drive");
    let tape = changer.drive_transport(second).expect("the second drive's transport");
    let prevent = tape.execute(&rsm_scsi::cdb::prevent_allow_medium_removal(true), DataDirection::None, 10_000);
    assert!(prevent.as_ref().is_ok_and(|r| r.is_good()), "PREVENT MEDIUM REMOVAL: {prevent:?}");
    let refused = sense_of(changer.move_medium(second, slot_first + 1).await, "move out of a prevented drive");
    assert_eq!(refused, SenseData::REMOVAL_PREVENTED);
    let allow = tape.execute(&rsm_scsi::cdb::prevent_allow_medium_removal(false), DataDirection::None, 10_000);
    assert!(allow.as_ref().is_ok_and(|r| r.is_good()), "ALLOW MEDIUM REMOVAL: {allow:?}");
    changer.unload(second).await.expect("unload of the second drive");
    changer.move_medium(second, slot_first + 1).await.expect("MOVE MEDIUM second drive -> slot");

    // An operator changes slots behind the adapter's back: no UNIT
    // ATTENTION, yet the next inventory shows it.
    vtl.set_slot(slot_first + 5, "NEW007L8");
    vtl.set_slot(slot_first + 2, "empty");
    let changed = contents(&changer.element_status().await.expect("element status"));
    assert_eq!(changed[&(slot_first + 5)], full("NEW007L8"));
    assert_eq!(changed[&(slot_first + 2)], None);
    assert_eq!(changed[&slot_first], full(BARCODES[0]));
    let topology = changer.topology().await.expect("topology again");
    assert_eq!(topology.slots[5].barcode.as_deref(), Some("NEW007L8"));
    assert!(topology.warnings.is_empty(), "warnings: {:?}", topology.warnings);

    drop(changer);
    println!("done in {:?}", started.elapsed());
}
