//! Tests of the simulator: one table per operation with a row per sense
//! path, faults, persistence across reopen, damaged files, timed moves under
//! paused time, and seeded random sequences that must conserve cartridges.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;

use super::*;

const TRANSPORT: ElementAddress = 1;
const PORT: ElementAddress = 16;
const DRIVE_LOADED: ElementAddress = 256;
const DRIVE_UNLOADED: ElementAddress = 257;
const DRIVE_EMPTY: ElementAddress = 258;
const SLOT_EMPTIED_1: ElementAddress = 1000;
const SLOT_EMPTIED_2: ElementAddress = 1001;
const SLOT_FULL: ElementAddress = 1002;
const SLOT_EMPTY: ElementAddress = 1003;
const NOWHERE: ElementAddress = 9999;

const A1: &str = "A00001L6";
const A2: &str = "A00002L6";
const A3: &str = "A00003L6";

const OK: Option<SenseData> = None;
const INVALID: Option<SenseData> = Some(SenseData::INVALID_ELEMENT);
const EMPTY: Option<SenseData> = Some(SenseData::SOURCE_EMPTY);
const FULL: Option<SenseData> = Some(SenseData::DESTINATION_FULL);
const PREVENTED: Option<SenseData> = Some(SenseData::REMOVAL_PREVENTED);
const NOT_PRESENT: Option<SenseData> = Some(SenseData::MEDIUM_NOT_PRESENT);
const LOAD_EJECT: Option<SenseData> = Some(SenseData::LOAD_EJECT_FAILED);
const ROBOT: Option<SenseData> = Some(SenseData::ROBOT_FAILURE);

fn layout() -> SimLayout {
    SimLayout {
        drives: vec![DRIVE_EMPTY, DRIVE_LOADED, DRIVE_UNLOADED],
        slots: vec![
            (SLOT_EMPTY, None),
            (SLOT_EMPTIED_1, Some(A1.to_string())),
            (SLOT_EMPTIED_2, Some(A2.to_string())),
            (SLOT_FULL, Some(A3.to_string())),
        ],
        ports: vec![PORT],
        transport: TRANSPORT,
        first_blocks: BTreeMap::new(),
    }
}

/// A library in a temporary directory, kept alive with it.
struct Fixture {
    dir: TempDir,
    path: PathBuf,
    library: SimulatedLibrary,
}

impl Fixture {
    /// The library just as `layout()` describes it.
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("library.json");
        let library = SimulatedLibrary::create(&path, &layout(), SimTimings::default()).expect("create");
        Fixture { dir, path, library }
    }

    /// The standard scene: A1 loaded in `DRIVE_LOADED`, A2 unloaded in
    /// `DRIVE_UNLOADED`, A3 in `SLOT_FULL`, everything else empty.
    async fn given() -> Fixture {
        let fixture = Fixture::new();
        let library = &fixture.library;
        library.move_medium(SLOT_EMPTIED_1, DRIVE_LOADED).await.expect("move A1 to a drive");
        library.load(DRIVE_LOADED).await.expect("load A1");
        library.move_medium(SLOT_EMPTIED_2, DRIVE_UNLOADED).await.expect("move A2 to a drive");
        fixture
    }

    fn reopen(self) -> Fixture {
        let Fixture { dir, path, library } = self;
        drop(library);
        let library = SimulatedLibrary::open(&path, SimTimings::default()).expect("reopen");
        Fixture { dir, path, library }
    }

    fn file(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("the state file is readable")
    }

    fn state(&self) -> SimState {
        self.library.lock().clone()
    }
}

/// The sense data of a failed call, `None` for success; panics on any
/// other error.
fn sense<T>(result: Result<T, AdapterError>) -> Option<SenseData> {
    match result {
        Ok(_) => None,
        Err(AdapterError::Check { sense, .. }) => Some(sense),
        Err(other) => panic!("expected success or CHECK CONDITION, got {other}"),
    }
}

/// Asserts a refused call left no trace, in memory or on disk.
fn assert_no_trace(fixture: &Fixture, state: &SimState, file: &[u8], what: &str) {
    assert_eq!(&fixture.state(), state, "{what}: the state changed");
    assert_eq!(fixture.file(), file, "{what}: the file changed");
}

