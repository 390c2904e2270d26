//! Tests of the SCSI changer adapter over a scripted transport: each
//! transport answers from its own list, in order, and records every CDB it
//! got. The device answers are tgt's, captured in `rsm-scsi`'s fixtures
//! (`crates/scsi/tests/fixtures/tgt_*.hex`), read at run time; the few that
//! no capture has (REPORT LUNS, the drives' VPD pages) are built here the
//! way tgt 1.0.85 answers them, which the integration test
//! (`tests/scsi_changer_vtl.rs`) checks against the real thing.
//!
//! Time is a manual clock that moves only when the adapter sleeps, so the
//! backoff schedules and the ready timeout are checked exactly, at once.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsm_scsi::{mode_sense, ElementMap, ModeHeader};
use rsm_transport::{status, DataDirection, Response, ScsiTransport, TransportError};

use super::command::{parse_report_luns, report_luns_cdb, Clock};
use super::discovery::{attach, cut_identifiers, reported_drives, sg_devices, DriveSource};
use super::*;

// ---------------------------------------------------------------- helpers

#[test]
fn the_adapter_is_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ScsiChanger>();
    send_sync::<Box<dyn HardwareAdapter>>();
}

/// The bytes of `crates/scsi/tests/fixtures/<name>.hex`.
fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scsi/tests/fixtures").join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(|pair| u8::from_str_radix(pair, 16).unwrap_or_else(|e| panic!("fixture {name}: {pair:?}: {e}")))
        .collect()
}

type Answer = Result<Response, TransportError>;

fn good(data: Vec<u8>) -> Answer {
    Ok(Response { status: status::GOOD, data, sense: Vec::new() })
}

fn done() -> Answer {
    good(Vec::new())
}

fn check_bytes(sense: Vec<u8>) -> Answer {
    Ok(Response { status: status::CHECK_CONDITION, data: Vec::new(), sense })
}

/// CHECK CONDITION with a captured sense.
fn check(name: &str) -> Answer {
    check_bytes(fixture(name))
}

/// Fixed-format sense data.
fn sense(key: u8, asc: u8, ascq: u8) -> Vec<u8> {
    vec![0x70, 0, key, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0]
}

fn unit_attention() -> Answer {
    check("tgt_sense_unit_attention")
}

fn becoming_ready() -> Answer {
    check_bytes(sense(0x2, 0x04, 0x01))
}

fn medium_not_present() -> Answer {
    check("tgt_sense_medium_not_present")
}

/// The two answers of a two-step READ ELEMENT STATUS: the 8-byte header
/// (tgt answers an 8-byte request with the full byte count), then the report.
fn res(name: &str) -> [Answer; 2] {
    let report = fixture(name);
    [good(report[..8].to_vec()), good(report)]
}

/// A transport that answers from a script and records what it was sent.
#[derive(Debug)]
struct Scripted {
    name: String,
    answers: Mutex<VecDeque<Answer>>,
    sent: Mutex<Vec<(Vec<u8>, DataDirection, u32)>>,
}

impl Scripted {
    fn new(name: &str, answers: impl IntoIterator<Item = Answer>) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            answers: Mutex::new(answers.into_iter().collect()),
            sent: Mutex::new(Vec::new()),
        })
    }

    fn cdbs(&self) -> Vec<Vec<u8>> {
        self.sent.lock().unwrap().iter().map(|(cdb, _, _)| cdb.clone()).collect()
    }

    fn sent(&self) -> Vec<(Vec<u8>, DataDirection, u32)> {
        self.sent.lock().unwrap().clone()
    }

    /// Every scripted answer was asked for.
    fn assert_done(&self) {
        let left = self.answers.lock().unwrap().len();
        assert_eq!(left, 0, "{}: {left} scripted answers were not asked for; sent {:02x?}", self.name, self.cdbs());
    }
}

impl ScsiTransport for Scripted {
    fn execute(&self, cdb: &[u8], dir: DataDirection, timeout_ms: u32) -> Result<Response, TransportError> {
        self.sent.lock().unwrap().push((cdb.to_vec(), dir, timeout_ms));
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::Io(format!("{}: script ended before CDB {cdb:02x?}", self.name))))
    }

    fn describe(&self) -> String {
        format!("scripted {}", self.name)
    }
}

