//! The library simulator: a [`HardwareAdapter`] over its own physical truth.
//!
//! [`SimulatedLibrary`] owns the physical state of one simulated library:
//! which cartridge is in which element, whether each drive has its tape
//! threaded (loaded), and which faults are armed. It keeps that state in one
//! JSON file of its own (normally beside rsm's log) and **never reads or
//! derives anything from the event log**: after a crash the engine asks it
//! where cartridges really are ([`HardwareAdapter::element_status`]), exactly
//! as it would ask a real changer.
//!
//! *Invariant:* every state change (a movement, a load, an unload, an
//! operator action, a fault armed or consumed) is durable before the call
//! returns: the new state goes to a temporary file in the same directory,
//! which is fsynced, renamed over the real file, and the directory fsynced.
//! The in-memory state is replaced only once the new file is in place, so
//! memory never runs ahead of the file.
//!
//! *Invariant:* a bar code is in at most one element, the transport is
//! always empty, and only a full drive can be loaded. The number of
//! cartridges changes only through the operator's hands:
//! [`SimulatedLibrary::operator_insert`], [`SimulatedLibrary::operator_remove`]
//! (a stand-alone drive), [`SimulatedLibrary::operator_fill_port`] and
//! [`SimulatedLibrary::operator_empty_port`] (an import/export element).
//!
//! *Invariant:* a timed operation sleeps first and then checks and changes
//! the state in one step without an `.await`, so a process killed (or a
//! future dropped) during the travel leaves the old truth, and a finished
//! travel is either wholly on disk or absent.
//!
//! The file I/O (including fsync) runs on the calling thread: this is a test
//! device, and staying on the caller keeps a current-thread simulation
//! deterministic. A real adapter issues its ioctls on a blocking thread.
//!
//! Two [`SimulatedLibrary`] values must not be opened on the same file at
//! once: each would overwrite the other's truth.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::adapter::{
    AdapterError, ElementAddress, ElementKind, ElementStatus, HardwareAdapter, SenseData, FIRST_BLOCK_MAX,
};

/// The version of the state file this build writes and reads.
const FORMAT_VERSION: u32 = 1;

/// Longest bar code accepted, in characters. Real volume tags are at most 32
/// bytes (SMC-3), but the simulator accepts whatever rsm's model accepts
/// (NTMS allows 63 characters), so that no test bar code is refused here
/// that the model took.
const BARCODE_LEN_MAX: usize = 63;

/// ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST (05/26/00): what an
/// operator action with a malformed bar code, or one already in the library,
/// is refused with.
const INVALID_PARAMETER: SenseData = SenseData { key: 0x5, asc: 0x26, ascq: 0x00 };

/// The physical make-up of a new simulated library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimLayout {
    /// Addresses of the drives (data transfer elements); they start empty.
    pub drives: Vec<ElementAddress>,
    /// Addresses of the slots (storage elements) with the bar code of the
    /// cartridge each starts with, if any.
    pub slots: Vec<(ElementAddress, Option<String>)>,
    /// Addresses of the mail slots (import/export elements); they start empty.
    pub ports: Vec<ElementAddress>,
    /// Address of the robot's gripper (medium transport element).
    pub transport: ElementAddress,
    /// The first block written on each cartridge, by bar code; a cartridge
    /// not listed is blank.
    pub first_blocks: BTreeMap<String, Vec<u8>>,
}

/// How long the simulated mechanics take. All zero (the default) for tests;
/// a wait happens only when its value is greater than zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimTimings {
    /// Travel time of one MOVE MEDIUM.
    pub move_ms: u64,
    /// Time a drive takes to thread a tape.
    pub load_ms: u64,
    /// Time a drive takes to rewind and eject a tape.
    pub unload_ms: u64,
    /// Time a drive takes to clean its heads with a cleaning cartridge.
    #[serde(default)]
    pub clean_ms: u64,
}

/// A fault armed with [`SimulatedLibrary::inject`]. Each fires on a call that
/// passes the ILLEGAL REQUEST and NOT READY checks, and consumes one count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// The next MOVE MEDIUM fails with [`SenseData::ROBOT_FAILURE`]; nothing moves.
    RobotFailure,
    /// The next unload of `drive` fails with [`SenseData::LOAD_EJECT_FAILED`];
    /// the tape stays loaded.
    DriveWillNotUnload {
        /// The drive that will not unload.
        drive: ElementAddress,
    },
    /// The next load of `drive` fails with [`SenseData::LOAD_EJECT_FAILED`];
    /// the cartridge stays in the drive, unloaded.
    DriveWillNotLoad {
        /// The drive that will not load.
        drive: ElementAddress,
    },
}