#[tokio::test]
async fn move_medium_table() {
    #[rustfmt::skip]
    let table: &[(ElementAddress, ElementAddress, Option<SenseData>, &str)] = &[
        (NOWHERE, SLOT_EMPTY, INVALID, "unknown source"),
        (SLOT_FULL, NOWHERE, INVALID, "unknown destination"),
        (TRANSPORT, SLOT_EMPTY, INVALID, "the transport is no source"),
        (SLOT_FULL, TRANSPORT, INVALID, "the transport is no destination"),
        (NOWHERE, SLOT_EMPTIED_1, INVALID, "address checked before emptiness"),
        (SLOT_EMPTIED_1, SLOT_EMPTY, EMPTY, "empty slot"),
        (DRIVE_EMPTY, SLOT_EMPTY, EMPTY, "empty drive"),
        (PORT, SLOT_EMPTY, EMPTY, "empty port"),
        (SLOT_EMPTIED_1, DRIVE_UNLOADED, EMPTY, "source empty checked before destination full"),
        (SLOT_FULL, DRIVE_UNLOADED, FULL, "full drive"),
        (SLOT_FULL, SLOT_FULL, FULL, "onto itself"),
        (DRIVE_LOADED, DRIVE_UNLOADED, FULL, "destination full checked before removal prevented"),
        (DRIVE_LOADED, SLOT_EMPTY, PREVENTED, "tape still loaded"),
        (DRIVE_UNLOADED, SLOT_EMPTY, OK, "unloaded drive to slot"),
        (SLOT_FULL, DRIVE_EMPTY, OK, "slot to drive"),
        (SLOT_FULL, PORT, OK, "slot to port"),
        (DRIVE_UNLOADED, PORT, OK, "drive to port"),
    ];
    for &(source, destination, expected, what) in table {
        let fixture = Fixture::given().await;
        let (state, file) = (fixture.state(), fixture.file());
        let barcode = state.elements.get(&source).and_then(|e| e.barcode.clone());
        let got = sense(fixture.library.move_medium(source, destination).await);
        assert_eq!(got, expected, "{what}: MOVE MEDIUM {source} -> {destination}");
        if expected.is_some() {
            assert_no_trace(&fixture, &state, &file, what);
        } else {
            let barcode = barcode.expect("a successful move had a cartridge to move");
            assert_eq!(fixture.library.locate(&barcode), Some(destination), "{what}");
            let after = fixture.reopen();
            assert_eq!(after.library.locate(&barcode), Some(destination), "{what}: after reopen");
            assert!(!after.state().elements[&destination].loaded, "{what}: a moved tape is not loaded");
        }
    }
}

#[tokio::test]
async fn load_table() {
    #[rustfmt::skip]
    let table: &[(ElementAddress, Option<SenseData>, &str)] = &[
        (NOWHERE, INVALID, "unknown address"),
        (SLOT_FULL, INVALID, "a slot is no drive"),
        (PORT, INVALID, "a port is no drive"),
        (TRANSPORT, INVALID, "the transport is no drive"),
        (DRIVE_EMPTY, NOT_PRESENT, "empty drive"),
        (DRIVE_UNLOADED, OK, "threads the tape"),
        (DRIVE_LOADED, OK, "already loaded: nothing changes"),
    ];
    for &(drive, expected, what) in table {
        let fixture = Fixture::given().await;
        let (state, file) = (fixture.state(), fixture.file());
        assert_eq!(sense(fixture.library.load(drive).await), expected, "{what}: LOAD {drive}");
        if expected.is_some() {
            assert_no_trace(&fixture, &state, &file, what);
        } else {
            let moved = fixture.library.move_medium(drive, SLOT_EMPTY).await;
            assert_eq!(sense(moved), PREVENTED, "{what}: a loaded tape cannot be taken");
        }
    }
}

#[tokio::test]
async fn unload_table() {
    #[rustfmt::skip]
    let table: &[(ElementAddress, Option<SenseData>, &str)] = &[
        (NOWHERE, INVALID, "unknown address"),
        (SLOT_FULL, INVALID, "a slot is no drive"),
        (TRANSPORT, INVALID, "the transport is no drive"),
        (DRIVE_EMPTY, NOT_PRESENT, "empty drive"),
        (DRIVE_LOADED, OK, "ejects the tape"),
        (DRIVE_UNLOADED, OK, "already unloaded: nothing changes"),
    ];
    for &(drive, expected, what) in table {
        let fixture = Fixture::given().await;
        let (state, file) = (fixture.state(), fixture.file());
        assert_eq!(sense(fixture.library.unload(drive).await), expected, "{what}: UNLOAD {drive}");
        if expected.is_some() {
            assert_no_trace(&fixture, &state, &file, what);
        } else {
            let moved = fixture.library.move_medium(drive, SLOT_EMPTY).await;
            assert_eq!(sense(moved), OK, "{what}: an unloaded tape can be taken");
        }
    }
}

#[tokio::test]
async fn unload_is_idempotent_without_rewriting_the_file() {
    let fixture = Fixture::given().await;
    fixture.library.unload(DRIVE_LOADED).await.expect("unload");
    let (state, file) = (fixture.state(), fixture.file());
    fixture.library.unload(DRIVE_LOADED).await.expect("unload again");
    assert_no_trace(&fixture, &state, &file, "second unload");
}