/// A clock that moves only when slept on, and remembers each sleep.
#[derive(Debug, Default)]
struct ManualClock {
    now: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl ManualClock {
    fn sleeps_ms(&self) -> Vec<u128> {
        self.sleeps.lock().unwrap().iter().map(Duration::as_millis).collect()
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        *self.now.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) {
        *self.now.lock().unwrap() += duration;
        self.sleeps.lock().unwrap().push(duration);
    }
}

/// tgt's layout (MODE SENSE capture): MT 1, ST 1000-1009, IE 10, DT 500-501.
fn tgt_map() -> ElementMap {
    mode_sense::parse_element_address_assignment(&fixture("tgt_mode_sense6_1d"), ModeHeader::Six).unwrap()
}

/// A changer over scripted transports, with tgt's layout already known and
/// a manual clock.
fn changer(
    changer: &Arc<Scripted>,
    drives: &[(ElementAddress, &Arc<Scripted>)],
    options: ChangerOptions,
) -> (ScsiChanger, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let drives = drives
        .iter()
        .map(|(address, transport)| {
            let transport: Arc<dyn ScsiTransport> = Arc::clone(transport) as Arc<dyn ScsiTransport>;
            (*address, DriveLink { transport, lun: None, matched_by: DriveMatch::Given })
        })
        .collect();
    let changer: Arc<dyn ScsiTransport> = Arc::clone(changer) as Arc<dyn ScsiTransport>;
    let clock_dyn: Arc<dyn Clock> = Arc::clone(&clock) as Arc<dyn Clock>;
    (ScsiChanger::from_parts(changer, drives, options, clock_dyn, Some(tgt_map())), clock)
}

fn check_of(result: Result<(), AdapterError>) -> (String, SenseData) {
    match result {
        Err(AdapterError::Check { operation, sense }) => (operation, sense),
        other => panic!("expected CHECK CONDITION, got {other:?}"),
    }
}

const MOVE_1000_500: [u8; 12] = [0xa5, 0, 0x00, 0x01, 0x03, 0xe8, 0x01, 0xf4, 0, 0, 0, 0];
const TUR: [u8; 6] = [0; 6];
const LOAD: [u8; 6] = [0x1b, 0, 0, 0, 0x01, 0];
const LOAD_RETEN: [u8; 6] = [0x1b, 0, 0, 0, 0x03, 0];
const UNLOAD: [u8; 6] = [0x1b, 0, 0, 0, 0x00, 0];
const UNLOAD_RETEN: [u8; 6] = [0x1b, 0, 0, 0, 0x02, 0];

// ------------------------------------------------------- hand-built answers

/// REPORT LUNS as tgt answers it: peripheral addressing, one entry per LUN.
fn report_luns(luns: &[u8]) -> Vec<u8> {
    let len = u8::try_from(luns.len() * 8).unwrap();
    let mut data = vec![0, 0, 0, len, 0, 0, 0, 0];
    for &lun in luns {
        data.extend_from_slice(&[0, lun, 0, 0, 0, 0, 0, 0]);
    }
    data
}

/// Standard INQUIRY of tgt's controller LUN 0 (type 0x0c).
fn controller_inquiry() -> Vec<u8> {
    let mut data = fixture("tgt_inquiry_drive");
    data[0] = 0x0c;
    data
}

/// VPD 0x80 of a tgt drive: `beaf1<lun>` right-justified in 36 bytes.
fn drive_serial_page(lun: u8) -> Vec<u8> {
    let mut data = vec![0x01, 0x80, 0x00, 0x24];
    data.extend_from_slice(&[b' '; 30]);
    data.extend_from_slice(format!("beaf1{lun}").as_bytes());
    data
}

/// VPD 0x83 of a tgt drive: T10 `IET     0001000<lun>` and two NAA names,
/// as the changer's capture has them.
fn drive_identification_page(lun: u8) -> Vec<u8> {
    let mut data = fixture("tgt_vpd83_changer");
    data[0] = 0x01;
    data[23] = b'0' + lun; // T10 identifier "IET     0001000N"
    data
}

/// The three answers of a tgt drive identifying itself on its LUN.
fn drive_identity(lun: u8) -> [Answer; 3] {
    [good(fixture("tgt_inquiry_drive")), good(drive_serial_page(lun)), good(drive_identification_page(lun))]
}

// ------------------------------------------------------------- discovery

/// The changer's half of discovery plus the topology, as tgt answers.
fn tgt_changer_script(dt_report: &str) -> Vec<Answer> {
    let mut script = vec![
        good(fixture("tgt_inquiry_changer")),
        good(report_luns(&[0, 1, 2, 3])),
        good(fixture("tgt_mode_sense6_1d")),
    ];
    script.extend(res(dt_report));
    // The topology.
    script.extend([good(fixture("tgt_inquiry_changer")), good(fixture("tgt_vpd80_changer"))]);
    script.push(good(fixture("tgt_mode_sense6_1d")));
    script.extend(res("tgt_res_st_voltag"));
    script.extend(res("tgt_res_ie_voltag"));
    script.extend(res(dt_report));
    script
}

/// Runs discovery with the scripted LUNs (the changer is LUN 3); also
/// returns the LUNs it tried to open.
fn discover(
    changer: &Arc<Scripted>,
    luns: &BTreeMap<u16, Arc<Scripted>>,
    options: ChangerOptions,
) -> (Result<(ScsiChanger, Topology), AdapterError>, Vec<u16>) {
    let opened = Mutex::new(Vec::new());
    let open_lun = |lun: u16| -> Result<Arc<dyn ScsiTransport>, TransportError> {
        opened.lock().unwrap().push(lun);
        match luns.get(&lun) {
            Some(transport) => Ok(Arc::clone(transport) as Arc<dyn ScsiTransport>),
            None => Err(TransportError::Connect(format!("no LUN {lun}"))),
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
    let transport: Arc<dyn ScsiTransport> = Arc::clone(changer) as Arc<dyn ScsiTransport>;
    let result = attach(transport, DriveSource::TargetLuns { changer_lun: 3 }, &open_lun, options, clock);
    (result, opened.into_inner().unwrap())
}

#[test]
fn discovery_from_tgt_captures_pairs_drives_by_their_identifiers() {
    let changer = Scripted::new("changer", tgt_changer_script("tgt_res_dt_voltag_dvcid"));
    let controller = Scripted::new("LUN 0", [good(controller_inquiry())]);
    // Discovery, then the topology: each drive identifies itself twice.
    let tape1 = Scripted::new("LUN 1", drive_identity(1).into_iter().chain(drive_identity(1)));
    let tape2 = Scripted::new("LUN 2", drive_identity(2).into_iter().chain(drive_identity(2)));
    let luns = BTreeMap::from([(0, Arc::clone(&controller)), (1, Arc::clone(&tape1)), (2, Arc::clone(&tape2))]);

    let (result, opened) = discover(&changer, &luns, ChangerOptions::default());
    let (adapter, topology) = result.expect("discovery");
    assert_eq!(opened, [0, 1, 2], "the LUNs REPORT LUNS listed, but the changer's");

    assert_eq!((topology.vendor.as_str(), topology.product.as_str()), ("IET", "VIRTUAL-CHANGER"));
    assert_eq!((topology.revision.as_str(), topology.serial.as_deref()), ("0001", Some("beaf13")));
    assert_eq!(topology.transport, 1);
    assert_eq!(topology.warnings, Vec::<String>::new());
    let drive = |address: ElementAddress, lun: u16, identifier: &str, matched_by| DriveInfo {
        address,
        lun: Some(lun),
        serial: Some(format!("beaf1{lun}")),
        vendor: Some("IET".to_owned()),
        product: Some("VIRTUAL-TAPE".to_owned()),
        identifier: Some(identifier.to_owned()),
        matched_by,
        full: false,
        barcode: None,
    };
    assert_eq!(
        topology.drives,
        [
            drive(500, 1, "IET     VIRTUAL-TAPE    beaf11", DriveMatch::Identifier),
            // tgt's answer is 8 bytes short: the last identifier is cut.
            drive(501, 2, "IET     VIRTUAL-TAPE    be…", DriveMatch::IdentifierPrefix),
        ]
    );
    let slots: Vec<(ElementAddress, Option<&str>)> =
        topology.slots.iter().map(|s| (s.address, s.barcode.as_deref())).collect();
    let mut expected: Vec<(ElementAddress, Option<&str>)> = Vec::new();
    for (i, barcode) in ["ABC001L6", "ABC002L6", "ABC003L6", "ABC004L6", "ABC005L6", "ABC006L6"].iter().enumerate() {
        expected.push((1000 + u16::try_from(i).unwrap(), Some(barcode)));
    }
    expected.extend((1006..1010).map(|address| (address, None)));
    assert_eq!(slots, expected);
    assert!(topology.slots.iter().all(|s| s.full == s.barcode.is_some()));
    assert_eq!(topology.ports, [SlotInfo { address: 10, barcode: None, full: false }]);

    // Every transport was used up, and the CDBs are the ones tgt accepts.
    for transport in [&changer, &controller, &tape1, &tape2] {
        transport.assert_done();
    }
    let sent = changer.sent();
    assert_eq!(sent[1].0, [0xa0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x08, 0, 0], "REPORT LUNS, 2056 bytes");
    assert_eq!(sent[1].1, DataDirection::FromDevice(2056));
    // READ ELEMENT STATUS of the drives with VolTag and DVCID, header first,
    // then exactly the report length, each matching the transfer length.
    assert_eq!(sent[3].0, [0xb8, 0x14, 0x01, 0xf4, 0x00, 0x02, 0x01, 0, 0, 8, 0, 0]);
    assert_eq!(sent[3].1, DataDirection::FromDevice(8));
    assert_eq!(sent[4].0, [0xb8, 0x14, 0x01, 0xf4, 0x00, 0x02, 0x01, 0, 0, 188, 0, 0]);
    assert_eq!(sent[4].1, DataDirection::FromDevice(188));
    assert_eq!(tape1.cdbs()[1], [0x12, 0x01, 0x80, 0x00, 0xff, 0x00], "VPD 0x80");
    assert_eq!(tape1.cdbs()[2], [0x12, 0x01, 0x83, 0x00, 0xff, 0x00], "VPD 0x83");
    assert_eq!(adapter.drive_transport(501).map(|t| t.describe()), Some("scripted LUN 2".to_owned()));
}

#[test]
fn discovery_over_host_devices_sends_no_report_luns_and_pairs_by_identifier() {
    // A directly attached library: the changer is one sg device, each drive
    // another; REPORT LUNS means nothing here and is not sent.
    let mut script = tgt_changer_script("tgt_res_dt_voltag_dvcid");
    let _report_luns = script.remove(1);
    let changer = Scripted::new("changer", script);
    // Devices in number order: the second drive comes first.
    let tape2 = Scripted::new("sg4", drive_identity(2).into_iter().chain(drive_identity(2)));
    let tape1 = Scripted::new("sg5", drive_identity(1).into_iter().chain(drive_identity(1)));
    let devices = [Arc::clone(&tape2), Arc::clone(&tape1)];
    let opened = Mutex::new(Vec::new());
    let open = |index: u16| -> Result<Arc<dyn ScsiTransport>, TransportError> {
        opened.lock().unwrap().push(index);
        Ok(Arc::clone(&devices[usize::from(index)]) as Arc<dyn ScsiTransport>)
    };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
    let transport: Arc<dyn ScsiTransport> = Arc::clone(&changer) as Arc<dyn ScsiTransport>;
    let source = DriveSource::Devices { count: 2 };
    let (adapter, topology) =
        attach(transport, source, &open, ChangerOptions::default(), clock).expect("discovery over devices");
    assert_eq!(opened.into_inner().unwrap(), [0, 1]);
    let pairs: Vec<(ElementAddress, Option<u16>, DriveMatch)> =
        topology.drives.iter().map(|d| (d.address, d.lun, d.matched_by)).collect();
    assert_eq!(pairs, [(500, None, DriveMatch::Identifier), (501, None, DriveMatch::IdentifierPrefix)]);
    assert_eq!(topology.warnings, Vec::<String>::new());
    assert_eq!(adapter.drive_transport(500).map(|t| t.describe()), Some("scripted sg5".to_owned()));
    assert!(changer.cdbs().iter().all(|cdb| cdb[0] != 0xa0), "no REPORT LUNS");
    for transport in [&changer, &tape1, &tape2] {
        transport.assert_done();
    }
}

#[test]
fn sg_devices_are_the_other_sg_nodes_in_number_order() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for name in ["sg10", "sg2", "sg0", "sg1", "sga", "nst0", "sg3x"] {
        std::fs::write(dir.path().join(name), b"").expect("a node");
    }
    let changer = dir.path().join("sg1");
    let found = sg_devices(dir.path(), &changer);
    let names: Vec<String> = found.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["sg0", "sg2", "sg10"]);
    assert_eq!(sg_devices(&dir.path().join("missing"), &changer), Vec::<PathBuf>::new());
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn attaching_a_missing_sg_device_says_which_and_why() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let error = ScsiChanger::attach_sg(&dir.path().join("sg7"), ChangerOptions::default()).await.unwrap_err();
    let AdapterError::NotConnected(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("sg7") && message.contains("no such device"), "{message}");
}

#[test]
fn discovery_falls_back_to_configuration_then_lun_order() {
    // No DVCID support: READ ELEMENT STATUS with DVCID is refused.
    let mut script = vec![
        good(fixture("tgt_inquiry_changer")),
        check("tgt_sense_invalid_opcode"), // REPORT LUNS refused: probe 0..16
        good(fixture("tgt_mode_sense6_1d")),
        check("tgt_sense_invalid_address"), // DVCID refused (05/24/00)
    ];
    script.extend(res("tgt_res_dt_voltag"));
    script.extend([good(fixture("tgt_inquiry_changer")), check("tgt_sense_invalid_address")]); // no VPD 0x80
    script.push(good(fixture("tgt_mode_sense6_1d")));
    script.extend(res("tgt_res_st_voltag"));
    script.extend(res("tgt_res_ie_voltag"));
    script.push(check("tgt_sense_invalid_address"));
    script.extend(res("tgt_res_dt_voltag"));
    let changer = Scripted::new("changer", script);
    let tape5 = Scripted::new("LUN 5", drive_identity(5).into_iter().chain(drive_identity(5)));
    let tape7 = Scripted::new("LUN 7", drive_identity(7).into_iter().chain(drive_identity(7)));
    let luns = BTreeMap::from([(5, Arc::clone(&tape5)), (7, Arc::clone(&tape7))]);
    let options = ChangerOptions { drive_luns: vec![(501, 5), (502, 9)], ..ChangerOptions::default() };

    let (result, opened) = discover(&changer, &luns, options);
    let (_, topology) = result.expect("discovery");
    assert_eq!(opened, [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], "probed: 0..16 but the changer's");

    let pairs: Vec<_> =
        topology.drives.iter().map(|d| (d.address, d.lun, d.matched_by, d.identifier.clone())).collect();
    assert_eq!(pairs, [(500, Some(7), DriveMatch::LunOrder, None), (501, Some(5), DriveMatch::Configuration, None)]);
    assert_eq!(topology.serial, None, "the changer refused VPD 0x80");
    assert_eq!(
        topology.warnings,
        [
            "configured drive 502 (LUN 9) is not a drive element of the changer",
            "drive 500: nothing identifies its LUN; took LUN 7 in LUN order",
        ]
    );
    changer.assert_done();
    tape5.assert_done();
    tape7.assert_done();
}

#[test]
fn discovery_refuses_a_lun_that_is_not_a_changer() {
    let changer = Scripted::new("changer", [good(fixture("tgt_inquiry_drive"))]);
    match discover(&changer, &BTreeMap::new(), ChangerOptions::default()).0 {
        Err(AdapterError::Io(why)) => assert!(why.contains("not a medium changer") && why.contains("0x01"), "{why}"),
        other => panic!("a tape LUN as the changer: {other:?}"),
    }
}

#[test]
fn cut_identifier_of_tgts_last_drive_is_recovered() {
    let data = fixture("tgt_res_dt_voltag_dvcid");
    let cut = cut_identifiers(&data);
    assert_eq!(cut.len(), 1, "{cut:?}");
    let (code_set, bytes) = &cut[&501];
    assert_eq!((*code_set, bytes.as_slice()), (rsm_scsi::CodeSet::Ascii, b"IET     VIRTUAL-TAPE    be".as_slice()));

    let status = rsm_scsi::element_status::parse(&data).unwrap();
    let drives = reported_drives(&status, &data);
    assert_eq!(drives.len(), 2);
    // The loaded capture: both full, with their bar codes.
    let data = fixture("tgt_res_dt_loaded_voltag_dvcid");
    let status = rsm_scsi::element_status::parse(&data).unwrap();
    let barcodes: Vec<_> = status.elements.iter().map(|e| (e.address, e.full, super::barcode(e))).collect::<Vec<_>>();
    assert_eq!(barcodes, [(500, true, Some("ABC001L6".to_owned())), (501, true, Some("ABC002L6".to_owned()))]);
}

#[test]
fn decoders_never_panic_on_any_input() {
    // Every captured and hand-made answer, then seeded noise.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scsi/tests/fixtures");
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().to_string_lossy().strip_suffix(".hex").map(str::to_owned))
        .map(|name| fixture(&name))
        .collect();
    let seed = 0x5eed_2026_u64;
    println!("seed {seed:#x}");
    let mut state = seed;
    for _ in 0..2_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = usize::try_from(state % 200).unwrap();
        let bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 8 * 8)) as u8 ^ i as u8).collect();
        inputs.push(bytes);
    }
    for input in &inputs {
        let _ = cut_identifiers(input);
        let _ = parse_report_luns(input);
        for cut in 0..input.len().min(64) {
            let _ = cut_identifiers(&input[..cut]);
        }
    }
}

