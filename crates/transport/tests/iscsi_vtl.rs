//! `IscsiTransport` against a virtual tape library: tgt's SMC changer and
//! SSC drives over iSCSI on 127.0.0.1, started with `ops/vtl/vtl up` in a
//! temporary directory and always stopped with `vtl down`.
//!
//! Without tgt or libiscsi the test prints `skipped: <reason>` and passes,
//! except under CI (`CI=true`), whose script installs both: there a missing
//! dependency fails the test rather than hiding it.

use std::sync::Arc;
use std::thread;
use std::time::Instant;

use rsm_scsi::{
    cdb, element_status, inquiry, mode_sense, sense, Condition, DeviceType, ElementRange, ElementStatus, ElementType,
    ModeHeader,
};
use rsm_transport::{
    DataDirection, IscsiTransport, IscsiUrl, Response, ScsiTransport, TransportError, LIBISCSI_PACKAGE,
};
use rsm_vtl::{free_port, skip, Vtl, VtlConfig};

/// The initiator name the test logs in with.
const INITIATOR: &str = "iqn.2026-11.org.rsm:transport-test";
/// Per command: tgt answers in milliseconds; this only bounds a hang.
const TIMEOUT_MS: u32 = 10_000;
/// The cartridges the library starts with, in the first slots.
const BARCODES: [&str; 4] = ["TR0001L8", "TR0002L8", "TR0003L8", "TR0004L8"];
/// Size of a storage element descriptor with a primary volume tag (tgt).
const VOLTAG_DESCRIPTOR_LEN: u32 = 52;
/// The virtual library these tests use: 2 drives, 6 slots, one port.
fn start_vtl() -> Result<Vtl, String> {
    let barcodes = BARCODES.iter().map(|b| b.to_string()).collect();
    Vtl::start(&VtlConfig { drives: 2, slots: 6, ie_ports: 1, barcodes })
}

/// The changer's URL, as the transport takes it.
fn url_of(vtl: &Vtl) -> IscsiUrl {
    vtl.url().parse().unwrap_or_else(|e| panic!("vtl up printed {:?}: {e}", vtl.url()))
}

/// An element range from `vtl.env`.
fn range(vtl: &Vtl, first: &str, count: &str) -> ElementRange {
    ElementRange { first: vtl.env_u16(first), count: vtl.env_u16(count) }
}

/// Sends a command that must get an answer.
fn send(transport: &impl ScsiTransport, what: &str, cdb: &[u8], dir: DataDirection) -> Response {
    transport.execute(cdb, dir, TIMEOUT_MS).unwrap_or_else(|e| panic!("{what} to {}: {e}", transport.describe()))
}

/// Sends a command that must be GOOD, and returns its data.
fn good(transport: &impl ScsiTransport, what: &str, cdb: &[u8], dir: DataDirection) -> Vec<u8> {
    let response = send(transport, what, cdb, dir);
    assert!(response.is_good(), "{what}: status {:#04x}, sense {}", response.status, sense_text(&response.sense));
    response.data
}

/// Sends a command once more if the first answer is a UNIT ATTENTION (a
/// device reports one on the first command of a session to each LUN).
/// Returns the answer and whether a unit attention came first.
fn past_unit_attention(transport: &impl ScsiTransport, what: &str, cdb: &[u8], dir: DataDirection) -> (Response, bool) {
    let response = send(transport, what, cdb, dir.clone());
    let unit_attention = response.is_check_condition()
        && sense::parse(&response.sense).is_ok_and(|s| s.classify() == Condition::UnitAttention);
    if unit_attention {
        (send(transport, what, cdb, dir), true)
    } else {
        (response, false)
    }
}

fn sense_text(bytes: &[u8]) -> String {
    match sense::parse(bytes) {
        Ok(sense) => sense.to_string(),
        Err(error) => format!("unreadable ({error}): {bytes:02x?}"),
    }
}

/// READ ELEMENT STATUS of `range`, one element type, with volume tags (see
/// rsm-scsi's notes on tgt: never type 0, always VolTag).
fn read_element_status(transport: &impl ScsiTransport, kind: ElementType, range: ElementRange) -> ElementStatus {
    let alloc = 16 + VOLTAG_DESCRIPTOR_LEN * u32::from(range.count);
    let cdb = cdb::read_element_status(kind.into(), range.first, range.count, true, false, alloc);
    let len = usize::try_from(alloc).expect("a small allocation");
    let data = good(transport, "READ ELEMENT STATUS", &cdb, DataDirection::FromDevice(len));
    element_status::parse(&data).unwrap_or_else(|e| panic!("READ ELEMENT STATUS of {kind:?}: {e}"))
}

/// The barcode in each element of `range`: `None` for an empty element.
fn barcodes(status: &ElementStatus, range: ElementRange) -> Vec<Option<String>> {
    range
        .addresses()
        .map(|address| {
            let element = status.get(address).unwrap_or_else(|| panic!("element {address} not reported"));
            element.full.then(|| element.primary_volume_tag.clone().unwrap_or_default())
        })
        .collect()
}