#[tokio::test]
async fn robot_failure_consumes_one_count_and_nothing_moves() {
    let fixture = Fixture::given().await;
    let library = &fixture.library;
    library.inject(Fault::RobotFailure, 2).expect("inject");
    let before = library.element_status().await.expect("status");

    assert_eq!(sense(library.move_medium(SLOT_FULL, SLOT_EMPTY).await), ROBOT);
    assert_eq!(library.pending_faults(), vec![(Fault::RobotFailure, 1)]);
    assert_eq!(library.element_status().await.expect("status"), before, "nothing moved");

    assert_eq!(sense(library.move_medium(SLOT_FULL, SLOT_EMPTY).await), ROBOT);
    assert_eq!(library.pending_faults(), vec![]);
    assert_eq!(library.element_status().await.expect("status"), before, "nothing moved");

    assert_eq!(sense(library.move_medium(SLOT_FULL, SLOT_EMPTY).await), OK);
    assert_eq!(library.locate(A3), Some(SLOT_EMPTY));
}

#[tokio::test]
async fn an_illegal_request_does_not_consume_a_fault() {
    let fixture = Fixture::given().await;
    let library = &fixture.library;
    library.inject(Fault::RobotFailure, 1).expect("inject");
    library.inject(Fault::DriveWillNotLoad { drive: DRIVE_EMPTY }, 1).expect("inject");
    library.inject(Fault::DriveWillNotUnload { drive: DRIVE_EMPTY }, 1).expect("inject");
    let pending = library.pending_faults();
    let file = fixture.file();

    assert_eq!(sense(library.move_medium(SLOT_EMPTY, SLOT_EMPTIED_1).await), EMPTY);
    assert_eq!(sense(library.move_medium(DRIVE_LOADED, SLOT_EMPTY).await), PREVENTED);
    assert_eq!(sense(library.load(DRIVE_EMPTY).await), NOT_PRESENT);
    assert_eq!(sense(library.unload(DRIVE_EMPTY).await), NOT_PRESENT);

    assert_eq!(library.pending_faults(), pending);
    assert_eq!(fixture.file(), file);
}

#[tokio::test]
async fn drive_will_not_unload_keeps_the_tape_loaded() {
    let fixture = Fixture::given().await;
    let library = &fixture.library;
    library.inject(Fault::DriveWillNotUnload { drive: DRIVE_UNLOADED }, 1).expect("inject");
    library.inject(Fault::DriveWillNotUnload { drive: DRIVE_LOADED }, 1).expect("inject");

    assert_eq!(sense(library.unload(DRIVE_LOADED).await), LOAD_EJECT);
    assert_eq!(library.pending_faults(), vec![(Fault::DriveWillNotUnload { drive: DRIVE_UNLOADED }, 1)]);
    assert_eq!(sense(library.move_medium(DRIVE_LOADED, SLOT_EMPTY).await), PREVENTED, "still loaded");

    assert_eq!(sense(library.unload(DRIVE_LOADED).await), OK, "the fault fired once");
    assert_eq!(sense(library.move_medium(DRIVE_LOADED, SLOT_EMPTY).await), OK);
    assert_eq!(library.locate(A1), Some(SLOT_EMPTY));
}

#[tokio::test]
async fn drive_will_not_load_leaves_the_cartridge_unloaded_in_the_drive() {
    let fixture = Fixture::given().await;
    let library = &fixture.library;
    library.inject(Fault::DriveWillNotLoad { drive: DRIVE_EMPTY }, 1).expect("inject");
    library.move_medium(SLOT_FULL, DRIVE_EMPTY).await.expect("move");

    assert_eq!(sense(library.load(DRIVE_UNLOADED).await), OK, "another drive is not affected");
    assert_eq!(sense(library.load(DRIVE_EMPTY).await), LOAD_EJECT);
    assert_eq!(library.pending_faults(), vec![]);
    assert_eq!(library.locate(A3), Some(DRIVE_EMPTY), "the cartridge stays in the drive");
    assert!(!fixture.state().elements[&DRIVE_EMPTY].loaded, "unloaded");
    assert_eq!(sense(library.move_medium(DRIVE_EMPTY, SLOT_EMPTY).await), OK, "the robot can take it back");
}

#[tokio::test]
async fn inject_table() {
    let fixture = Fixture::new();
    let library = &fixture.library;
    for drive in [SLOT_FULL, PORT, TRANSPORT, NOWHERE] {
        for fault in [Fault::DriveWillNotLoad { drive }, Fault::DriveWillNotUnload { drive }] {
            assert_eq!(sense(library.inject(fault.clone(), 1)), INVALID, "{fault:?}");
        }
    }
    let file = fixture.file();
    library.inject(Fault::RobotFailure, 0).expect("a zero count of an unarmed fault changes nothing");
    assert_eq!(library.pending_faults(), vec![]);
    assert_eq!(fixture.file(), file);

    library.inject(Fault::RobotFailure, 2).expect("inject");
    library.inject(Fault::DriveWillNotLoad { drive: DRIVE_EMPTY }, 1).expect("inject");
    library.inject(Fault::RobotFailure, 3).expect("counts add up");
    library.inject(Fault::RobotFailure, u32::MAX).expect("counts saturate");
    assert_eq!(
        library.pending_faults(),
        vec![(Fault::RobotFailure, u32::MAX), (Fault::DriveWillNotLoad { drive: DRIVE_EMPTY }, 1)]
    );
    // Regression: `sim fail ... --count 0` must disarm (it was a no-op).
    library.inject(Fault::RobotFailure, 0).expect("disarm");
    assert_eq!(library.pending_faults(), vec![(Fault::DriveWillNotLoad { drive: DRIVE_EMPTY }, 1)]);
}