#[test]
fn report_luns_decoding() {
    assert_eq!(report_luns_cdb(16), [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0]);
    assert_eq!(parse_report_luns(&report_luns(&[0, 1, 2, 3])), Ok(vec![0, 1, 2, 3]));
    // Flat space addressing (tgt's form above LUN 255), then a hierarchical
    // entry and a peripheral entry on bus 1, both skipped.
    let mut data = vec![0, 0, 0, 32, 0, 0, 0, 0];
    data.extend_from_slice(&[0x41, 0x2c, 0, 0, 0, 0, 0, 0]);
    data.extend_from_slice(&[0x00, 0x05, 0x00, 0x01, 0, 0, 0, 0]);
    data.extend_from_slice(&[0x01, 0x05, 0, 0, 0, 0, 0, 0]);
    data.extend_from_slice(&[0x80, 0x05, 0, 0, 0, 0, 0, 0]);
    assert_eq!(parse_report_luns(&data), Ok(vec![300]));
    // The list length says more than arrived, or less: what is both listed and there.
    let mut short = report_luns(&[1, 2, 3]);
    short.truncate(8 + 8 + 4);
    assert_eq!(parse_report_luns(&short), Ok(vec![1]));
    let mut long = report_luns(&[1, 2]);
    long[3] = 8;
    assert_eq!(parse_report_luns(&long), Ok(vec![1]));
    assert!(parse_report_luns(&[0, 0]).is_err());
}