/// A simulated tape library whose physical truth lives in its own JSON file.
///
/// ```
/// use rsm_hardware::{HardwareAdapter, SimLayout, SimTimings, SimulatedLibrary};
///
/// let dir = tempfile::tempdir().expect("a temporary directory");
/// let path = dir.path().join("library.json");
/// let layout = SimLayout {
///     drives: vec![256],
///     slots: vec![(1000, Some("A00001L6".to_string()))],
///     ports: vec![],
///     transport: 1,
///     first_blocks: Default::default(),
/// };
/// let library = SimulatedLibrary::create(&path, &layout, SimTimings::default())?;
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// runtime.block_on(library.move_medium(1000, 256))?;
/// drop(library);
///
/// // The truth survives the process.
/// let library = SimulatedLibrary::open(&path, SimTimings::default())?;
/// assert_eq!(library.locate("A00001L6"), Some(256));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SimulatedLibrary {
    /// The state file: the simulator's truth on disk (none for an in-memory
    /// library, whose truth lives as long as the value: the deterministic
    /// simulation keeps it across simulated crashes of the engine).
    path: Option<PathBuf>,
    /// The truth in memory, always equal to the file's content once a call
    /// returns. A std mutex: it is never held across an `.await`.
    state: Mutex<SimState>,
    /// How long each mechanical operation takes.
    timings: SimTimings,
    /// The one robot: MOVE MEDIUM commands travel one at a time, as in a
    /// changer with a single transport.
    robot: tokio::sync::Mutex<()>,
    /// Nanoseconds the robot spent moving (holding the transport): what
    /// "robot utilisation" is measured by.
    robot_busy_ns: std::sync::atomic::AtomicU64,
    /// The door is unlocked (PREVENT ALLOW MEDIUM REMOVAL allowed): the
    /// operator may reach every slot and the robot does not move. Not in
    /// the state file: the engine sets it again from its views at start.
    door_unlocked: std::sync::atomic::AtomicBool,
}

impl SimulatedLibrary {
    /// Creates a library with `layout` and writes its state file at `path`.
    ///
    /// Fails with [`AdapterError::Io`] when `path` already exists, when the
    /// file cannot be written, or when the layout is inconsistent (an address
    /// used twice, a bar code used twice or malformed).
    pub fn create(path: &Path, layout: &SimLayout, timings: SimTimings) -> Result<Self, AdapterError> {
        let state = SimState::from_layout(layout)
            .map_err(|reason| AdapterError::Io(format!("invalid simulator layout: {reason}")))?;
        write_new(path, &state.encode()?)?;
        Ok(Self::with_state(path, state, timings))
    }