#[tokio::test]
async fn faults_and_their_counts_survive_reopen() {
    let fixture = Fixture::given().await;
    fixture.library.inject(Fault::RobotFailure, 2).expect("inject");
    fixture.library.inject(Fault::DriveWillNotUnload { drive: DRIVE_LOADED }, 1).expect("inject");
    let fixture = fixture.reopen();
    assert_eq!(
        fixture.library.pending_faults(),
        vec![(Fault::RobotFailure, 2), (Fault::DriveWillNotUnload { drive: DRIVE_LOADED }, 1)]
    );

    assert_eq!(sense(fixture.library.move_medium(SLOT_FULL, SLOT_EMPTY).await), ROBOT);
    assert_eq!(sense(fixture.library.unload(DRIVE_LOADED).await), LOAD_EJECT);
    let fixture = fixture.reopen();
    assert_eq!(fixture.library.pending_faults(), vec![(Fault::RobotFailure, 1)], "consumption was persisted");
    assert_eq!(sense(fixture.library.move_medium(DRIVE_LOADED, SLOT_EMPTY).await), PREVENTED, "still loaded");
}

#[tokio::test]
async fn moves_and_loads_survive_reopen() {
    let fixture = Fixture::given().await;
    let state = fixture.state();
    let status = fixture.library.element_status().await.expect("status");
    let fixture = fixture.reopen();
    assert_eq!(fixture.state(), state, "contents and loaded flags");
    assert_eq!(fixture.library.element_status().await.expect("status"), status);
    assert_eq!(fixture.library.locate(A1), Some(DRIVE_LOADED));
    assert_eq!(fixture.library.locate(A2), Some(DRIVE_UNLOADED));
    assert_eq!(sense(fixture.library.move_medium(DRIVE_LOADED, SLOT_EMPTY).await), PREVENTED);
}