// ------------------------------------------------------ element status

#[tokio::test]
async fn element_status_reads_each_type_in_two_steps() {
    let script =
        [res("tgt_res_mt_voltag"), res("tgt_res_st_voltag"), res("tgt_res_ie_full"), res("tgt_res_dt_stale_tag")];
    let transport = Scripted::new("changer", script.into_iter().flatten());
    let (adapter, _) = changer(&transport, &[], ChangerOptions::default());

    let status = adapter.element_status().await.expect("element status");

    let render: Vec<String> = status
        .iter()
        .map(|e| format!("{:?} {} {} {}", e.kind, e.address, e.full, e.barcode.as_deref().unwrap_or("-")))
        .collect();
    let mut expected: Vec<String> = ["Transport 1 false -", "ImportExport 10 true ABC006L6"]
        .into_iter()
        .chain(["DataTransfer 500 false -", "DataTransfer 501 false -"])
        .map(str::to_owned)
        .collect();
    for (i, barcode) in ["ABC001L6", "ABC002L6", "ABC003L6", "ABC004L6", "ABC005L6", "ABC006L6"].iter().enumerate() {
        expected.push(format!("Storage {} true {barcode}", 1000 + i));
    }
    expected.extend((1006..1010).map(|a| format!("Storage {a} false -")));
    assert_eq!(render, expected, "sorted by address; the stale tag on empty drive 501 is dropped");

    transport.assert_done();
    let sent = transport.sent();
    let steps: Vec<(u8, u8, u32, DataDirection)> = sent
        .iter()
        .map(|(cdb, dir, timeout_ms)| {
            assert_eq!(*timeout_ms, 30_000);
            (cdb[1], cdb[6], u32::from_be_bytes([0, cdb[7], cdb[8], cdb[9]]), dir.clone())
        })
        .collect();
    let two = |kind: u8, len: u32| {
        let len_usize = usize::try_from(len).unwrap();
        [(0x10 | kind, 0, 8, DataDirection::FromDevice(8)), (0x10 | kind, 0, len, DataDirection::FromDevice(len_usize))]
    };
    let expected: Vec<_> = [two(1, 68), two(2, 536), two(3, 68), two(4, 120)].into_iter().flatten().collect();
    assert_eq!(steps, expected, "one type at a time, VolTag, header first, then byte count + 8");
}