    /// Opens the library whose state file is at `path`.
    ///
    /// A missing, unreadable or damaged file (not JSON, another version, or
    /// contents that break the physical invariants) is an
    /// [`AdapterError::Io`] saying which.
    pub fn open(path: &Path, timings: SimTimings) -> Result<Self, AdapterError> {
        let bytes = fs::read(path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                AdapterError::Io(format!("simulator state file {} does not exist", path.display()))
            } else {
                AdapterError::Io(format!("cannot read simulator state file {}: {e}", path.display()))
            }
        })?;
        let state = SimState::decode(&bytes).map_err(|reason| {
            AdapterError::Io(format!("simulator state file {} is damaged: {reason}", path.display()))
        })?;
        Ok(Self::with_state(path, state, timings))
    }

    /// A library whose truth is kept in memory only (no file): for seeded
    /// simulations, where the "hardware" outlives every simulated crash.
    pub fn in_memory(layout: &SimLayout, timings: SimTimings) -> Result<Self, AdapterError> {
        let state = SimState::from_layout(layout)
            .map_err(|reason| AdapterError::Io(format!("invalid simulator layout: {reason}")))?;
        Ok(SimulatedLibrary {
            path: None,
            state: Mutex::new(state),
            timings,
            robot: tokio::sync::Mutex::new(()),
            robot_busy_ns: Default::default(),
            door_unlocked: Default::default(),
        })
    }

    fn with_state(path: &Path, state: SimState, timings: SimTimings) -> Self {
        SimulatedLibrary {
            path: Some(path.to_path_buf()),
            state: Mutex::new(state),
            timings,
            robot: tokio::sync::Mutex::new(()),
            robot_busy_ns: Default::default(),
            door_unlocked: Default::default(),
        }
    }

    /// How long the robot has spent moving cartridges since this value was made.
    pub fn robot_busy(&self) -> Duration {
        Duration::from_nanos(self.robot_busy_ns.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Arms `fault` for its next `count` occurrences (added to any count
    /// already pending for the same fault); a `count` of zero disarms it.
    /// Persisted: pending faults survive a restart.
    ///
    /// A drive fault naming an address that is not a drive is refused with
    /// [`SenseData::INVALID_ELEMENT`].
    pub fn inject(&self, fault: Fault, count: u32) -> Result<(), AdapterError> {
        self.mutate(|state| state.inject(fault, count))
    }

    /// The faults still armed, in the order they were first injected, with
    /// their remaining counts.
    pub fn pending_faults(&self) -> Vec<(Fault, u32)> {
        self.lock().faults.clone()
    }

    /// The operator puts a cartridge into a stand-alone drive, which threads
    /// it: afterwards the drive is full and loaded.
    ///
    /// Checks, in order: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`];
    /// the drive is full → [`SenseData::DESTINATION_FULL`]; the bar code is
    /// malformed (empty, longer than 63 characters, a control character or a
    /// space in it) or already in the library → ILLEGAL REQUEST, INVALID
    /// FIELD IN PARAMETER LIST (05/26/00). Armed faults do not apply to
    /// operator actions.
    pub fn operator_insert(&self, drive: ElementAddress, barcode: &str) -> Result<(), AdapterError> {
        self.mutate(|state| state.operator_insert(drive, barcode))
    }

    /// The operator takes the cartridge out of a stand-alone drive (ejecting
    /// it first if loaded) and reads its bar code, which is returned.
    ///
    /// Checks, in order: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`];
    /// the drive is empty → [`SenseData::SOURCE_EMPTY`]. Armed faults do not
    /// apply to operator actions.
    pub fn operator_remove(&self, drive: ElementAddress) -> Result<String, AdapterError> {
        self.mutate(|state| state.operator_remove(drive))
    }

    /// The operator puts a cartridge in an import/export element (the mail
    /// slot), for an inject to take in.
    ///
    /// Checks, in order: `port` is not an import/export element →
    /// [`SenseData::INVALID_ELEMENT`]; it is full → [`SenseData::DESTINATION_FULL`];
    /// the bar code is malformed or already in the library → ILLEGAL
    /// REQUEST, INVALID FIELD IN PARAMETER LIST (05/26/00).
    pub fn operator_fill_port(&self, port: ElementAddress, barcode: &str) -> Result<(), AdapterError> {
        self.operator_fill_port_with(port, barcode, None)
    }

    /// [`Self::operator_fill_port`] with a cartridge whose first block is
    /// `first_block` (none: blank). An empty block, or one larger than
    /// [`FIRST_BLOCK_MAX`], is refused as a malformed bar code is.
    pub fn operator_fill_port_with(
        &self,
        port: ElementAddress,
        barcode: &str,
        first_block: Option<Vec<u8>>,
    ) -> Result<(), AdapterError> {
        self.mutate(|state| {
            if first_block.as_ref().is_some_and(|b| b.is_empty() || b.len() > FIRST_BLOCK_MAX) {
                return Err(check(|| format!("OPERATOR FILL {barcode:?} -> {port}"), INVALID_PARAMETER));
            }
            state.operator_fill_port(port, barcode)?;
            match first_block {
                Some(block) => state.first_blocks.insert(barcode.to_string(), block),
                None => state.first_blocks.remove(barcode),
            };
            Ok(())
        })
    }

    /// The operator takes the cartridge out of an import/export element (an
    /// ejected one); its bar code is returned.
    ///
    /// Checks, in order: `port` is not an import/export element →
    /// [`SenseData::INVALID_ELEMENT`]; it is empty → [`SenseData::SOURCE_EMPTY`].
    pub fn operator_empty_port(&self, port: ElementAddress) -> Result<String, AdapterError> {
        self.mutate(|state| state.operator_empty_port(port))
    }

    /// The bar code of the cartridge at `address`, if the element is full.
    pub fn locate_at(&self, address: ElementAddress) -> Option<String> {
        self.lock().elements.get(&address).and_then(|e| e.barcode.clone())
    }

    /// The operator pulls a drive out of the library (for service): its
    /// element is gone from READ ELEMENT STATUS, and faults armed for it with it.
    ///
    /// Checks, in order: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`];
    /// it holds a cartridge → [`SenseData::REMOVAL_PREVENTED`].
    pub fn operator_pull_drive(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        let operation = || format!("OPERATOR PULL DRIVE {drive}");
        self.mutate(|state| {
            let Some(element) = state.drive(drive) else { return Err(check(operation, SenseData::INVALID_ELEMENT)) };
            if element.barcode.is_some() {
                return Err(check(operation, SenseData::REMOVAL_PREVENTED));
            }
            state.elements.remove(&drive);
            state.faults.retain(|(fault, _)| {
                !matches!(fault, Fault::DriveWillNotLoad { drive: d } | Fault::DriveWillNotUnload { drive: d } if *d == drive)
            });
            Ok(())
        })
    }

    /// The drive asks to be cleaned (as a real drive's "cleaning requested"
    /// sense does) until a cleaning cartridge has been through it.
    /// Checks: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`].
    pub fn set_needs_cleaning(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        self.mutate(|state| {
            if state.drive(drive).is_none() {
                return Err(check(|| format!("NEEDS CLEANING {drive}"), SenseData::INVALID_ELEMENT));
            }
            state.needs_cleaning.insert(drive);
            Ok(())
        })
    }

    /// True while the door is unlocked for the operator.
    pub fn door_unlocked(&self) -> bool {
        self.door_unlocked.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Through the open door, the operator puts a cartridge in a storage slot.
    ///
    /// Checks, in order: the door is locked → [`SenseData::REMOVAL_PREVENTED`];
    /// `slot` is not a storage element → [`SenseData::INVALID_ELEMENT`]; it
    /// is full → [`SenseData::DESTINATION_FULL`]; the bar code is malformed
    /// or already in the library → ILLEGAL REQUEST (05/26/00).
    pub fn operator_put_in_slot(&self, slot: ElementAddress, barcode: &str) -> Result<(), AdapterError> {
        let operation = || format!("OPERATOR PUT {barcode:?} -> {slot}");
        if !self.door_unlocked() {
            return Err(check(operation, SenseData::REMOVAL_PREVENTED));
        }
        self.mutate(|state| state.operator_put(slot, ElementKind::Storage, barcode, operation))
    }

    /// Through the open door, the operator takes the cartridge out of a
    /// storage slot; its bar code is returned.
    ///
    /// Checks, in order: the door is locked → [`SenseData::REMOVAL_PREVENTED`];
    /// `slot` is not a storage element → [`SenseData::INVALID_ELEMENT`]; it
    /// is empty → [`SenseData::SOURCE_EMPTY`].
    pub fn operator_take_from_slot(&self, slot: ElementAddress) -> Result<String, AdapterError> {
        let operation = || format!("OPERATOR TAKE {slot}");
        if !self.door_unlocked() {
            return Err(check(operation, SenseData::REMOVAL_PREVENTED));
        }
        self.mutate(|state| {
            let Some(element) = state.elements.get_mut(&slot).filter(|e| e.kind == ElementKind::Storage) else {
                return Err(check(operation, SenseData::INVALID_ELEMENT));
            };
            element.barcode.take().ok_or_else(|| check(operation, SenseData::SOURCE_EMPTY))
        })
    }

    /// Where a bar code is (element address), for tests and reconciliation.
    pub fn locate(&self, barcode: &str) -> Option<ElementAddress> {
        self.lock()
            .elements
            .iter()
            .find(|(_, element)| element.barcode.as_deref() == Some(barcode))
            .map(|(address, _)| *address)
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic while the lock is held cannot leave a half-changed state:
        // the state is only ever replaced whole (see `mutate`), so a poisoned
        // lock still guards a consistent truth.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `operation` on a copy of the state and, if the copy changed
    /// (even when the operation failed, e.g. a fault was consumed), persists
    /// it and only then makes it the state in memory.
    fn mutate<T>(&self, operation: impl FnOnce(&mut SimState) -> Result<T, AdapterError>) -> Result<T, AdapterError> {
        let mut guard = self.lock();
        let mut next = guard.clone();
        let outcome = operation(&mut next);
        if next != *guard {
            let Some(path) = &self.path else {
                *guard = next;
                return outcome;
            };
            let bytes = next.encode()?;
            match replace_file(path, &bytes) {
                Ok(()) => *guard = next,
                Err(WriteFailure { error, visible }) => {
                    // The file is the truth: once the rename happened, the new
                    // state is what a reopen would read.
                    if visible {
                        *guard = next;
                    }
                    return Err(error);
                }
            }
        }
        outcome
    }

    async fn travel(ms: u64) {
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}

#[async_trait]
impl HardwareAdapter for SimulatedLibrary {
    /// Checks, in order: the door is unlocked → [`SenseData::DOOR_OPEN`]
    /// (the robot stops while the operator may be inside); `source` or
    /// `destination` is not a slot, drive or port (the transport included)
    /// → [`SenseData::INVALID_ELEMENT`]; the
    /// source is empty → [`SenseData::SOURCE_EMPTY`]; the destination is full
    /// → [`SenseData::DESTINATION_FULL`]; the source is a drive whose tape is
    /// loaded → [`SenseData::REMOVAL_PREVENTED`]; a [`Fault::RobotFailure`]
    /// is armed → [`SenseData::ROBOT_FAILURE`] (one count consumed, nothing
    /// moves). A cartridge moved into a drive is not loaded.
    async fn move_medium(&self, source: ElementAddress, destination: ElementAddress) -> Result<(), AdapterError> {
        if self.door_unlocked() {
            return Err(check(|| format!("MOVE MEDIUM {source} -> {destination}"), SenseData::DOOR_OPEN));
        }
        let _robot = self.robot.lock().await;
        let started = std::time::Instant::now();
        Self::travel(self.timings.move_ms).await;
        let moved = self.mutate(|state| state.move_medium(source, destination));
        let busy = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.robot_busy_ns.fetch_add(busy, std::sync::atomic::Ordering::Relaxed);
        moved
    }

    /// Checks, in order: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`];
    /// the drive is empty → [`SenseData::MEDIUM_NOT_PRESENT`]; a
    /// [`Fault::DriveWillNotLoad`] is armed for it →
    /// [`SenseData::LOAD_EJECT_FAILED`] (the cartridge stays unloaded).
    /// Loading a loaded drive succeeds and changes nothing.
    async fn load(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        Self::travel(self.timings.load_ms).await;
        self.mutate(|state| state.load(drive))
    }

    /// Checks, in order: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`];
    /// the drive is empty → [`SenseData::MEDIUM_NOT_PRESENT`]; a
    /// [`Fault::DriveWillNotUnload`] is armed for it →
    /// [`SenseData::LOAD_EJECT_FAILED`] (the tape stays loaded). Unloading an
    /// unloaded drive succeeds and changes nothing.
    async fn unload(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        Self::travel(self.timings.unload_ms).await;
        self.mutate(|state| state.unload(drive))
    }

    /// Checks, in order: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`];
    /// it is empty → [`SenseData::MEDIUM_NOT_PRESENT`]; its cartridge is not
    /// loaded → [`SenseData::NOT_LOADED`].
    async fn read_first_block(&self, drive: ElementAddress) -> Result<Option<Vec<u8>>, AdapterError> {
        self.lock().read_first_block(drive)
    }

    /// As [`Self::read_first_block`]; an empty block, or one larger than
    /// [`FIRST_BLOCK_MAX`], is ILLEGAL REQUEST (05/26/00). Persisted before
    /// it returns.
    async fn write_first_block(&self, drive: ElementAddress, block: &[u8]) -> Result<(), AdapterError> {
        self.mutate(|state| state.write_first_block(drive, block))
    }

    /// Checks, in order: `drive` is not a drive → [`SenseData::INVALID_ELEMENT`];
    /// it is empty → [`SenseData::MEDIUM_NOT_PRESENT`]; its cartridge is
    /// threaded (a data tape, loaded) → [`SenseData::REMOVAL_PREVENTED`].
    /// The drive is clean: it no longer asks for cleaning.
    async fn clean(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        Self::travel(self.timings.clean_ms).await;
        self.mutate(|state| state.clean(drive))
    }

    /// The drives flagged with [`SimulatedLibrary::set_needs_cleaning`] and
    /// not cleaned since (asked again at every call, as a real drive keeps
    /// reporting it).
    async fn drives_needing_cleaning(&self) -> Result<Vec<ElementAddress>, AdapterError> {
        Ok(self.lock().needs_cleaning.iter().copied().collect())
    }

    /// The door is unlocked or locked: the flag the operator's hands and the robot obey.
    async fn allow_medium_removal(&self, allow: bool) -> Result<(), AdapterError> {
        self.door_unlocked.store(allow, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Every element, the transport included (always empty), sorted by address.
    async fn element_status(&self) -> Result<Vec<ElementStatus>, AdapterError> {
        Ok(self
            .lock()
            .elements
            .iter()
            .map(|(address, element)| ElementStatus {
                address: *address,
                kind: element.kind,
                full: element.barcode.is_some(),
                barcode: element.barcode.clone(),
            })
            .collect())
    }
}

/// The physical truth in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SimState {
    /// Every element by address (so element status comes out sorted).
    elements: BTreeMap<ElementAddress, Element>,
    /// Armed faults with their remaining counts (never zero), in injection order.
    faults: Vec<(Fault, u32)>,
    /// What is written at the start of each cartridge that is not blank,
    /// by bar code (a cartridge keeps its data while it is away).
    first_blocks: BTreeMap<String, Vec<u8>>,
    /// Drives that ask to be cleaned.
    needs_cleaning: BTreeSet<ElementAddress>,
}

/// One element's physical state.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Element {
    kind: ElementKind,
    /// The cartridge in it, by bar code.
    barcode: Option<String>,
    /// Drives only: the tape is threaded, so the robot cannot take it.
    loaded: bool,
}

/// The state file, version 1.
#[derive(Serialize, Deserialize)]
struct SimFile {
    version: u32,
    elements: Vec<ElementRecord>,
    faults: Vec<FaultRecord>,
    /// Absent in files written before cartridges had contents: all blank.
    #[serde(default)]
    first_blocks: BTreeMap<String, Vec<u8>>,
    /// Absent in files written before drives asked for cleaning: none does.
    #[serde(default)]
    needs_cleaning: BTreeSet<ElementAddress>,
}

#[derive(Serialize, Deserialize)]
struct ElementRecord {
    address: ElementAddress,
    kind: ElementKind,
    barcode: Option<String>,
    loaded: bool,
}

#[derive(Serialize, Deserialize)]
struct FaultRecord {
    fault: Fault,
    count: u32,
}

/// Read first, so that a file of another version is reported as such rather
/// than as a shape mismatch.
#[derive(Deserialize)]
struct VersionProbe {
    version: u32,
}

fn check(operation: impl FnOnce() -> String, sense: SenseData) -> AdapterError {
    AdapterError::Check { operation: operation(), sense }
}

/// Why a bar code cannot be a volume tag, if it cannot.
fn barcode_problem(barcode: &str) -> Option<String> {
    if barcode.is_empty() {
        Some("is empty".into())
    } else if barcode.chars().count() > BARCODE_LEN_MAX {
        Some(format!("is longer than {BARCODE_LEN_MAX} characters"))
    } else if barcode.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("holds a control character or a space".into())
    } else {
        None
    }
}

impl SimState {
    fn from_layout(layout: &SimLayout) -> Result<SimState, String> {
        let mut elements = BTreeMap::new();
        let all = std::iter::once((layout.transport, ElementKind::Transport, None))
            .chain(layout.drives.iter().map(|a| (*a, ElementKind::DataTransfer, None)))
            .chain(layout.slots.iter().map(|(a, b)| (*a, ElementKind::Storage, b.clone())))
            .chain(layout.ports.iter().map(|a| (*a, ElementKind::ImportExport, None)));
        for (address, kind, barcode) in all {
            let element = Element { kind, barcode, loaded: false };
            if elements.insert(address, element).is_some() {
                return Err(format!("element address {address} is used twice"));
            }
        }
        let state = SimState {
            elements,
            faults: Vec::new(),
            first_blocks: layout.first_blocks.clone(),
            needs_cleaning: BTreeSet::new(),
        };
        state.validate()?;
        Ok(state)
    }

    fn decode(bytes: &[u8]) -> Result<SimState, String> {
        let probe: VersionProbe = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if probe.version != FORMAT_VERSION {
            return Err(format!("it has version {}, this build reads version {FORMAT_VERSION}", probe.version));
        }
        let file: SimFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let mut elements = BTreeMap::new();
        for record in file.elements {
            let element = Element { kind: record.kind, barcode: record.barcode, loaded: record.loaded };
            if elements.insert(record.address, element).is_some() {
                return Err(format!("element address {} appears twice", record.address));
            }
        }
        let faults = file.faults.into_iter().map(|record| (record.fault, record.count)).collect();
        let state = SimState { elements, faults, first_blocks: file.first_blocks, needs_cleaning: file.needs_cleaning };
        state.validate()?;
        Ok(state)
    }

    fn encode(&self) -> Result<Vec<u8>, AdapterError> {
        let file = SimFile {
            version: FORMAT_VERSION,
            elements: self
                .elements
                .iter()
                .map(|(address, element)| ElementRecord {
                    address: *address,
                    kind: element.kind,
                    barcode: element.barcode.clone(),
                    loaded: element.loaded,
                })
                .collect(),
            faults: self
                .faults
                .iter()
                .map(|(fault, count)| FaultRecord { fault: fault.clone(), count: *count })
                .collect(),
            first_blocks: self.first_blocks.clone(),
            needs_cleaning: self.needs_cleaning.clone(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| AdapterError::Io(format!("cannot encode simulator state: {e}")))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The physical invariants, checked on every state read from outside.
    fn validate(&self) -> Result<(), String> {
        if let Some(a) = self.needs_cleaning.iter().find(|a| self.drive(**a).is_none()) {
            return Err(format!("element {a} needs cleaning but is no drive"));
        }
        let transports = self.elements.values().filter(|e| e.kind == ElementKind::Transport).count();
        if transports != 1 {
            return Err(format!("{transports} transport elements, expected exactly one"));
        }
        let mut seen = BTreeSet::new();
        for (address, element) in &self.elements {
            if let Some(barcode) = &element.barcode {
                if let Some(problem) = barcode_problem(barcode) {
                    return Err(format!("bar code {barcode:?} at element {address} {problem}"));
                }
                if !seen.insert(barcode.as_str()) {
                    return Err(format!("bar code {barcode} is in two elements"));
                }
                if element.kind == ElementKind::Transport {
                    return Err(format!("transport {address} holds a cartridge"));
                }
            }
            if element.loaded && (element.kind != ElementKind::DataTransfer || element.barcode.is_none()) {
                return Err(format!("element {address} is loaded but is not a full drive"));
            }
        }
        for (barcode, block) in &self.first_blocks {
            if block.is_empty() || block.len() > FIRST_BLOCK_MAX {
                return Err(format!("the first block of {barcode} has {} bytes (1 to {FIRST_BLOCK_MAX})", block.len()));
            }
        }
        for (fault, count) in &self.faults {
            if *count == 0 {
                return Err(format!("fault {fault:?} has a zero count"));
            }
            if let Fault::DriveWillNotLoad { drive } | Fault::DriveWillNotUnload { drive } = fault {
                if self.drive(*drive).is_none() {
                    return Err(format!("fault {fault:?} names element {drive}, which is not a drive"));
                }
            }
        }
        Ok(())
    }

    fn drive(&self, address: ElementAddress) -> Option<&Element> {
        self.elements.get(&address).filter(|e| e.kind == ElementKind::DataTransfer)
    }

    fn drive_mut(&mut self, address: ElementAddress) -> &mut Element {
        self.elements
            .get_mut(&address)
            .filter(|e| e.kind == ElementKind::DataTransfer)
            .expect("the caller checked that the address is a drive")
    }

    /// Consumes one count of `fault` if it is armed; says whether it was.
    fn fire(&mut self, fault: &Fault) -> bool {
        let Some(index) = self.faults.iter().position(|(armed, _)| armed == fault) else {
            return false;
        };
        let count = &mut self.faults[index].1;
        *count -= 1; // never zero while armed (validated and maintained)
        if *count == 0 {
            self.faults.remove(index);
        }
        true
    }

    fn inject(&mut self, fault: Fault, count: u32) -> Result<(), AdapterError> {
        if let Fault::DriveWillNotLoad { drive } | Fault::DriveWillNotUnload { drive } = &fault {
            if self.drive(*drive).is_none() {
                return Err(check(|| format!("INJECT {fault:?}"), SenseData::INVALID_ELEMENT));
            }
        }
        if count == 0 {
            self.faults.retain(|(armed, _)| *armed != fault);
            return Ok(());
        }
        match self.faults.iter_mut().find(|(armed, _)| *armed == fault) {
            Some((_, pending)) => *pending = pending.saturating_add(count),
            None => self.faults.push((fault, count)),
        }
        Ok(())
    }

    fn move_medium(&mut self, source: ElementAddress, destination: ElementAddress) -> Result<(), AdapterError> {
        let operation = || format!("MOVE MEDIUM {source} -> {destination}");
        let movable = |address| self.elements.get(&address).filter(|e| e.kind != ElementKind::Transport);
        let (Some(from), Some(to)) = (movable(source), movable(destination)) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        if from.barcode.is_none() {
            return Err(check(operation, SenseData::SOURCE_EMPTY));
        }
        if to.barcode.is_some() {
            return Err(check(operation, SenseData::DESTINATION_FULL));
        }
        if from.loaded {
            return Err(check(operation, SenseData::REMOVAL_PREVENTED));
        }
        if self.fire(&Fault::RobotFailure) {
            return Err(check(operation, SenseData::ROBOT_FAILURE));
        }
        let from = self.elements.get_mut(&source).expect("the source was checked to exist");
        let barcode = from.barcode.take();
        from.loaded = false;
        let to = self.elements.get_mut(&destination).expect("the destination was checked to exist");
        to.barcode = barcode;
        to.loaded = false;
        Ok(())
    }

    fn load(&mut self, drive: ElementAddress) -> Result<(), AdapterError> {
        let operation = || format!("LOAD {drive}");
        let Some(element) = self.drive(drive) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        if element.barcode.is_none() {
            return Err(check(operation, SenseData::MEDIUM_NOT_PRESENT));
        }
        if self.fire(&Fault::DriveWillNotLoad { drive }) {
            return Err(check(operation, SenseData::LOAD_EJECT_FAILED));
        }
        self.drive_mut(drive).loaded = true;
        Ok(())
    }

    fn unload(&mut self, drive: ElementAddress) -> Result<(), AdapterError> {
        let operation = || format!("UNLOAD {drive}");
        let Some(element) = self.drive(drive) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        if element.barcode.is_none() {
            return Err(check(operation, SenseData::MEDIUM_NOT_PRESENT));
        }
        if self.fire(&Fault::DriveWillNotUnload { drive }) {
            return Err(check(operation, SenseData::LOAD_EJECT_FAILED));
        }
        self.drive_mut(drive).loaded = false;
        Ok(())
    }

    fn clean(&mut self, drive: ElementAddress) -> Result<(), AdapterError> {
        let operation = || format!("CLEAN {drive}");
        let Some(element) = self.drive(drive) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        if element.barcode.is_none() {
            return Err(check(operation, SenseData::MEDIUM_NOT_PRESENT));
        }
        if element.loaded {
            return Err(check(operation, SenseData::REMOVAL_PREVENTED));
        }
        self.needs_cleaning.remove(&drive);
        Ok(())
    }

    fn operator_insert(&mut self, drive: ElementAddress, barcode: &str) -> Result<(), AdapterError> {
        let operation = || format!("OPERATOR INSERT {barcode:?} -> {drive}");
        let Some(element) = self.drive(drive) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        if element.barcode.is_some() {
            return Err(check(operation, SenseData::DESTINATION_FULL));
        }
        let duplicate = self.elements.values().any(|e| e.barcode.as_deref() == Some(barcode));
        if barcode_problem(barcode).is_some() || duplicate {
            return Err(check(operation, INVALID_PARAMETER));
        }
        let element = self.drive_mut(drive);
        element.barcode = Some(barcode.to_string());
        element.loaded = true;
        Ok(())
    }

    fn port_mut(&mut self, address: ElementAddress) -> Option<&mut Element> {
        self.elements.get_mut(&address).filter(|e| e.kind == ElementKind::ImportExport)
    }

    fn operator_fill_port(&mut self, port: ElementAddress, barcode: &str) -> Result<(), AdapterError> {
        self.operator_put(port, ElementKind::ImportExport, barcode, || format!("OPERATOR FILL {barcode:?} -> {port}"))
    }

    /// The operator's hand puts a cartridge in an element of `kind`: the
    /// element exists and is empty, the bar code is well formed and new.
    fn operator_put(
        &mut self,
        address: ElementAddress,
        kind: ElementKind,
        barcode: &str,
        operation: impl FnOnce() -> String,
    ) -> Result<(), AdapterError> {
        let duplicate = self.elements.values().any(|e| e.barcode.as_deref() == Some(barcode));
        let Some(element) = self.elements.get_mut(&address).filter(|e| e.kind == kind) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        if element.barcode.is_some() {
            return Err(check(operation, SenseData::DESTINATION_FULL));
        }
        if barcode_problem(barcode).is_some() || duplicate {
            return Err(check(operation, INVALID_PARAMETER));
        }
        element.barcode = Some(barcode.to_string());
        Ok(())
    }

    fn operator_empty_port(&mut self, port: ElementAddress) -> Result<String, AdapterError> {
        let operation = || format!("OPERATOR EMPTY {port}");
        let Some(element) = self.port_mut(port) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        element.barcode.take().ok_or_else(|| check(operation, SenseData::SOURCE_EMPTY))
    }

    /// The loaded cartridge of `drive`, or the sense of why there is none.
    fn loaded_in(&self, drive: ElementAddress, operation: impl FnOnce() -> String) -> Result<String, AdapterError> {
        let Some(element) = self.drive(drive) else {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        };
        match (&element.barcode, element.loaded) {
            (None, _) => Err(check(operation, SenseData::MEDIUM_NOT_PRESENT)),
            (Some(_), false) => Err(check(operation, SenseData::NOT_LOADED)),
            (Some(barcode), true) => Ok(barcode.clone()),
        }
    }

    fn read_first_block(&self, drive: ElementAddress) -> Result<Option<Vec<u8>>, AdapterError> {
        let barcode = self.loaded_in(drive, || format!("READ first block of {drive}"))?;
        Ok(self.first_blocks.get(&barcode).cloned())
    }

    fn write_first_block(&mut self, drive: ElementAddress, block: &[u8]) -> Result<(), AdapterError> {
        let operation = || format!("WRITE first block of {drive}");
        let barcode = self.loaded_in(drive, operation)?;
        if block.is_empty() || block.len() > FIRST_BLOCK_MAX {
            return Err(check(operation, INVALID_PARAMETER));
        }
        self.first_blocks.insert(barcode, block.to_vec());
        Ok(())
    }

    fn operator_remove(&mut self, drive: ElementAddress) -> Result<String, AdapterError> {
        let operation = || format!("OPERATOR REMOVE {drive}");
        if self.drive(drive).is_none() {
            return Err(check(operation, SenseData::INVALID_ELEMENT));
        }
        let element = self.drive_mut(drive);
        let Some(barcode) = element.barcode.take() else {
            return Err(check(operation, SenseData::SOURCE_EMPTY));
        };
        element.loaded = false;
        Ok(barcode)
    }
}

/// A failed write, and whether the real file already shows the new content.
struct WriteFailure {
    error: AdapterError,
    visible: bool,
}

fn io_error(what: &str, path: &Path, e: io::Error) -> AdapterError {
    AdapterError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// The temporary file beside `path` that a new state is written to first.
fn temp_path(path: &Path) -> Result<PathBuf, AdapterError> {
    let name = path
        .file_name()
        .ok_or_else(|| AdapterError::Io(format!("simulator state path {} names no file", path.display())))?;
    let mut temp = name.to_os_string();
    temp.push(".tmp");
    Ok(path.with_file_name(temp))
}

/// Writes `bytes` to the temporary file beside `path` and fsyncs it.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf, AdapterError> {
    let temp = temp_path(path)?;
    let written = File::create(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&temp); // best effort: a stale temp file is overwritten next time
        return Err(io_error("write", &temp, e));
    }
    Ok(temp)
}

/// Fsyncs the directory holding `path`, so that a rename or link in it is durable.
fn sync_parent(path: &Path) -> Result<(), AdapterError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        File::open(parent).and_then(|dir| dir.sync_all()).map_err(|e| io_error("sync directory", parent, e))?;
    }
    #[cfg(not(unix))]
    let _ = parent; // directories cannot be opened for fsync here
    Ok(())
}

/// Atomically replaces the file at `path` with `bytes`: temp file, fsync,
/// rename, fsync of the directory.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), WriteFailure> {
    let hidden = |error| WriteFailure { error, visible: false };
    let temp = write_temp(path, bytes).map_err(hidden)?;
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp); // best effort, as above
        return Err(hidden(io_error("replace", path, e)));
    }
    sync_parent(path).map_err(|error| WriteFailure { error, visible: true })
}

/// Writes `bytes` as a new file at `path`, whole or not at all, refusing to
/// replace an existing file: temp file, fsync, hard link to `path` (which
/// fails if it exists), fsync of the directory.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), AdapterError> {
    let temp = write_temp(path, bytes)?;
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp); // best effort: the link, if made, keeps the content
    match linked {
        Ok(()) => sync_parent(path),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(AdapterError::Io(format!("simulator state file {} already exists", path.display())))
        }
        Err(e) => Err(io_error("create", path, e)),
    }
}

#[cfg(test)]
#[path = "simulator_tests.rs"]
mod tests;