#[tokio::test]
async fn the_file_is_versioned_json_and_no_temporary_file_is_left() {
    let fixture = Fixture::given().await;
    let json: serde_json::Value = serde_json::from_slice(&fixture.file()).expect("the state file is JSON");
    assert_eq!(json["version"], 1);
    let names: Vec<_> = std::fs::read_dir(fixture.dir.path())
        .expect("list the directory")
        .map(|entry| entry.expect("a directory entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("library.json")]);
}

#[tokio::test]
async fn a_failed_write_leaves_memory_and_file_unchanged() {
    let fixture = Fixture::given().await;
    let (state, file) = (fixture.state(), fixture.file());
    let temp = fixture.dir.path().join("library.json.tmp");
    std::fs::create_dir(&temp).expect("block the temporary file with a directory");

    let moved = fixture.library.move_medium(SLOT_FULL, SLOT_EMPTY).await;
    assert!(matches!(moved, Err(AdapterError::Io(_))), "{moved:?}");
    assert!(matches!(fixture.library.inject(Fault::RobotFailure, 1), Err(AdapterError::Io(_))));
    assert_no_trace(&fixture, &state, &file, "failed write");

    std::fs::remove_dir(&temp).expect("unblock");
    fixture.library.move_medium(SLOT_FULL, SLOT_EMPTY).await.expect("move once writable");
    assert_eq!(fixture.reopen().library.locate(A3), Some(SLOT_EMPTY));
}

#[test]
fn create_refuses_an_existing_file_and_leaves_it_alone() {
    let fixture = Fixture::new();
    let file = fixture.file();
    let other = SimLayout { drives: vec![], slots: vec![], ports: vec![], transport: 7, first_blocks: BTreeMap::new() };
    let created = SimulatedLibrary::create(&fixture.path, &other, SimTimings::default());
    assert!(matches!(&created, Err(AdapterError::Io(m)) if m.contains("already exists")), "{created:?}");
    assert_eq!(fixture.file(), file);
}

#[test]
fn create_refuses_an_inconsistent_layout() {
    let barcode = |b: &str| Some(b.to_string());
    let table: Vec<(SimLayout, &str)> = vec![
        (
            SimLayout { drives: vec![5], slots: vec![], ports: vec![5], transport: 1, first_blocks: BTreeMap::new() },
            "address used twice",
        ),
        (
            SimLayout { drives: vec![1], slots: vec![], ports: vec![], transport: 1, first_blocks: BTreeMap::new() },
            "transport address reused",
        ),
        (
            SimLayout {
                drives: vec![],
                slots: vec![(10, barcode(A1)), (11, barcode(A1))],
                ports: vec![],
                transport: 1,
                first_blocks: BTreeMap::new(),
            },
            "bar code twice",
        ),
        (
            SimLayout {
                drives: vec![],
                slots: vec![(10, barcode(""))],
                ports: vec![],
                transport: 1,
                first_blocks: BTreeMap::new(),
            },
            "empty bar code",
        ),
        (
            SimLayout {
                drives: vec![],
                slots: vec![(10, barcode("A 1"))],
                ports: vec![],
                transport: 1,
                first_blocks: BTreeMap::new(),
            },
            "space in bar code",
        ),
        (
            SimLayout {
                drives: vec![],
                slots: vec![(10, barcode(&"X".repeat(64)))],
                ports: vec![],
                transport: 1,
                first_blocks: BTreeMap::new(),
            },
            "bar code too long",
        ),
    ];
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (layout, what) in table {
        let path = dir.path().join("library.json");
        let created = SimulatedLibrary::create(&path, &layout, SimTimings::default());
        assert!(
            matches!(&created, Err(AdapterError::Io(m)) if m.contains("invalid simulator layout")),
            "{what}: {created:?}"
        );
        assert!(!path.exists(), "{what}: no file was written");
    }
}

#[test]
fn open_reports_a_missing_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let opened = SimulatedLibrary::open(&dir.path().join("absent.json"), SimTimings::default());
    assert!(matches!(&opened, Err(AdapterError::Io(m)) if m.contains("does not exist")), "{opened:?}");
}

/// The fixture's state file as JSON, for damaging.
fn json_of(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("valid JSON")
}

fn element_mut(json: &mut serde_json::Value, address: ElementAddress) -> &mut serde_json::Value {
    json["elements"]
        .as_array_mut()
        .expect("an element list")
        .iter_mut()
        .find(|e| e["address"] == address)
        .expect("the element is in the file")
}

#[test]
fn open_reports_a_damaged_file() {
    let fixture = Fixture::new();
    let valid = fixture.file();
    let damage = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut json = json_of(&fixture.path);
        f(&mut json);
        serde_json::to_vec(&json).expect("encode")
    };
    #[rustfmt::skip]
    let table: Vec<(Vec<u8>, &str, &str)> = vec![
        (b"not json".to_vec(), "damaged", "not JSON"),
        (Vec::new(), "damaged", "empty file"),
        (valid[..valid.len() / 2].to_vec(), "damaged", "torn write"),
        (vec![0xFF; 64], "damaged", "binary garbage"),
        (damage(&|j| j["version"] = 2.into()), "version 2", "another version"),
        (damage(&|j| { j.as_object_mut().expect("an object").remove("version"); }), "damaged", "no version"),
        (damage(&|j| { j.as_object_mut().expect("an object").remove("elements"); }), "damaged", "no elements"),
        (damage(&|j| element_mut(j, SLOT_EMPTY)["barcode"] = A1.into()), "two elements", "bar code twice"),
        (damage(&|j| element_mut(j, SLOT_FULL)["loaded"] = true.into()), "loaded", "a loaded slot"),
        (damage(&|j| element_mut(j, DRIVE_EMPTY)["loaded"] = true.into()), "loaded", "a loaded empty drive"),
        (damage(&|j| element_mut(j, TRANSPORT)["barcode"] = "T1".into()), "transport", "a full transport"),
        (damage(&|j| element_mut(j, TRANSPORT)["kind"] = "Storage".into()), "transport", "no transport"),
        (damage(&|j| element_mut(j, PORT)["address"] = SLOT_FULL.into()), "twice", "an address twice"),
        (damage(&|j| element_mut(j, PORT)["address"] = 70_000.into()), "damaged", "an address out of range"),
        (damage(&|j| j["faults"] = serde_json::json!([{ "fault": "RobotFailure", "count": 0 }])), "zero count", "a spent fault"),
        (damage(&|j| j["faults"] = serde_json::json!([{ "fault": { "DriveWillNotLoad": { "drive": SLOT_FULL } }, "count": 1 }])), "not a drive", "a fault on a slot"),
        (damage(&|j| j["faults"] = serde_json::json!([{ "fault": "Lightning", "count": 1 }])), "damaged", "an unknown fault"),
    ];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("damaged.json");
    for (bytes, needle, what) in table {
        std::fs::write(&path, &bytes).expect("write the damaged file");
        let opened = SimulatedLibrary::open(&path, SimTimings::default());
        assert!(matches!(&opened, Err(AdapterError::Io(m)) if m.contains(needle)), "{what}: {opened:?}");
    }
    std::fs::write(&path, &valid).expect("write the intact file");
    SimulatedLibrary::open(&path, SimTimings::default()).expect("the undamaged file opens");
}