#[test]
fn unreadable_or_incomplete_inventories_are_io_errors() {
    // A header cut short, a reserved element type, and fewer slots than
    // MODE SENSE announced: each an Io error naming the command.
    let cut_header = Scripted::new("changer", [good(vec![0, 1, 0])]);
    let bad_type = fixture("hand_res_bad_element_type");
    let bad_type = Scripted::new("changer", [good(bad_type[..8].to_vec()), good(bad_type)]);
    let mut few = fixture("tgt_res_st_voltag");
    few.truncate(8 + 8 + 52 * 3);
    let few = Scripted::new("changer", [good(few[..8].to_vec()), good(few)]);
    for (transport, expected) in
        [(cut_header, "unreadable answer"), (bad_type, "unexpected value"), (few, "3 elements reported, 10 expected")]
    {
        let (adapter, _) = changer(&transport, &[], ChangerOptions::default());
        let result = adapter.inner.read_elements(rsm_scsi::ElementType::Storage, tgt_map().storage, false);
        match result {
            Err(AdapterError::Io(why)) => {
                assert!(why.contains("READ ELEMENT STATUS of storage elements") && why.contains(expected), "{why}")
            }
            other => panic!("expected an Io error with {expected:?}, got {other:?}"),
        }
    }
}

// --------------------------------------------------- retries and errors

#[tokio::test]
async fn unit_attention_is_retried_with_backoff_then_succeeds() {
    let transport = Scripted::new("changer", [unit_attention(), unit_attention(), becoming_ready(), done()]);
    let (adapter, clock) = changer(&transport, &[], ChangerOptions::default());

    adapter.move_medium(1000, 500).await.expect("MOVE MEDIUM after two unit attentions");

    assert_eq!(transport.cdbs(), vec![MOVE_1000_500.to_vec(); 4], "the same MOVE MEDIUM each time");
    assert!(transport.sent().iter().all(|(_, dir, timeout_ms)| *dir == DataDirection::None && *timeout_ms == 300_000));
    assert_eq!(clock.sleeps_ms(), [50, 100, 200]);
    transport.assert_done();
}