fn move_medium(transport: &impl ScsiTransport, vtl: &Vtl, source: u16, destination: u16) -> Response {
    let cdb = cdb::move_medium(vtl.env_u16("TRANSPORT_ADDRESS"), source, destination, false);
    send(transport, &format!("MOVE MEDIUM {source} -> {destination}"), &cdb, DataDirection::None)
}

#[test]
fn changer_and_drive_over_iscsi() {
    let started = Instant::now();
    if let Err(error) = IscsiTransport::check_library() {
        assert!(error.to_string().contains(LIBISCSI_PACKAGE), "{error}");
        return skip(&error.to_string());
    }
    let mut vtl = match start_vtl() {
        Ok(vtl) => vtl,
        Err(reason) => return skip(&reason),
    };
    println!("library up at {} in {:?}", vtl.url(), started.elapsed());

    let changer = IscsiTransport::connect(&url_of(&vtl), INITIATOR).expect("login to the changer");
    assert_eq!(changer.describe(), format!("iSCSI {}", vtl.url()));
    assert_eq!(changer.url().lun, vtl.env_u16("CHANGER_LUN"));

    // INQUIRY: a medium changer.
    let data = good(&changer, "INQUIRY", &cdb::inquiry(None, 96), DataDirection::FromDevice(96));
    let identity = inquiry::parse_standard(&data).expect("standard INQUIRY data");
    assert_eq!(identity.device_type, DeviceType::MediumChanger);
    assert_eq!(identity.device_type.code(), 8);
    assert_eq!(identity.qualifier, 0);

    // MODE SENSE page 1Dh: the layout vtl.env describes.
    let data = good(&changer, "MODE SENSE 1Dh", &cdb::mode_sense6_element_address(255), DataDirection::FromDevice(255));
    let map = mode_sense::parse_element_address_assignment(&data, ModeHeader::Six).expect("page 1Dh");
    assert_eq!(map.transport, ElementRange { first: vtl.env_u16("TRANSPORT_ADDRESS"), count: 1 });
    assert_eq!(map.storage, range(&vtl, "SLOT_FIRST", "SLOT_COUNT"));
    assert_eq!(map.import_export, range(&vtl, "IE_FIRST", "IE_COUNT"));
    assert_eq!(map.data_transfer, range(&vtl, "DRIVE_FIRST", "DRIVE_COUNT"));
    assert_eq!((map.storage.count, map.data_transfer.count), (6, 2));

    // READ ELEMENT STATUS: every slot holds the cartridge it was given.
    let configured = vtl.env_list("BARCODES");
    assert_eq!(configured, BARCODES);
    let expected: Vec<Option<String>> =
        (0..usize::from(map.storage.count)).map(|i| configured.get(i).cloned()).collect();
    let slots = read_element_status(&changer, ElementType::Storage, map.storage);
    assert_eq!(barcodes(&slots, map.storage), expected);
    let drives = read_element_status(&changer, ElementType::DataTransfer, map.data_transfer);
    assert_eq!(barcodes(&drives, map.data_transfer), [None, None]);

    // MOVE MEDIUM slot -> drive: GOOD.
    let (slot, drive) = (map.storage.first, map.data_transfer.first);
    let moved = move_medium(&changer, &vtl, slot, drive);
    assert!(moved.is_good(), "status {:#04x}, sense {}", moved.status, sense_text(&moved.sense));
    assert!(moved.data.is_empty() && moved.sense.is_empty());

    // MOVE MEDIUM into the full drive: CHECK CONDITION, destination full.
    let refused = move_medium(&changer, &vtl, slot + 1, drive);
    assert!(refused.is_check_condition(), "status {:#04x}", refused.status);
    let why = sense::parse(&refused.sense).unwrap_or_else(|e| panic!("sense {:02x?}: {e}", refused.sense));
    assert_eq!(why.classify(), Condition::DestinationFull, "{why}");
    println!("full destination: {why}");

    // The drive's own LUN (drive i is LUN i): TEST UNIT READY, LOAD, UNLOAD.
    let drive_lun: u16 = vtl.env_list("DRIVE_LUNS")[0].parse().expect("a LUN");
    let tape = changer.connect_lun(drive_lun).expect("login to the drive's LUN");
    assert_eq!(tape.url().lun, drive_lun);
    let (ready, unit_attention) =
        past_unit_attention(&tape, "TEST UNIT READY", &cdb::test_unit_ready(), DataDirection::None);
    assert!(ready.is_good(), "TEST UNIT READY: {:#04x} {}", ready.status, sense_text(&ready.sense));
    println!("drive LUN {drive_lun}: first command saw a unit attention: {unit_attention}");
    let (loaded, _) = past_unit_attention(&tape, "LOAD", &cdb::load_unload(true, false), DataDirection::None);
    assert!(loaded.is_good(), "LOAD: {:#04x} {}", loaded.status, sense_text(&loaded.sense));

    // Data to the device and back: a variable-length block written to the
    // tape (WRITE(6), FIXED = 0), rewound, read again (READ(6)).
    let block: Vec<u8> = (0..512_u32).map(|i| u8::try_from(i % 251).expect("below 251")).collect();
    let [_, len_2, len_1, len_0] = u32::try_from(block.len()).expect("a small block").to_be_bytes();
    good(&tape, "WRITE(6)", &[0x0a, 0, len_2, len_1, len_0, 0], DataDirection::ToDevice(block.clone()));
    good(&tape, "REWIND", &[0x01, 0, 0, 0, 0, 0], DataDirection::None);
    let read = good(&tape, "READ(6)", &[0x08, 0, len_2, len_1, len_0, 0], DataDirection::FromDevice(block.len()));
    assert_eq!(read, block, "the block read back differs from the block written");
    good(&tape, "REWIND", &[0x01, 0, 0, 0, 0, 0], DataDirection::None);
    let (unloaded, _) = past_unit_attention(&tape, "UNLOAD", &cdb::load_unload(false, false), DataDirection::None);
    assert!(unloaded.is_good(), "UNLOAD: {:#04x} {}", unloaded.status, sense_text(&unloaded.sense));

    // MOVE MEDIUM drive -> slot: GOOD, and the cartridge is home again.
    let back = move_medium(&changer, &vtl, drive, slot);
    assert!(back.is_good(), "status {:#04x}, sense {}", back.status, sense_text(&back.sense));
    let slots = read_element_status(&changer, ElementType::Storage, map.storage);
    assert_eq!(barcodes(&slots, map.storage), expected);
    let drives = read_element_status(&changer, ElementType::DataTransfer, map.data_transfer);
    assert_eq!(barcodes(&drives, map.data_transfer), [None, None]);

    // Several threads share one transport: their commands take turns.
    let shared = Arc::new(changer);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                (0..5).all(|_| {
                    shared.execute(&cdb::test_unit_ready(), DataDirection::None, TIMEOUT_MS).is_ok_and(|r| r.is_good())
                })
            })
        })
        .collect();
    for worker in workers {
        assert!(worker.join().expect("a worker"), "a TEST UNIT READY from a thread was not GOOD");
    }

    // Login failures: a target the portal does not have, a port nobody serves.
    let unknown = IscsiUrl { target: "iqn.2026-11.org.rsm:no-such-target".to_owned(), ..url_of(&vtl) };
    match IscsiTransport::connect(&unknown, INITIATOR) {
        Err(TransportError::Connect(why)) => println!("unknown target: {why}"),
        other => panic!("login to an unknown target: {other:?}"),
    }
    let closed = IscsiUrl { port: free_port(), ..url_of(&vtl) };
    match IscsiTransport::connect(&closed, INITIATOR) {
        Err(TransportError::Connect(why)) => println!("closed port: {why}"),
        other => panic!("login to a closed port: {other:?}"),
    }

    // The target stops answering (tgtd stopped with SIGSTOP): the command
    // times out and closes the session; once it answers again, the next
    // command logs in again.
    vtl.pause();
    let waited = Instant::now();
    let result = shared.execute(&cdb::inquiry(None, 96), DataDirection::FromDevice(96), 300);
    vtl.resume();
    match result {
        Err(TransportError::Timeout(why)) => println!("paused target, after {:?}: {why}", waited.elapsed()),
        other => panic!("a command to a target that does not answer: {other:?}"),
    }
    assert!(waited.elapsed().as_millis() < 2_000, "the timeout of 300 ms took {:?}", waited.elapsed());
    let (again, _) = past_unit_attention(&*shared, "TEST UNIT READY", &cdb::test_unit_ready(), DataDirection::None);
    assert!(again.is_good(), "after a timeout: {:#04x} {}", again.status, sense_text(&again.sense));

    // The target restarts under the session: the next command fails without
    // a status, and the one after logs in again.
    vtl.restart();
    match shared.execute(&cdb::test_unit_ready(), DataDirection::None, TIMEOUT_MS) {
        Err(TransportError::Io(why)) => println!("after the restart: {why}"),
        other => panic!("a command on a session the target dropped: {other:?}"),
    }
    let (again, _) = past_unit_attention(&*shared, "TEST UNIT READY", &cdb::test_unit_ready(), DataDirection::None);
    assert!(again.is_good(), "after a new login: {:#04x} {}", again.status, sense_text(&again.sense));
    let slots = read_element_status(&*shared, ElementType::Storage, map.storage);
    assert_eq!(barcodes(&slots, map.storage), expected);

    drop(tape);
    drop(shared);
    println!("done in {:?}", started.elapsed());
}