#[tokio::test]
async fn element_status_lists_every_element_sorted() {
    let fixture = Fixture::given().await;
    let status = fixture.library.element_status().await.expect("status");
    let summary: Vec<_> = status.iter().map(|s| (s.address, s.kind, s.full, s.barcode.as_deref())).collect();
    use ElementKind::*;
    #[rustfmt::skip]
    assert_eq!(summary, vec![
        (TRANSPORT, Transport, false, None),
        (PORT, ImportExport, false, None),
        (DRIVE_LOADED, DataTransfer, true, Some(A1)),
        (DRIVE_UNLOADED, DataTransfer, true, Some(A2)),
        (DRIVE_EMPTY, DataTransfer, false, None),
        (SLOT_EMPTIED_1, Storage, false, None),
        (SLOT_EMPTIED_2, Storage, false, None),
        (SLOT_FULL, Storage, true, Some(A3)),
        (SLOT_EMPTY, Storage, false, None),
    ]);
}

#[tokio::test]
async fn operator_insert_table() {
    #[rustfmt::skip]
    let table: &[(ElementAddress, &str, Option<SenseData>, &str)] = &[
        (SLOT_EMPTY, "B00001L6", INVALID, "a slot is no drive"),
        (PORT, "B00001L6", INVALID, "a port is no drive"),
        (NOWHERE, "B00001L6", INVALID, "unknown address"),
        (DRIVE_UNLOADED, "B00001L6", FULL, "full drive"),
        (DRIVE_UNLOADED, A3, FULL, "fullness checked before the bar code"),
        (DRIVE_EMPTY, A3, Some(INVALID_PARAMETER), "bar code already in the library"),
        (DRIVE_EMPTY, "", Some(INVALID_PARAMETER), "empty bar code"),
        (DRIVE_EMPTY, "B 1", Some(INVALID_PARAMETER), "space in bar code"),
        (DRIVE_EMPTY, "B00001L6", OK, "empty drive"),
    ];
    for &(drive, barcode, expected, what) in table {
        let fixture = Fixture::given().await;
        let (state, file) = (fixture.state(), fixture.file());
        assert_eq!(sense(fixture.library.operator_insert(drive, barcode)), expected, "{what}");
        if expected.is_some() {
            assert_no_trace(&fixture, &state, &file, what);
        } else {
            let fixture = fixture.reopen();
            assert_eq!(fixture.library.locate(barcode), Some(drive), "{what}");
            let moved = fixture.library.move_medium(drive, SLOT_EMPTY).await;
            assert_eq!(sense(moved), PREVENTED, "{what}: an inserted tape is loaded");
        }
    }
}

#[tokio::test]
async fn operator_remove_table() {
    #[rustfmt::skip]
    let table: &[(ElementAddress, Result<&str, SenseData>, &str)] = &[
        (SLOT_FULL, Err(SenseData::INVALID_ELEMENT), "a slot is no drive"),
        (NOWHERE, Err(SenseData::INVALID_ELEMENT), "unknown address"),
        (DRIVE_EMPTY, Err(SenseData::SOURCE_EMPTY), "empty drive"),
        (DRIVE_LOADED, Ok(A1), "loaded drive: the operator ejects first"),
        (DRIVE_UNLOADED, Ok(A2), "unloaded drive"),
    ];
    for &(drive, expected, what) in table {
        let fixture = Fixture::given().await;
        let (state, file) = (fixture.state(), fixture.file());
        let got = fixture.library.operator_remove(drive).map_err(|e| e.sense().expect("a CHECK CONDITION"));
        assert_eq!(got.as_deref().map_err(|s| *s), expected, "{what}");
        match expected {
            Err(_) => assert_no_trace(&fixture, &state, &file, what),
            Ok(barcode) => {
                let fixture = fixture.reopen();
                assert_eq!(fixture.library.locate(barcode), None, "{what}: gone from the library");
                assert_eq!(
                    fixture.state().elements[&drive],
                    Element { kind: ElementKind::DataTransfer, barcode: None, loaded: false }
                );
            }
        }
    }
}

#[tokio::test]
async fn operator_fill_and_empty_port_table() {
    #[rustfmt::skip]
    let table: &[(ElementAddress, &str, Option<SenseData>, &str)] = &[
        (SLOT_EMPTY, "B00001L6", INVALID, "a slot is no port"),
        (DRIVE_EMPTY, "B00001L6", INVALID, "a drive is no port"),
        (NOWHERE, "B00001L6", INVALID, "unknown address"),
        (PORT, A3, Some(INVALID_PARAMETER), "bar code already in the library"),
        (PORT, "B 1", Some(INVALID_PARAMETER), "space in bar code"),
        (PORT, "B00001L6", OK, "empty port"),
    ];
    for &(port, barcode, expected, what) in table {
        let fixture = Fixture::given().await;
        let (state, file) = (fixture.state(), fixture.file());
        assert_eq!(sense(fixture.library.operator_fill_port(port, barcode)), expected, "{what}");
        if expected.is_some() {
            assert_no_trace(&fixture, &state, &file, what);
            continue;
        }
        let fixture = fixture.reopen();
        assert_eq!(fixture.library.locate(barcode), Some(port), "{what}: durable");
        assert_eq!(sense(fixture.library.operator_fill_port(port, "B00002L6")), FULL, "a full port");
        // The robot takes it in, puts it back, and the operator empties the port.
        fixture.library.move_medium(port, SLOT_EMPTY).await.expect("inject move");
        assert_eq!(sense(fixture.library.operator_empty_port(port)), EMPTY, "an empty port");
        fixture.library.move_medium(SLOT_EMPTY, port).await.expect("eject move");
        assert_eq!(fixture.library.operator_empty_port(port).as_deref(), Ok(barcode));
        assert_eq!(fixture.reopen().library.locate(barcode), None, "{what}: gone from the library");
    }
}