#[test]
fn retries_are_bounded_and_the_last_sense_is_reported() {
    // Default: 5 retries, 50 ms doubling.
    let transport = Scripted::new("changer", (0..6).map(|_| unit_attention()));
    let (adapter, clock) = changer(&transport, &[], ChangerOptions::default());
    let (operation, sense) = check_of(adapter.inner.move_medium(1000, 500));
    assert_eq!(sense, SenseData { key: 0x6, asc: 0x29, ascq: 0x00 });
    assert_eq!(operation, "MOVE MEDIUM 1000 -> 500 (still UNIT ATTENTION, ASC/ASCQ 29/00 after 5 retries)");
    assert_eq!(transport.cdbs().len(), 6);
    assert_eq!(clock.sleeps_ms(), [50, 100, 200, 400, 800]);
    transport.assert_done();

    // The backoff is capped, and so is the number of retries.
    let options = ChangerOptions { retries: 1_000, retry_backoff_max_ms: 300, ..ChangerOptions::default() };
    let max = usize::try_from(changer_limits::RETRIES_MAX).unwrap();
    let transport = Scripted::new("changer", (0..=max).map(|_| becoming_ready()));
    let (adapter, clock) = changer(&transport, &[], options);
    let (_, sense) = check_of(adapter.inner.move_medium(1000, 500));
    assert_eq!(sense, SenseData { key: 0x2, asc: 0x04, ascq: 0x01 });
    let sleeps = clock.sleeps_ms();
    assert_eq!(sleeps.len(), max);
    assert_eq!(sleeps[..4], [50, 100, 200, 300]);
    assert!(sleeps[3..].iter().all(|&ms| ms == 300));
    transport.assert_done();

    // BUSY is retried the same way, and is an Io error when it lasts.
    let busy = || Ok(Response { status: status::BUSY, data: Vec::new(), sense: Vec::new() });
    let options = ChangerOptions { retries: 2, ..ChangerOptions::default() };
    let transport = Scripted::new("changer", [busy(), busy(), busy()]);
    let (adapter, _) = changer(&transport, &[], options.clone());
    match adapter.inner.move_medium(1000, 500) {
        Err(AdapterError::Io(why)) => assert!(why.contains("busy (status 0x08) after 2 retries"), "{why}"),
        other => panic!("lasting BUSY: {other:?}"),
    }
    let transport = Scripted::new("changer", [busy(), done()]);
    let (adapter, _) = changer(&transport, &[], options);
    adapter.inner.move_medium(1000, 500).expect("MOVE MEDIUM after one BUSY");
}

#[test]
fn device_sense_becomes_a_check_error_without_retry() {
    // One row per sense the engine maps to an NTMS code.
    let rows: [(&str, SenseData); 6] = [
        ("tgt_sense_source_empty", SenseData::SOURCE_EMPTY),
        ("tgt_sense_destination_full", SenseData::DESTINATION_FULL),
        ("tgt_sense_removal_prevented", SenseData::REMOVAL_PREVENTED),
        ("tgt_sense_hardware_error", SenseData::ROBOT_FAILURE),
        ("tgt_sense_invalid_address", SenseData { key: 0x5, asc: 0x24, ascq: 0x00 }),
        // Descriptor format, same meaning as the first row.
        ("hand_sense_descriptor", SenseData::SOURCE_EMPTY),
    ];
    for (name, expected) in rows {
        let transport = Scripted::new("changer", [check(name)]);
        let (adapter, clock) = changer(&transport, &[], ChangerOptions::default());
        let (operation, sense) = check_of(adapter.inner.move_medium(1000, 500));
        assert_eq!((operation.as_str(), sense), ("MOVE MEDIUM 1000 -> 500", expected), "{name}");
        assert_eq!(transport.cdbs().len(), 1, "{name}: not retried");
        assert!(clock.sleeps_ms().is_empty());
    }
}

#[test]
fn transport_failures_and_unreadable_answers() {
    let conflict = Ok(Response { status: status::RESERVATION_CONFLICT, data: Vec::new(), sense: Vec::new() });
    let rows: Vec<(Answer, &str, &str)> = vec![
        (Err(TransportError::Timeout("no answer in 300000 ms".to_owned())), "Io", "may still carry it out"),
        (Err(TransportError::Io("connection reset".to_owned())), "Io", "connection reset"),
        (Err(TransportError::Connect("login refused".to_owned())), "NotConnected", "login refused"),
        (check_bytes(Vec::new()), "Io", "CHECK CONDITION without sense data"),
        (check_bytes(vec![0x12, 0x34, 0x56]), "Io", "unreadable sense data"),
        (conflict, "Io", "unexpected SCSI status 0x18"),
    ];
    for (answer, kind, expected) in rows {
        let transport = Scripted::new("changer", [answer]);
        let (adapter, clock) = changer(&transport, &[], ChangerOptions::default());
        let result = adapter.inner.move_medium(1000, 500);
        let (got, why) = match &result {
            Err(AdapterError::Io(why)) => ("Io", why),
            Err(AdapterError::NotConnected(why)) => ("NotConnected", why),
            other => panic!("{expected}: {other:?}"),
        };
        assert_eq!(got, kind, "{why}");
        assert!(why.contains("MOVE MEDIUM 1000 -> 500 on scripted changer") && why.contains(expected), "{why}");
        assert_eq!(transport.cdbs().len(), 1, "{expected}: never retried");
        assert!(clock.sleeps_ms().is_empty());
    }
}

// ---------------------------------------------------------- load, unload

#[tokio::test]
async fn load_polls_until_the_drive_is_ready() {
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", [becoming_ready(), unit_attention(), becoming_ready(), done()]);
    let (adapter, clock) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());

    adapter.load(500).await.expect("load");

    assert_eq!(drive.cdbs(), vec![TUR.to_vec(); 4]);
    assert_eq!(clock.sleeps_ms(), [50, 100, 200]);
    drive.assert_done();
}

#[test]
fn load_gives_up_at_the_ready_timeout_with_the_last_sense() {
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", (0..6).map(|_| becoming_ready()));
    let options = ChangerOptions { ready_timeout_ms: 1_000, ..ChangerOptions::default() };
    let (adapter, clock) = changer(&changer_t, &[(500, &drive)], options);

    let (operation, sense) = check_of(adapter.inner.load(500));

    assert_eq!(sense, SenseData { key: 0x2, asc: 0x04, ascq: 0x01 });
    assert!(operation.starts_with("LOAD drive 500: not ready after 1000 ms"), "{operation}");
    // Polls at 0, 50, 150, 350, 750 and 1000 ms: the last wait is cut to the deadline.
    assert_eq!(clock.sleeps_ms(), [50, 100, 200, 400, 250]);
    drive.assert_done();
}