#[tokio::test]
async fn operator_actions_ignore_armed_faults() {
    let fixture = Fixture::given().await;
    let library = &fixture.library;
    library.inject(Fault::DriveWillNotUnload { drive: DRIVE_LOADED }, 1).expect("inject");
    library.inject(Fault::DriveWillNotLoad { drive: DRIVE_LOADED }, 1).expect("inject");
    let pending = library.pending_faults();
    assert_eq!(library.operator_remove(DRIVE_LOADED).as_deref(), Ok(A1));
    library.operator_insert(DRIVE_LOADED, A1).expect("insert");
    assert_eq!(library.pending_faults(), pending);
}

#[test]
fn the_simulator_is_a_shareable_adapter() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SimulatedLibrary>();
    let fixture = Fixture::new();
    let _adapter: Arc<dyn HardwareAdapter> = Arc::new(fixture.library);
}

#[tokio::test(start_paused = true)]
async fn a_move_dropped_during_its_travel_leaves_the_old_truth() {
    let fixture = Fixture::new();
    let timings = SimTimings { move_ms: 60_000, load_ms: 60_000, unload_ms: 60_000, clean_ms: 60_000 };
    let library = SimulatedLibrary::open(&fixture.path, timings).expect("open");
    let (state, file) = (fixture.state(), fixture.file());

    let cut = tokio::time::timeout(Duration::from_secs(1), library.move_medium(SLOT_FULL, SLOT_EMPTY)).await;
    assert!(cut.is_err(), "the travel takes a minute");
    assert_eq!(*library.lock(), state);
    assert_eq!(fixture.file(), file);

    library.move_medium(SLOT_FULL, DRIVE_EMPTY).await.expect("a whole travel");
    let cut = tokio::time::timeout(Duration::from_secs(1), library.load(DRIVE_EMPTY)).await;
    assert!(cut.is_err(), "loading takes a minute");
    assert!(!library.lock().elements[&DRIVE_EMPTY].loaded);
    library.load(DRIVE_EMPTY).await.expect("a whole load");
    assert!(library.lock().elements[&DRIVE_EMPTY].loaded);
    drop(library);
    assert_eq!(fixture.reopen().library.locate(A3), Some(DRIVE_EMPTY));
}

#[tokio::test(start_paused = true)]
async fn the_one_robot_moves_one_cartridge_at_a_time() {
    let fixture = Fixture::new();
    let timings = SimTimings { move_ms: 10_000, ..SimTimings::default() };
    let library = SimulatedLibrary::open(&fixture.path, timings).expect("open");
    let start = tokio::time::Instant::now();
    let (first, second) =
        tokio::join!(library.move_medium(SLOT_FULL, SLOT_EMPTY), library.move_medium(SLOT_EMPTIED_1, DRIVE_EMPTY));
    first.expect("first move");
    second.expect("second move");
    assert_eq!(start.elapsed(), Duration::from_secs(20), "virtual time: two travels in sequence");
}

/// xorshift64*: a tiny deterministic generator for the random sequences.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).expect("n fits in u64")).expect("below n")
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// All bar codes in the library, sorted; fails if one is in two elements.
async fn inventory(library: &SimulatedLibrary, seed: u64) -> Vec<String> {
    let status = library.element_status().await.expect("status");
    let mut barcodes: Vec<String> = status.into_iter().filter_map(|s| s.barcode).collect();
    barcodes.sort();
    let before = barcodes.len();
    barcodes.dedup();
    assert_eq!(barcodes.len(), before, "seed {seed}: a bar code is in two elements");
    barcodes
}