#[test]
fn load_of_an_empty_drive_answers_at_once() {
    let changer_t = Scripted::new("changer", res("tgt_res_dt_voltag"));
    let drive = Scripted::new("drive", [medium_not_present()]);
    let (adapter, clock) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());

    let (operation, sense) = check_of(adapter.inner.load(500));

    assert_eq!((operation.as_str(), sense), ("LOAD drive 500", SenseData::MEDIUM_NOT_PRESENT));
    assert_eq!(drive.cdbs(), [TUR.to_vec()], "no LOAD into an empty drive");
    assert_eq!(changer_t.cdbs()[0], [0xb8, 0x14, 0x01, 0xf4, 0x00, 0x01, 0x00, 0, 0, 8, 0, 0]);
    assert!(clock.sleeps_ms().is_empty());
    changer_t.assert_done();
}

#[test]
fn load_threads_a_tape_that_sits_unloaded_in_the_drive() {
    // tgt after an unload: no medium for TEST UNIT READY, yet the element is
    // full. A plain LOAD is ignored (GOOD, still no medium); the one with
    // RETEN (tgt's LOEJ) loads it.
    let changer_t = Scripted::new("changer", res("tgt_res_dt_loaded_voltag"));
    let drive = Scripted::new("drive", [medium_not_present(), done(), medium_not_present(), done(), done()]);
    let (adapter, clock) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());

    adapter.inner.load(500).expect("load");

    assert_eq!(drive.cdbs(), [TUR.to_vec(), LOAD.to_vec(), TUR.to_vec(), LOAD_RETEN.to_vec(), TUR.to_vec()]);
    assert_eq!(clock.sleeps_ms(), [50, 100]);
    drive.assert_done();
    changer_t.assert_done();
}