#[tokio::test]
async fn random_sequences_conserve_cartridges() {
    const SEEDS: u64 = 300;
    const STEPS: usize = 40;
    let random_layout = SimLayout {
        drives: vec![256, 257, 258],
        slots: vec![
            (1000, Some("R1".to_string())),
            (1001, Some("R2".to_string())),
            (1002, Some("R3".to_string())),
            (1003, Some("R4".to_string())),
            (1004, None),
            (1005, None),
        ],
        ports: vec![16],
        transport: 1,
        first_blocks: BTreeMap::new(),
    };
    let drives = [256, 257, 258, 1000, NOWHERE]; // with some that are not drives
    let addresses = [1, 16, 256, 257, 258, 1000, 1001, 1002, 1003, 1004, 1005, NOWHERE];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (mut moved, mut loaded, mut unloaded, mut faulted) = (0, 0, 0, 0);
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let path = dir.path().join(format!("library-{seed}.json"));
        let library = SimulatedLibrary::create(&path, &random_layout, SimTimings::default()).expect("create");
        let initial = inventory(&library, seed).await;
        for step in 0..STEPS {
            let where_ = |l: &SimulatedLibrary, a| l.lock().elements.get(&a).and_then(|e| e.barcode.clone());
            match rng.below(10) {
                0..=5 => {
                    let (source, destination) = (rng.pick(&addresses), rng.pick(&addresses));
                    let carried = where_(&library, source);
                    let result = library.move_medium(source, destination).await;
                    faulted += usize::from(sense(result.clone()) == ROBOT);
                    if result.is_ok() {
                        moved += 1;
                        let carried = carried.expect("a successful move carried a cartridge");
                        assert_eq!(library.locate(&carried), Some(destination), "seed {seed} step {step}");
                    }
                }
                6 | 7 => {
                    let drive = rng.pick(&drives);
                    let result = library.load(drive).await;
                    faulted += usize::from(sense(result.clone()) == LOAD_EJECT);
                    if result.is_ok() {
                        loaded += 1;
                        assert!(library.lock().elements[&drive].loaded, "seed {seed} step {step}");
                    }
                }
                8 => {
                    let drive = rng.pick(&drives);
                    let result = library.unload(drive).await;
                    faulted += usize::from(sense(result.clone()) == LOAD_EJECT);
                    if result.is_ok() {
                        unloaded += 1;
                        assert!(!library.lock().elements[&drive].loaded, "seed {seed} step {step}");
                    }
                }
                _ => {
                    let fault = match rng.below(3) {
                        0 => Fault::RobotFailure,
                        1 => Fault::DriveWillNotLoad { drive: rng.pick(&drives) },
                        _ => Fault::DriveWillNotUnload { drive: rng.pick(&drives) },
                    };
                    let count = u32::try_from(rng.below(3)).expect("small");
                    let _ = library.inject(fault, count); // a fault on a non-drive is refused
                }
            }
            assert_eq!(inventory(&library, seed).await, initial, "seed {seed} step {step}: cartridges changed");
            library.lock().validate().unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
        }
        let state = library.lock().clone();
        drop(library);
        let reopened = SimulatedLibrary::open(&path, SimTimings::default()).expect("reopen");
        assert_eq!(*reopened.lock(), state, "seed {seed}: the file holds the last state");
    }
    // The sequences must exercise the paths, not only refusals.
    for (count, what) in [(moved, "moves"), (loaded, "loads"), (unloaded, "unloads"), (faulted, "faults fired")] {
        assert!(count >= 50, "only {count} {what} in {SEEDS} sequences");
    }
}

/// A cartridge's first block: read only when loaded (blank until written),
/// written and read back, kept across a reopen of the state file, and a
/// port filled with a labelled cartridge.
#[tokio::test]
async fn first_blocks_are_read_and_written_through_a_loaded_drive() {
    let fixture = Fixture::given().await;
    let library = &fixture.library;
    assert_eq!(sense(library.read_first_block(DRIVE_EMPTY).await), NOT_PRESENT);
    assert_eq!(sense(library.read_first_block(DRIVE_UNLOADED).await), Some(SenseData::NOT_LOADED));
    assert_eq!(sense(library.read_first_block(SLOT_FULL).await), Some(SenseData::INVALID_ELEMENT));
    assert_eq!(library.read_first_block(DRIVE_LOADED).await.expect("read"), None, "blank");
    assert!(sense(library.write_first_block(DRIVE_LOADED, &[]).await).is_some(), "an empty block is refused");
    let too_long = vec![b'x'; FIRST_BLOCK_MAX + 1];
    assert!(sense(library.write_first_block(DRIVE_LOADED, &too_long).await).is_some());
    library.write_first_block(DRIVE_LOADED, b"VOL1 label").await.expect("write");
    assert_eq!(library.read_first_block(DRIVE_LOADED).await.expect("read").as_deref(), Some(&b"VOL1 label"[..]));
    library.operator_fill_port_with(PORT, "LBL001L8", Some(b"data".to_vec())).expect("fill");
    let reopened = SimulatedLibrary::open(&fixture.path, SimTimings::default()).expect("reopen");
    let state = reopened.lock().clone();
    assert_eq!(state.first_blocks.get(A1).map(Vec::as_slice), Some(&b"VOL1 label"[..]));
    assert_eq!(state.first_blocks.get("LBL001L8").map(Vec::as_slice), Some(&b"data"[..]));
}