#[test]
fn unload_is_verified() {
    // A drive that ejects: the tape is out, and still in the element.
    let changer_t = Scripted::new("changer", res("tgt_res_dt_loaded_voltag"));
    let drive = Scripted::new("drive", [done(), medium_not_present()]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    adapter.inner.unload(500).expect("unload");
    assert_eq!(drive.cdbs(), [UNLOAD.to_vec(), TUR.to_vec()]);
    assert!(drive.sent().iter().all(|(_, _, timeout_ms)| [600_000, 30_000].contains(timeout_ms)));

    // tgt: a plain unload changes nothing; the one with RETEN ejects.
    let changer_t = Scripted::new("changer", res("tgt_res_dt_loaded_voltag"));
    let drive = Scripted::new("drive", [done(), done(), done(), medium_not_present()]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    adapter.inner.unload(500).expect("unload");
    assert_eq!(drive.cdbs(), [UNLOAD.to_vec(), TUR.to_vec(), UNLOAD_RETEN.to_vec(), TUR.to_vec()]);

    // A drive that says GOOD and never lets go.
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", [done(), done(), done(), done()]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    let (operation, refused) = check_of(adapter.inner.unload(500));
    assert_eq!(refused, SenseData::LOAD_EJECT_FAILED);
    assert!(operation.contains("still reports ready"), "{operation}");

    // A drive that reports it needs a LOAD (04/02) after the unload: done.
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", [done(), check_bytes(sense(0x2, 0x04, 0x02))]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    adapter.inner.unload(500).expect("unload");
}

#[test]
fn unload_refusals_carry_the_drives_sense() {
    // Removal prevented on the drive.
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", [check("tgt_sense_removal_prevented")]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    assert_eq!(check_of(adapter.inner.unload(500)), ("UNLOAD drive 500".to_owned(), SenseData::REMOVAL_PREVENTED));

    // An empty drive: MEDIUM NOT PRESENT, as the simulator says.
    let changer_t = Scripted::new("changer", res("tgt_res_dt_voltag"));
    let drive = Scripted::new("drive", [medium_not_present()]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    assert_eq!(check_of(adapter.inner.unload(500)).1, SenseData::MEDIUM_NOT_PRESENT);

    // An unloaded drive whose tape is still in it: nothing to do.
    let changer_t = Scripted::new("changer", res("tgt_res_dt_loaded_voltag"));
    let drive = Scripted::new("drive", [medium_not_present()]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    adapter.inner.unload(500).expect("unload of an unloaded drive");
    assert_eq!(drive.cdbs(), [UNLOAD.to_vec()]);
}

#[tokio::test]
async fn drives_without_a_transport() {
    let changer_t = Scripted::new("changer", []);
    let (adapter, _) = changer(&changer_t, &[], ChangerOptions::default());
    // A slot is not a drive.
    assert_eq!(check_of(adapter.load(1000).await).1, SenseData::INVALID_ELEMENT);
    // A drive of the changer that no LUN was found for.
    match adapter.unload(501).await {
        Err(AdapterError::NotConnected(why)) => assert!(why.contains("drive 501 has no LUN"), "{why}"),
        other => panic!("unload of a drive without a LUN: {other:?}"),
    }
    assert!(changer_t.cdbs().is_empty());
}

#[test]
fn a_timeout_while_polling_ends_the_load() {
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", [becoming_ready(), Err(TransportError::Timeout("30000 ms".to_owned()))]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    match adapter.inner.load(500) {
        Err(AdapterError::Io(why)) => assert!(why.contains("TEST UNIT READY of drive 500") && why.contains("30000 ms")),
        other => panic!("a timeout while polling: {other:?}"),
    }
    drive.assert_done();
}

#[tokio::test]
async fn the_element_map_is_read_once_on_first_need() {
    let transport = Scripted::new("changer", [good(fixture("tgt_mode_sense6_1d")), done(), done()]);
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
    let changer_t: Arc<dyn ScsiTransport> = Arc::clone(&transport) as Arc<dyn ScsiTransport>;
    let adapter = ScsiChanger::from_parts(changer_t, BTreeMap::new(), ChangerOptions::default(), clock, None);
    adapter.move_medium(1000, 500).await.expect("first move");
    adapter.move_medium(500, 1000).await.expect("second move");
    let cdbs = transport.cdbs();
    assert_eq!(cdbs[0], [0x1a, 0x08, 0x1d, 0x00, 0xff, 0x00]);
    assert_eq!(cdbs[1], MOVE_1000_500, "transport address 1 from the page");
    assert_eq!(cdbs.len(), 3);
    assert!(format!("{adapter:?}").contains("scripted changer"));
}

// --------------------------------------------------- the door and attention

const PREVENT: [u8; 6] = [0x1e, 0, 0, 0, 0x01, 0];
const ALLOW: [u8; 6] = [0x1e, 0, 0, 0, 0x00, 0];

#[tokio::test]
async fn the_door_is_prevent_allow_medium_removal_on_the_changer() {
    let transport = Scripted::new("changer", [done(), done()]);
    let (adapter, _) = changer(&transport, &[], ChangerOptions::default());
    adapter.allow_medium_removal(true).await.expect("unlocked");
    adapter.allow_medium_removal(false).await.expect("locked");
    assert_eq!(transport.cdbs(), vec![ALLOW.to_vec(), PREVENT.to_vec()]);
    transport.assert_done();
}

/// tgt raises no UNIT ATTENTION 28h when its slots change behind the
/// initiator's back (tgtadm), so this is proved on a scripted transport:
/// the changer reports "medium may have changed" on some command, which is
/// retried as usual, and the next question says an inventory is due, once.
#[tokio::test]
async fn a_unit_attention_that_elements_changed_is_reported_once() {
    let changed = check_bytes(sense(0x6, 0x28, 0x00));
    let transport = Scripted::new("changer", [changed, done(), done(), done()]);
    let (adapter, _) = changer(&transport, &[], ChangerOptions::default());
    adapter.move_medium(1000, 500).await.expect("MOVE MEDIUM once the attention is cleared");
    assert!(adapter.elements_changed().await.expect("TEST UNIT READY"), "the attention is remembered");
    assert!(!adapter.elements_changed().await.expect("TEST UNIT READY"), "and reported once");
    assert_eq!(transport.cdbs(), vec![MOVE_1000_500.to_vec(), MOVE_1000_500.to_vec(), TUR.to_vec(), TUR.to_vec()]);
    transport.assert_done();
}

#[tokio::test]
async fn a_power_on_attention_is_no_change_of_elements() {
    let transport = Scripted::new("changer", [unit_attention(), done()]);
    let (adapter, _) = changer(&transport, &[], ChangerOptions::default());
    assert!(!adapter.elements_changed().await.expect("TEST UNIT READY after the attention"));
    transport.assert_done();
}

#[tokio::test]
async fn a_drive_that_asks_for_cleaning_is_reported_once_and_its_command_completes() {
    // The unload answers NO SENSE, CLEANING REQUESTED (00/17): it completed.
    let changer_t = Scripted::new("changer", res("tgt_res_dt_loaded_voltag"));
    let drive = Scripted::new("drive", [check_bytes(sense(0x0, 0x00, 0x17)), medium_not_present()]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    assert_eq!(adapter.drives_needing_cleaning().await.unwrap(), Vec::<ElementAddress>::new());
    adapter.inner.unload(500).expect("an informational sense is no failure");
    assert_eq!(adapter.drives_needing_cleaning().await.unwrap(), [500]);
    assert_eq!(adapter.drives_needing_cleaning().await.unwrap(), Vec::<ElementAddress>::new(), "reported once");
    drive.assert_done();

    // RECOVERED ERROR with the same code: completed too, and reported.
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", [check_bytes(sense(0x1, 0x00, 0x17))]);
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    adapter.inner.load(500).expect("ready");
    assert_eq!(adapter.drives_needing_cleaning().await.unwrap(), [500]);
}

#[test]
fn a_clean_waits_while_the_drive_cleans_then_takes_the_cleaner_out() {
    // Cleaning (02/30/03) twice, then the drive has ejected the cleaner:
    // no medium (3A), the element still full.
    let changer_t = Scripted::new("changer", res("tgt_res_dt_loaded_voltag"));
    let cleaning = || check_bytes(sense(0x2, 0x30, 0x03));
    let drive = Scripted::new("drive", [cleaning(), cleaning(), done(), done(), medium_not_present()]);
    let (adapter, clock) = changer(&changer_t, &[(500, &drive)], ChangerOptions::default());
    adapter.inner.clean(500).expect("cleaned");
    assert_eq!(drive.cdbs(), [TUR.to_vec(), TUR.to_vec(), TUR.to_vec(), UNLOAD.to_vec(), TUR.to_vec()]);
    assert!(clock.elapsed() > Duration::ZERO, "it waited between polls");

    // A drive that never finishes: the unload timeout, with its sense.
    let changer_t = Scripted::new("changer", []);
    let drive = Scripted::new("drive", std::iter::repeat_with(cleaning).take(200));
    let options = ChangerOptions { unload_timeout_ms: 1_000, ..ChangerOptions::default() };
    let (adapter, _) = changer(&changer_t, &[(500, &drive)], options);
    let (operation, sense) = check_of(adapter.inner.clean(500));
    assert!(operation.contains("still cleaning"), "{operation}");
    assert_eq!((sense.asc, sense.ascq), (0x30, 0x03));
}
